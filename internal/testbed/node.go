package testbed

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// startHolder starts the process that keeps the host's own PID, UTS and mount namespaces alive: PID 1 there
// (an sh that sleeps and reaps, hostname Alias). Killing it (Close does) ends every process in the namespace.
func (h *Host) startHolder(ctx context.Context) error {
	nsenter, err := lookPath("nsenter")
	if err != nil {
		return err
	}
	unshare, err := lookPath("unshare")
	if err != nil {
		return err
	}
	log := filepath.Join(h.dir, "holder.log")
	cmd := exec.Command(nsenter, "--net=/run/netns/"+h.Netns, unshare, "--uts", "--pid", "--fork", "--mount-proc",
		"/bin/sh", "-c", `hostname "$0" || exit 1; while :; do sleep 3600 & wait; done`, h.Alias)
	p, err := startProc("namespace holder for "+h.Alias, cmd, log)
	if err != nil {
		return err
	}
	if err := h.bed.addProc(p); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if p.exited() {
			return fmt.Errorf("namespace holder for host %q exited: %v; %s", h.Alias, p.err, logTail(log))
		}
		// PID 1 there is the sh (it reaps the orphans of the namespace, as an init does: sshd's session
		// processes outlive a killed connection); its sleep shows that the hostname is set.
		for _, c := range descendants(p.pid()) {
			if ppid, comm, ok := procInfo(c); ok && comm == "sleep" && ppid != p.pid() {
				h.holder = ppid
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("namespace holder for host %q did not start; %s", h.Alias, logTail(log))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nsenterArgv returns the argv that runs argv (as root) inside the host's own namespaces.
func (h *Host) nsenterArgv(argv ...string) []string {
	return append([]string{"nsenter", "--target", strconv.Itoa(h.holder), "--pid", "--mount", "--uts", "--net", "--"}, argv...)
}

// Spawn starts a long-running root process argv inside the host's namespaces (its own PID namespace when
// it has one), output appended to logPath; Close kills it.
func (h *Host) Spawn(name, logPath string, argv ...string) error {
	full := append([]string{"ip", "netns", "exec", h.Netns}, argv...)
	if h.holder != 0 {
		full = h.nsenterArgv(argv...)
	}
	path, err := lookPath(full[0])
	if err != nil {
		return err
	}
	p, err := startProc(name, exec.Command(path, full[1:]...), logPath)
	if err != nil {
		return err
	}
	return h.bed.addProc(p)
}

// RunInNode runs "sh -c script" as root inside the host's own namespaces (its own PID namespace when it has
// one: the pids it sees are the node's), bounded like Run.
func (h *Host) RunInNode(ctx context.Context, script string) (string, error) {
	argv := []string{"ip", "netns", "exec", h.Netns, "/bin/sh", "-c", script}
	if h.holder != 0 {
		argv = h.nsenterArgv("/bin/sh", "-c", script)
	}
	out, err := command(ctx, argv[0], argv[1:]...)
	if err != nil {
		return out, fmt.Errorf("host %q: %w", h.Alias, err)
	}
	return strings.TrimSpace(out), nil
}
