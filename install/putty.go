package install

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
	"github.com/nbtunnel/nbtunnel/hostconf/putty"
)

// PuTTY keys InstallPutty sets.
const (
	keyProxyMethod  = "ProxyMethod"
	keyProxyType    = "ProxyType"
	keyProxyCommand = "ProxyTelnetCommand"
	keyProxyLocal   = "ProxyLocalhost"
	keyForwards     = "PortForwardings"
	// keyLogToTerm is PuTTY's "Print proxy diagnostics in the terminal
	// window" (Connection > Proxy): 0 yes, 1 no (the default when absent),
	// 2 only until the session starts. The link arrives after the session
	// started, so the hook sets 0: PuTTY then shows each line the hook
	// writes to stderr as "proxy: ..." in its window (plink on its stderr).
	keyLogToTerm = "ProxyLogToTerm"
	// keySaved holds the saved state inside the session for stores that
	// have no directory for a sidecar file (the Windows registry).
	keySaved = "NbtunnelSaved"
)

// puttyDefaultProxyCommand is PuTTY's default ProxyTelnetCommand, used when
// uninstalling a hook whose saved state was lost.
const puttyDefaultProxyCommand = `connect %host %port\n`

// ErrPuttyUnixSocket is returned by WritePuttyForward for a unix-socket
// target, which PuTTY cannot forward to.
var ErrPuttyUnixSocket = errors.New("PuTTY cannot forward to a unix socket")

// puttySaved is what nbtunnel remembers about a session it changed, so that
// UninstallPutty can restore it exactly. It lives in a sidecar file
// (PuTTY drops unknown keys when the user re-saves a session in its GUI)
// next to the session store: DIR/nbtunnel-saved/ESCAPED-NAME.
type puttySaved struct {
	Session string `json:"session"`
	// Keys holds the previous values of the keys the hook changed.
	Keys map[string]savedValue `json:"keys,omitempty"`
	// Forward is the PortForwardings entry WritePuttyForward wrote.
	Forward string `json:"forward,omitempty"`
	// ForwardsAbsent: the session had no PortForwardings key before.
	ForwardsAbsent bool `json:"forwardsAbsent,omitempty"`
}

type savedValue struct {
	Value  string `json:"value,omitempty"`
	Int    bool   `json:"int,omitempty"`
	Absent bool   `json:"absent,omitempty"`
}

func (p *puttySaved) empty() bool { return len(p.Keys) == 0 && p.Forward == "" }

// sidecarPath returns the sidecar file for session, or "" when the store
// keeps files nowhere (then the state is kept in the session, keySaved).
func sidecarPath(store putty.Store, session string) string {
	fs, ok := store.(*putty.FileStore)
	if !ok {
		return ""
	}
	return filepath.Join(fs.Dir, "nbtunnel-saved", filepath.Base(fs.Where(session)))
}

func loadSaved(store putty.Store, s *putty.Session) (*puttySaved, error) {
	p := &puttySaved{Session: s.Name}
	var data []byte
	if path := sidecarPath(store, s.Name); path != "" {
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading nbtunnel's saved PuTTY settings: %w", err)
		}
		data = b
	} else if v, ok := s.Get(keySaved); ok {
		data = []byte(v)
	} else {
		return p, nil
	}
	if err := json.Unmarshal(data, p); err != nil {
		return nil, fmt.Errorf("reading nbtunnel's saved PuTTY settings for %q: %w", s.Name, err)
	}
	return p, nil
}

// storeSaved writes (or, when empty, removes) the saved state. For a
// sidecar file it must run before the session is saved on install and
// after it on uninstall; the in-session key is saved with the session.
func storeSaved(store putty.Store, s *putty.Session, p *puttySaved) error {
	path := sidecarPath(store, s.Name)
	if path == "" {
		if p.empty() {
			s.Delete(keySaved)
			return nil
		}
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		s.Set(keySaved, string(b))
		return nil
	}
	if p.empty() {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", path, err)
		}
		os.Remove(path + fileedit.BackupSuffix)
		os.Remove(filepath.Dir(path)) // only if empty
		return nil
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := fileedit.WriteFileAtomic(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving nbtunnel's record of PuTTY session %q: %w", s.Name, err)
	}
	return nil
}

