package testbed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// HostOptions configures AddHost.
type HostOptions struct {
	// Alias is the Host name in SSHConfig, e.g. "lab". Required: letters, digits, '-', '_' and '.'.
	Alias string
	// BehindJump is the alias of an existing host: the new host is then reachable only from that host's
	// namespace, and SSHConfig gives it "ProxyJump BehindJump".
	BehindJump string
	// Shell is the user's login shell; "" means /bin/bash. It must exist.
	Shell string
	// SSHDConfig holds extra sshd_config lines. Lines before the first "Match" go before the bed's own
	// settings (sshd keeps the first value it reads, so they win); "Match" blocks go at the end.
	SSHDConfig []string
	// ShareUserWith is the alias of an existing host whose user (and so home directory) the new host uses
	// instead of a user of its own, like machines of one cluster sharing $HOME.
	ShareUserWith string
	// OwnPIDNamespace gives the host its own PID, UTS (hostname Alias) and mount namespace besides its
	// network namespace, as a separate machine would have: pids seen there mean nothing outside. Its sshd
	// runs there; Host.Spawn starts other daemons there.
	OwnPIDNamespace bool
	// KnownByAlias lists the host in KnownHosts under its alias as well as its address (as a cluster's
	// nodes are known by name).
	KnownByAlias bool
	// NoLoginCheck skips AddHost's key-only login check, for a host whose SSHDConfig wants more than the
	// bed's key (AuthenticationMethods publickey,keyboard-interactive): AddHost then only waits until
	// sshd accepts connections.
	NoLoginCheck bool
}

// Host is one test machine: a network namespace with an sshd and a Unix user.
// Its fields are set by AddHost; HostKey changes only through ChangeHostKey.
type Host struct {
	Alias string // ssh config alias
	Addr  string // IPv4 address sshd listens on (reachable from the root namespace unless JumpAlias is set)
	Port  int    // sshd port (22)
	User  string // login user (key login only)
	UID   int
	GID   int
	Home  string // the user's home directory
	Shell string // the user's login shell
	Netns string // network namespace name ("ip netns exec NETNS ...")
	// JumpAlias is the alias of the jump host this host sits behind, or "".
	JumpAlias string
	// HostKey is the sshd's ed25519 public key in authorized_keys format ("ssh-ed25519 AAAA...").
	HostKey string
	// HostKeyFile is the sshd's private host key file.
	HostKeyFile string
	// SSHDConfigFile and SSHDLog are the sshd's configuration file and log.
	SSHDConfigFile string
	SSHDLog        string

	bed      *Bed
	dir      string
	extraCfg []string
	mu       sync.Mutex
	sshd     *proc
	njup     int
	holder   int  // pid (root namespace) of PID 1 of the host's own PID namespace, or 0
	byAlias  bool // KnownByAlias
	shareAs  *Host
}

var aliasRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$`)

// AddHost creates a namespace, a link, a user and an sshd for a new host, adds it to KnownHosts and
// SSHConfig, and checks that "ssh -F SSHConfig ALIAS true" succeeds (bounded). On error the partial host is
// removed by Close.
func (b *Bed) AddHost(ctx context.Context, o HostOptions) (*Host, error) {
	if !aliasRE.MatchString(o.Alias) {
		return nil, fmt.Errorf("adding host %q: bad alias", o.Alias)
	}
	if b.isClosed() {
		return nil, fmt.Errorf("adding host %q: test bed is closed", o.Alias)
	}
	shell := o.Shell
	if shell == "" {
		shell = "/bin/bash"
	}
	if _, err := os.Stat(shell); err != nil {
		return nil, fmt.Errorf("adding host %q: shell: %w", o.Alias, err)
	}
	var share *Host
	if o.ShareUserWith != "" {
		if share = b.Host(o.ShareUserWith); share == nil {
			return nil, fmt.Errorf("adding host %q: no host %q to share a user with", o.Alias, o.ShareUserWith)
		}
	}
	var jump *Host
	if o.BehindJump != "" {
		if jump = b.Host(o.BehindJump); jump == nil {
			return nil, fmt.Errorf("adding host %q: no jump host %q", o.Alias, o.BehindJump)
		}
	}

	b.mu.Lock()
	for _, h := range b.hosts {
		if h.Alias == o.Alias {
			b.mu.Unlock()
			return nil, fmt.Errorf("adding host %q: alias in use", o.Alias)
		}
	}
	idx := b.nlinks
	b.nlinks++
	b.mu.Unlock()

	h := &Host{
		Alias:     o.Alias,
		Port:      22,
		User:      fmt.Sprintf("%s%s%s", namePrefix, b.Run, userSuffix(idx)),
		Shell:     shell,
		Netns:     fmt.Sprintf("%s-%s-%s", namePrefix, o.Alias, b.Run),
		JumpAlias: o.BehindJump,
		bed:       b,
		dir:       filepath.Join(b.Dir, "hosts", o.Alias),
		extraCfg:  o.SSHDConfig,
		byAlias:   o.KnownByAlias,
		shareAs:   share,
	}
	if share != nil {
		h.User = share.User
	}
	if len(h.Netns) > 200 {
		return nil, fmt.Errorf("adding host %q: alias too long", o.Alias)
	}
	if err := os.MkdirAll(h.dir, 0o700); err != nil {
		return nil, fmt.Errorf("adding host %q: %w", o.Alias, err)
	}
	if err := b.makeHostSystem(ctx, h, jump, idx); err != nil {
		return nil, fmt.Errorf("adding host %q: %w", o.Alias, err)
	}

	if o.OwnPIDNamespace {
		if err := h.startHolder(ctx); err != nil {
			return nil, fmt.Errorf("adding host %q: %w", o.Alias, err)
		}
	}
	h.HostKeyFile = filepath.Join(h.dir, "ssh_host_ed25519_key")
	pub, err := writeKey(h.HostKeyFile, "nbtunnel-testbed-"+o.Alias)
	if err != nil {
		return nil, fmt.Errorf("adding host %q: %w", o.Alias, err)
	}
	h.HostKey = pub
	h.SSHDConfigFile = filepath.Join(h.dir, "sshd_config")
	h.SSHDLog = filepath.Join(h.dir, "sshd.log")
	if err := h.writeSSHDConfig(); err != nil {
		return nil, fmt.Errorf("adding host %q: %w", o.Alias, err)
	}
	if err := h.startSSHD(ctx); err != nil {
		return nil, fmt.Errorf("adding host %q: %w", o.Alias, err)
	}

	b.mu.Lock()
	b.hosts = append(b.hosts, h)
	b.mu.Unlock()
	if err := b.writeClientFiles(); err != nil {
		return nil, fmt.Errorf("adding host %q: %w", o.Alias, err)
	}
	if !o.NoLoginCheck {
		if err := h.checkLogin(ctx); err != nil {
			return nil, fmt.Errorf("adding host %q: %w", o.Alias, err)
		}
	}
	return h, nil
}

// userSuffix maps 0, 1, ..., 25, 26, ... to "a", "b", ..., "z", "ba", ...
func userSuffix(i int) string {
	s := ""
	for {
		s = string(rune('a'+i%26)) + s
		i /= 26
		if i == 0 {
			return s
		}
	}
}

// makeHostSystem creates the user, the namespace and the link (and, for a hidden host, the root namespace's
// unreachable route) under the global lock.
func (b *Bed) makeHostSystem(ctx context.Context, h *Host, jump *Host, idx int) error {
	unlock, err := globalLock(ctx)
	if err != nil {
		return err
	}
	defer unlock()

	if h.shareAs != nil {
		h.UID, h.GID, h.Home = h.shareAs.UID, h.shareAs.GID, h.shareAs.Home
	} else if err := b.addUser(ctx, h); err != nil {
		return err
	}
	return b.makeLink(ctx, h, jump, idx)
}

// addUser creates h.User (key login only) and fills in UID, GID and Home. The caller holds the global lock.
func (b *Bed) addUser(ctx context.Context, h *Host) error {
	if err := b.record("user", h.User); err != nil {
		return err
	}
	if _, err := command(ctx, "useradd", "-m", "-s", h.Shell, "-p", "*", "-c", "nbtunnel test bed", h.User); err != nil {
		return err
	}
	uid, gid, ok := lookupUser(h.User)
	if !ok {
		return fmt.Errorf("looking up new user %s in /etc/passwd: not found", h.User)
	}
	h.UID, h.GID = uid, gid
	h.Home = filepath.Join("/home", h.User)
	if out, err := command(ctx, "getent", "passwd", h.User); err == nil {
		if f := strings.Split(strings.TrimSpace(out), ":"); len(f) >= 7 {
			h.Home = f[5]
		}
	}
	return h.writeAuthorizedKeys(b.ClientPublicKey)
}

// makeLink creates the namespace and the link. The caller holds the global lock.
func (b *Bed) makeLink(ctx context.Context, h *Host, jump *Host, idx int) error {
	used, err := usedSlots(ctx)
	if err != nil {
		return err
	}
	slot := -1
	for range 1000 {
		s := 1 + rand.IntN(64*256-1)
		if !used[s] {
			slot = s
			break
		}
	}
	if slot < 0 {
		return errors.New("no free /30 in 10.213.0.0/16")
	}
	outer, inner := slotAddr(slot, 1).String(), slotAddr(slot, 2).String()
	pfx := slotPrefix(slot).String()
	h.Addr = inner

	if err := b.record("netns", h.Netns); err != nil {
		return err
	}
	if _, err := command(ctx, "ip", "netns", "add", h.Netns); err != nil {
		return err
	}
	if _, err := command(ctx, "ip", "-n", h.Netns, "link", "set", "lo", "up"); err != nil {
		return err
	}
	outerName := fmt.Sprintf("%s%sr%d", namePrefix, b.Run, idx)
	innerName := fmt.Sprintf("%s%sn%d", namePrefix, b.Run, idx)
	if jump == nil {
		if err := b.record("link", outerName); err != nil {
			return err
		}
		steps := [][]string{
			{"ip", "link", "add", outerName, "type", "veth", "peer", "name", innerName, "netns", h.Netns},
			{"ip", "addr", "add", outer + "/30", "dev", outerName},
			{"ip", "link", "set", outerName, "up"},
		}
		for _, s := range steps {
			if _, err := command(ctx, s[0], s[1:]...); err != nil {
				return err
			}
		}
	} else {
		// The hidden host's link runs from the jump host's namespace; the root namespace must not send
		// this prefix out of its default route.
		if err := b.record("route", pfx); err != nil {
			return err
		}
		steps := [][]string{
			{"ip", "route", "add", "unreachable", pfx},
			{"ip", "-n", jump.Netns, "link", "add", outerName, "type", "veth", "peer", "name", innerName, "netns", h.Netns},
			{"ip", "-n", jump.Netns, "addr", "add", outer + "/30", "dev", outerName},
			{"ip", "-n", jump.Netns, "link", "set", outerName, "up"},
		}
		for _, s := range steps {
			if _, err := command(ctx, s[0], s[1:]...); err != nil {
				return err
			}
		}
	}
	steps := [][]string{
		{"ip", "-n", h.Netns, "addr", "add", inner + "/30", "dev", innerName},
		{"ip", "-n", h.Netns, "link", "set", innerName, "up"},
	}
	for _, s := range steps {
		if _, err := command(ctx, s[0], s[1:]...); err != nil {
			return err
		}
	}
	return nil
}

func (h *Host) writeAuthorizedKeys(pub string) error {
	sshDir := filepath.Join(h.Home, ".ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		return fmt.Errorf("making %s: %w", sshDir, err)
	}
	path := filepath.Join(sshDir, "authorized_keys")
	if err := os.WriteFile(path, []byte(pub+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	for _, p := range []string{sshDir, path} {
		if err := os.Chown(p, h.UID, h.GID); err != nil {
			return fmt.Errorf("chowning %s: %w", p, err)
		}
	}
	return nil
}

func (h *Host) writeSSHDConfig() error {
	var pre, post []string
	inMatch := false
	for _, l := range h.extraCfg {
		if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], "Match") {
			inMatch = true
		}
		if inMatch {
			post = append(post, l)
		} else {
			pre = append(pre, l)
		}
	}
	lines := []string{"# nbtunnel test bed host " + h.Alias + ": generated"}
	lines = append(lines, pre...)
	lines = append(lines,
		fmt.Sprintf("Port %d", h.Port),
		"ListenAddress "+h.Addr,
		"HostKey "+h.HostKeyFile,
		"PidFile "+filepath.Join(h.dir, "sshd.pid"),
		"UsePAM no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PubkeyAuthentication yes",
		"AuthorizedKeysFile .ssh/authorized_keys",
		"StrictModes no",
		"PermitRootLogin no",
		"AllowUsers "+h.User,
		"AllowTcpForwarding yes",
		"AllowStreamLocalForwarding yes",
		"X11Forwarding no",
		"PrintMotd no",
		"LogLevel VERBOSE",
		"Subsystem sftp internal-sftp",
	)
	lines = append(lines, post...)
	return writeFileAtomic(h.SSHDConfigFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}

// startSSHD checks the config, starts "sshd -D" in the namespace and waits until it accepts connections.
func (h *Host) startSSHD(ctx context.Context) error {
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return fmt.Errorf("making /run/sshd: %w", err)
	}
	sshd, err := lookPath("sshd")
	if err != nil {
		return fmt.Errorf("starting sshd: %w", err)
	}
	if _, err := command(ctx, sshd, "-t", "-f", h.SSHDConfigFile); err != nil {
		return fmt.Errorf("checking %s: %w", h.SSHDConfigFile, err)
	}
	ip, err := lookPath("ip")
	if err != nil {
		return fmt.Errorf("starting sshd: %w", err)
	}
	argv := []string{ip, "netns", "exec", h.Netns, sshd, "-D", "-f", h.SSHDConfigFile, "-E", h.SSHDLog}
	if h.holder != 0 {
		argv = h.nsenterArgv(sshd, "-D", "-f", h.SSHDConfigFile, "-E", h.SSHDLog)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	p, err := startProc("sshd for "+h.Alias, cmd, h.SSHDLog)
	if err != nil {
		return err
	}
	if err := h.bed.addProc(p); err != nil {
		return err
	}
	h.mu.Lock()
	h.sshd = p
	h.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	addr := net.JoinHostPort(h.Addr, strconv.Itoa(h.Port))
	for {
		if p.exited() {
			return fmt.Errorf("sshd for host %q exited: %v; %s", h.Alias, p.err, logTail(h.SSHDLog))
		}
		c, err := h.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for sshd for host %q on %s: %w; %s", h.Alias, addr, err, logTail(h.SSHDLog))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// checkLogin runs "ssh -F SSHConfig ALIAS true" with the real client.
func (h *Host) checkLogin(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := command(ctx, "ssh", "-F", h.bed.SSHConfig, "-o", "BatchMode=yes", h.Alias, "true")
	if err != nil {
		return fmt.Errorf("checking ssh login to host %q: %w; %s", h.Alias, err, logTail(h.SSHDLog))
	}
	return nil
}

// DialContext connects to addr (numeric "ip:port") from inside the host's namespace, e.g. to reach a server
// bound to 127.0.0.1 there without SSH.
func (h *Host) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return dialNetns(ctx, h.Netns, network, addr)
}

// Env returns the login environment the bed gives the host's user: HOME, USER, LOGNAME, SHELL, PATH, LANG.
func (h *Host) Env() []string {
	return []string{
		"HOME=" + h.Home,
		"USER=" + h.User,
		"LOGNAME=" + h.User,
		"SHELL=" + h.Shell,
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"LANG=C.UTF-8",
	}
}

// userCommand returns the argv that runs argv as the host's user inside its namespace.
func (h *Host) userCommand(argv ...string) ([]string, error) {
	ip, err := lookPath("ip")
	if err != nil {
		return nil, err
	}
	setpriv, err := lookPath("setpriv")
	if err != nil {
		return nil, err
	}
	return append([]string{ip, "netns", "exec", h.Netns, setpriv,
		"--reuid", strconv.Itoa(h.UID), "--regid", strconv.Itoa(h.GID), "--init-groups", "--"}, argv...), nil
}

// Run runs "sh -c script" as the host's user inside the host's namespace, in the user's home with Env, bounded
// by ctx and 30 seconds. It returns standard output; the error includes standard error.
func (h *Host) Run(ctx context.Context, script string) (string, error) {
	argv, err := h.userCommand("/bin/sh", "-c", script)
	if err != nil {
		return "", fmt.Errorf("running a script on host %q: %w", h.Alias, err)
	}
	out, err := commandIn(ctx, h.Env(), h.Home, nil, argv[0], argv[1:]...)
	if err != nil {
		return out, fmt.Errorf("host %q: %w", h.Alias, err)
	}
	return out, nil
}

// RunRoot runs "sh -c script" as root inside the host's namespace (bounded like Run).
func (h *Host) RunRoot(ctx context.Context, script string) (string, error) {
	out, err := command(ctx, "ip", "netns", "exec", h.Netns, "/bin/sh", "-c", script)
	if err != nil {
		return out, fmt.Errorf("host %q: %w", h.Alias, err)
	}
	return out, nil
}

// SSHDPID returns the pid of the listening sshd, or 0 when it is not running.
func (h *Host) SSHDPID() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sshd == nil || h.sshd.exited() {
		return 0
	}
	return h.sshd.pid()
}

// StopSSHD stops the listening sshd (SIGTERM, then SIGKILL after 5s). Established connections live on, as
// with a real sshd restart.
func (h *Host) StopSSHD(ctx context.Context) error {
	h.mu.Lock()
	p := h.sshd
	h.sshd = nil
	h.mu.Unlock()
	if p == nil {
		return nil
	}
	if h.holder != 0 {
		// nsenter forks sshd: signal its group (per-connection sshd processes have sessions of their own).
		p.signalGroup(syscall.SIGTERM)
	}
	p.signal(syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if !p.waitUntil(deadline) {
		p.signal(syscall.SIGKILL)
		if !p.waitUntil(time.Now().Add(5 * time.Second)) {
			return fmt.Errorf("stopping sshd of host %q: pid %d did not exit", h.Alias, p.pid())
		}
	}
	return nil
}

// RestartSSHD stops the listening sshd and starts a new one with the current config and host key.
// Established connections survive.
func (h *Host) RestartSSHD(ctx context.Context) error {
	if err := h.StopSSHD(ctx); err != nil {
		return err
	}
	if err := h.writeSSHDConfig(); err != nil {
		return fmt.Errorf("restarting sshd of host %q: %w", h.Alias, err)
	}
	if err := h.startSSHD(ctx); err != nil {
		return fmt.Errorf("restarting sshd of host %q: %w", h.Alias, err)
	}
	return nil
}

// KillSSHDConnections SIGKILLs every per-connection sshd process (the listener's sshd descendants), which
// drops every established SSH connection to the host abruptly. The listener keeps running.
func (h *Host) KillSSHDConnections(ctx context.Context) error {
	root := h.SSHDPID()
	if root == 0 {
		return fmt.Errorf("killing sshd connections of host %q: sshd is not running", h.Alias)
	}
	if h.holder != 0 {
		// The listener is nsenter's child there, not the process the bed started.
		for _, c := range descendants(root) {
			if ppid, comm, ok := procInfo(c); ok && ppid == root && strings.HasPrefix(comm, "sshd") {
				root = c
			}
		}
	}
	// Kill the connections there are now and wait for those to go; a client
	// that reconnects at once (nbtunnel does) makes new ones meanwhile, and
	// those are not ours to wait for.
	var pids []int
	for _, pid := range descendants(root) {
		if _, comm, ok := procInfo(pid); ok && strings.HasPrefix(comm, "sshd") {
			pids = append(pids, pid)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var alive []int
		for _, pid := range pids {
			if _, comm, ok := procInfo(pid); ok && strings.HasPrefix(comm, "sshd") {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("killing sshd connections of host %q: processes %v survive", h.Alias, alive)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ChangeHostKey writes a new host key, updates HostKey and restarts sshd. KnownHosts is left stale (call
// Bed.UpdateKnownHosts to refresh it).
func (h *Host) ChangeHostKey(ctx context.Context) error {
	pub, err := writeKey(h.HostKeyFile, "nbtunnel-testbed-"+h.Alias)
	if err != nil {
		return fmt.Errorf("changing host key of host %q: %w", h.Alias, err)
	}
	h.bed.mu.Lock()
	h.HostKey = pub
	h.bed.mu.Unlock()
	return h.RestartSSHD(ctx)
}

// PublicKey returns HostKey parsed.
func (h *Host) PublicKey() (ssh.PublicKey, error) {
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(h.HostKey))
	if err != nil {
		return nil, fmt.Errorf("parsing host key of host %q: %w", h.Alias, err)
	}
	return k, nil
}