// PuttyHookCommand returns the ProxyTelnetCommand value that runs
// `BIN proxy --putty SESSION %host %port`: BIN and SESSION quoted for the
// shell PuTTY runs it with (/bin/sh -c on Unix, the Windows command line
// on Windows), then backslashes and '%' escaped as PuTTY's command format
// requires.
func PuttyHookCommand(binPath, session string) string {
	cmd := puttyQuoteArg(binPath) + hostconf.PuttyHookMarker + puttyQuoteArg(session) + " %host %port"
	head, tail := cmd[:len(cmd)-len(" %host %port")], " %host %port"
	return strings.NewReplacer(`\`, `\\`, `%`, `%%`).Replace(head) + tail
}

func puttyQuoteArg(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(`_-./:@+=,%`, r) || runtime.GOOS == "windows" && r == '\\')
	}) < 0 {
		return s
	}
	if runtime.GOOS == "windows" {
		return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
	}
	return `'` + strings.ReplaceAll(s, `'`, `'\''`) + `'`
}

// change records a key's old value in saved (once: a value saved by an
// earlier install is kept) and sets the new one.
func change(s *putty.Session, saved *puttySaved, key, value string, isInt bool, d *diff) {
	old, had := s.Get(key)
	if had && old == value {
		return
	}
	if saved.Keys == nil {
		saved.Keys = map[string]savedValue{}
	}
	if _, ok := saved.Keys[key]; !ok {
		saved.Keys[key] = savedValue{Value: old, Int: s.IsInt(key), Absent: !had}
	}
	if isInt {
		n, _ := strconv.Atoi(value)
		s.SetInt(key, n)
	} else {
		s.Set(key, value)
	}
	d.add(key, old, had, value, true)
}

// diff collects "-Key=old" / "+Key=new" lines for the user.
type diff struct {
	where string
	lines []string
}

func (d *diff) add(key, old string, had bool, value string, has bool) {
	if had {
		d.lines = append(d.lines, "-"+key+"="+old)
	}
	if has {
		d.lines = append(d.lines, "+"+key+"="+value)
	}
}

func (d *diff) String() string {
	if len(d.lines) == 0 {
		return ""
	}
	return "--- " + d.where + "\n+++ " + d.where + "\n" + strings.Join(d.lines, "\n") + "\n"
}

func isLocalTarget(h string) bool {
	h = strings.ToLower(strings.TrimSpace(h))
	if i := strings.LastIndexByte(h, '@'); i >= 0 {
		h = h[i+1:]
	}
	if strings.Count(h, ":") == 1 {
		h = h[:strings.IndexByte(h, ':')]
	}
	h = strings.Trim(h, "[]")
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}

// InstallPutty makes PuTTY session use nbtunnel as its local proxy command:
// ProxyMethod=5 (and the legacy ProxyType=4), ProxyTelnetCommand=
// PuttyHookCommand(binPath, session), and ProxyLocalhost=1 when the
// session's host is localhost (PuTTY bypasses proxies for localhost
// otherwise). The previous values are saved (see puttySaved) for
// UninstallPutty. Installing again changes nothing. It returns a diff of
// the changed values, "" if none; with dryRun nothing is written.
// It also sets ProxyLogToTerm=0, so that PuTTY prints what the hook writes
// to stderr (the link) in its window, and plink on its stderr.
func InstallPutty(ctx context.Context, store putty.Store, session, binPath string, dryRun bool) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if binPath == "" {
		return "", errors.New("installing PuTTY hook: empty nbtunnel path")
	}
	s, err := store.Load(session)
	if err != nil {
		return "", fmt.Errorf("installing PuTTY hook: %w", err)
	}
	saved, err := loadSaved(store, s)
	if err != nil {
		return "", err
	}
	d := &diff{where: store.Where(session)}
	change(s, saved, keyProxyMethod, strconv.Itoa(putty.ProxyCommand), true, d)
	change(s, saved, keyProxyType, strconv.Itoa(putty.LegacyProxyCommand), true, d)
	change(s, saved, keyProxyCommand, PuttyHookCommand(binPath, session), false, d)
	change(s, saved, keyLogToTerm, "0", true, d)
	if host, _ := s.Get("HostName"); isLocalTarget(host) {
		change(s, saved, keyProxyLocal, "1", true, d)
	}
	out := d.String()
	if out == "" || dryRun {
		return out, nil
	}
	return out, save(store, s, saved, true)
}

// save writes the session and the saved state in the order that leaves
// a restorable state if it stops half way.
func save(store putty.Store, s *putty.Session, saved *puttySaved, installing bool) error {
	if sidecarPath(store, s.Name) == "" {
		if err := storeSaved(store, s, saved); err != nil {
			return err
		}
		return store.Save(s)
	}
	if installing {
		if err := storeSaved(store, s, saved); err != nil {
			return err
		}
		return store.Save(s)
	}
	if err := store.Save(s); err != nil {
		return err
	}
	return storeSaved(store, s, saved)
}

// UninstallPutty undoes InstallPutty and WritePuttyForward: it restores the
// saved values (deleting keys that did not exist), removes the forward
// nbtunnel wrote, and removes the saved state. A session nothing was
// installed into is left alone. When the saved state was lost but the
// session still runs nbtunnel's hook, the proxy is turned off
// (ProxyMethod=0) instead. Returns the diff; with dryRun nothing is
// written.
func UninstallPutty(ctx context.Context, store putty.Store, session string, dryRun bool) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s, err := store.Load(session)
	if err != nil {
		return "", fmt.Errorf("uninstalling PuTTY hook: %w", err)
	}
	saved, err := loadSaved(store, s)
	if err != nil {
		return "", err
	}
	d := &diff{where: store.Where(session)}
	keys := make([]string, 0, len(saved.Keys))
	for k := range saved.Keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := saved.Keys[k]
		old, had := s.Get(k)
		switch {
		case v.Absent:
			if had {
				s.Delete(k)
				d.add(k, old, true, "", false)
			}
		case !had || old != v.Value:
			if v.Int {
				s.SetInt(k, atoiLoose(v.Value))
			} else {
				s.Set(k, v.Value)
			}
			d.add(k, old, had, v.Value, true)
		}
	}
	if len(saved.Keys) == 0 {
		if cmd, _ := s.Get(keyProxyCommand); strings.Contains(cmd, hostconf.PuttyHookMarker) && putty.ProxyMethod(s) == putty.ProxyCommand {
			lost := &puttySaved{}
			change(s, lost, keyProxyMethod, "0", true, d)
			change(s, lost, keyProxyType, "0", true, d)
			change(s, lost, keyProxyCommand, puttyDefaultProxyCommand, false, d)
		}
	}
	if saved.Forward != "" {
		if err := dropForward(s, saved, d); err != nil {
			return "", fmt.Errorf("uninstalling from PuTTY session %q (%s): %w", session, store.Where(session), err)
		}
	}
	_, hadSaved := s.Get(keySaved)
	if saved.empty() && !hadSaved && len(d.lines) == 0 {
		return "", nil
	}
	if dryRun {
		return d.String(), nil
	}
	return d.String(), save(store, s, &puttySaved{Session: session}, false)
}

func atoiLoose(v string) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0
	}
	return n
}

// WritePuttyForward makes PuTTY session forward 127.0.0.1:localPort to
// target (host:port, as seen from the SSH server) by adding
// "L<localPort>=<target>" to its PortForwardings. The user's entries are
// kept as they are; only the entry an earlier WritePuttyForward wrote is
// replaced. A unix-socket target gives ErrPuttyUnixSocket; a local port
// the session already forwards elsewhere is an error. It reports whether
// the session changed.
func WritePuttyForward(ctx context.Context, store putty.Store, session string, localPort int, target string) (bool, error) {
	d, err := writePuttyForward(ctx, store, session, localPort, target, false)
	return d != "", err
}

// DiffPuttyForward returns the diff WritePuttyForward would make ("" if
// none) and writes nothing.
func DiffPuttyForward(ctx context.Context, store putty.Store, session string, localPort int, target string) (string, error) {
	return writePuttyForward(ctx, store, session, localPort, target, true)
}

func writePuttyForward(ctx context.Context, store putty.Store, session string, localPort int, target string, dryRun bool) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if strings.HasPrefix(target, "/") || strings.HasPrefix(target, "unix:") {
		return "", fmt.Errorf("forwarding to %s in PuTTY session %q: %w; use the proxy hook: nbtunnel install --putty %s", target, session, ErrPuttyUnixSocket, session)
	}
	if _, p, err := net.SplitHostPort(target); err != nil || atoiLoose(p) <= 0 || atoiLoose(p) > 65535 {
		return "", fmt.Errorf("forwarding to %q in PuTTY session %q: want host:port", target, session)
	}
	if localPort <= 0 || localPort > 65535 {
		return "", fmt.Errorf("forwarding local port %d in PuTTY session %q: out of range", localPort, session)
	}
	s, err := store.Load(session)
	if err != nil {
		return "", fmt.Errorf("writing PuTTY forward: %w", err)
	}
	saved, err := loadSaved(store, s)
	if err != nil {
		return "", err
	}
	old, had := s.Get(keyForwards)
	fwds, err := putty.ParsePortForwardings(old)
	if err != nil {
		return "", fmt.Errorf("writing PuTTY forward into session %q (%s): PortForwardings: %w", session, store.Where(session), err)
	}
	want := putty.Forward{Type: 'L', Listen: strconv.Itoa(localPort), Target: target}
	entry := putty.FormatPortForwardings([]putty.Forward{want})
	var out []putty.Forward
	placed := false
	for _, f := range fwds {
		if saved.Forward != "" && f.Raw() == saved.Forward {
			if !placed {
				out = append(out, want) // ours: replaced in place
				placed = true
			}
			continue
		}
		if f.Type == 'L' && listenPort(f.Listen) == localPort {
			if f.Target == target {
				return "", nil // the user's own entry already does it
			}
			return "", fmt.Errorf("writing PuTTY forward into session %q (%s): local port %d is already forwarded to %s", session, store.Where(session), localPort, f.Target)
		}
		out = append(out, f)
	}
	if !placed {
		out = append(out, want)
	}
	value := putty.FormatPortForwardings(out)
	if had && value == old {
		return "", nil
	}
	d := &diff{where: store.Where(session)}
	d.add(keyForwards, old, had, value, true)
	if dryRun {
		return d.String(), nil
	}
	if saved.Forward == "" {
		saved.ForwardsAbsent = !had
	}
	saved.Forward = entry
	s.Set(keyForwards, value)
	return d.String(), save(store, s, saved, true)
}

// RemovePuttyForward takes out the PortForwardings entry WritePuttyForward
// wrote into session (deleting the key if it did not exist before) and
// leaves everything else, the proxy hook included, as it is. A session
// with no such entry is left alone. It returns the diff ("" if none);
// with dryRun nothing is written.
func RemovePuttyForward(ctx context.Context, store putty.Store, session string, dryRun bool) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s, err := store.Load(session)
	if err != nil {
		return "", fmt.Errorf("removing PuTTY forward: %w", err)
	}
	saved, err := loadSaved(store, s)
	if err != nil {
		return "", err
	}
	if saved.Forward == "" {
		return "", nil
	}
	d := &diff{where: store.Where(session)}
	if err := dropForward(s, saved, d); err != nil {
		return "", fmt.Errorf("removing PuTTY forward from session %q (%s): %w", session, store.Where(session), err)
	}
	if dryRun {
		return d.String(), nil
	}
	saved.Forward, saved.ForwardsAbsent = "", false
	return d.String(), save(store, s, saved, false)
}

// dropForward takes saved.Forward out of the session's PortForwardings.
func dropForward(s *putty.Session, saved *puttySaved, d *diff) error {
	old, had := s.Get(keyForwards)
	fwds, err := putty.ParsePortForwardings(old)
	if err != nil {
		return fmt.Errorf("PortForwardings: %w", err)
	}
	kept := fwds[:0]
	for _, f := range fwds {
		if f.Raw() != saved.Forward {
			kept = append(kept, f)
		}
	}
	switch {
	case len(kept) == 0 && saved.ForwardsAbsent:
		if had {
			s.Delete(keyForwards)
			d.add(keyForwards, old, true, "", false)
		}
	case len(kept) != len(fwds):
		v := putty.FormatPortForwardings(kept)
		s.Set(keyForwards, v)
		d.add(keyForwards, old, had, v, true)
	}
	return nil
}

func listenPort(listen string) int {
	if i := strings.LastIndexByte(listen, ':'); i >= 0 {
		listen = listen[i+1:]
	}
	return atoiLoose(listen)
}
