package testbed

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SlurmBinaries are the programs AddCluster needs besides the base ones; pass them to New or Require.
var SlurmBinaries = []string{"slurmctld", "slurmd", "munged", "sbatch", "squeue", "scancel", "scontrol", "sinfo", "nsenter", "unshare"}

// ClusterOptions configures AddCluster.
type ClusterOptions struct {
	// Login is the alias of the login host to add; "" means "login".
	Login string
	// Node is the alias, SLURM NodeName and hostname of the compute host to add; "" means "node1".
	Node string
	// Partition is the only partition's name; "" means "batch".
	Partition string
	// CPUs is the node's CPU count in slurm.conf; 0 means 1, so that a second job pends while one runs.
	CPUs int
}

// Cluster is a real SLURM cluster in the bed: slurmctld on the login host, slurmd on a compute host behind
// it (reachable only through the login host, in its own network, PID, UTS and mount namespaces), one
// munged for both, and one user whose home both hosts share. Both hosts' sshd give sessions SLURM_CONF, so
// sbatch, squeue and scancel work over ssh as on a real cluster.
type Cluster struct {
	Login, Node *Host
	// Partition is the partition's name.
	Partition string
	// Dir is the cluster's directory (slurm.conf, state, spool, logs, munge); it is world-searchable
	// because jobs and clients running as the user read slurm.conf.
	Dir string
	// Conf is slurm.conf; clients need SLURM_CONF=Conf (Env gives it).
	Conf string
	// ControllerAddr is the login host's address on the node's link (SlurmctldHost's address).
	ControllerAddr string
	// CtldLog and SlurmdLog are the daemons' logs.
	CtldLog, SlurmdLog string
}

// AddCluster adds the login and compute hosts and starts munged, slurmctld and slurmd; it returns once the
// node is idle (bounded). What it starts is stopped by Close, and a crashed run's leftovers by the next
// Start (the daemons live in the bed's namespaces; munged's pid is recorded).
func (b *Bed) AddCluster(ctx context.Context, o ClusterOptions) (*Cluster, error) {
	if o.Login == "" {
		o.Login = "login"
	}
	if o.Node == "" {
		o.Node = "node1"
	}
	if o.Partition == "" {
		o.Partition = "batch"
	}
	if o.CPUs <= 0 {
		o.CPUs = 1
	}
	fail := func(err error) (*Cluster, error) {
		return nil, fmt.Errorf("adding cluster %s/%s: %w", o.Login, o.Node, err)
	}
	dir, err := os.MkdirTemp("", "nbtunnel-testbed-"+b.Run+"-slurm-")
	if err != nil {
		return fail(err)
	}
	if err := b.record("dir", dir); err != nil {
		os.RemoveAll(dir)
		return fail(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fail(err)
	}
	c := &Cluster{Partition: o.Partition, Dir: dir, Conf: filepath.Join(dir, "slurm.conf"),
		CtldLog: filepath.Join(dir, "slurmctld.log"), SlurmdLog: filepath.Join(dir, "slurmd.log")}
	setEnv := []string{"SetEnv SLURM_CONF=" + c.Conf}
	if c.Login, err = b.AddHost(ctx, HostOptions{Alias: o.Login, SSHDConfig: setEnv}); err != nil {
		return fail(err)
	}
	c.Node, err = b.AddHost(ctx, HostOptions{Alias: o.Node, BehindJump: o.Login, ShareUserWith: o.Login,
		OwnPIDNamespace: true, KnownByAlias: true, SSHDConfig: setEnv})
	if err != nil {
		return fail(err)
	}
	nodeAddr, err := netip.ParseAddr(c.Node.Addr)
	if err != nil {
		return fail(err)
	}
	c.ControllerAddr = nodeAddr.Prev().String()

	sock, err := b.startMunged(ctx, dir)
	if err != nil {
		return fail(err)
	}
	for _, d := range []string{"ctld", "spool"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			return fail(err)
		}
	}
	conf := []string{
		"# nbtunnel test bed cluster: generated",
		"ClusterName=nbt" + b.Run,
		fmt.Sprintf("SlurmctldHost=%s(%s)", o.Login, c.ControllerAddr),
		"SlurmUser=root",
		"SlurmdUser=root",
		"AuthType=auth/munge",
		"AuthInfo=socket=" + sock,
		"ProctrackType=proctrack/linuxproc",
		"TaskPlugin=task/none",
		"SelectType=select/cons_tres",
		"AccountingStorageType=accounting_storage/none",
		"JobCompType=jobcomp/none",
		"JobAcctGatherType=jobacct_gather/none",
		"MpiDefault=none",
		"SwitchType=switch/none",
		"ReturnToService=2",
		"KillWait=2",
		"MinJobAge=600",
		"StateSaveLocation=" + filepath.Join(dir, "ctld"),
		"SlurmdSpoolDir=" + filepath.Join(dir, "spool"),
		"SlurmctldPidFile=" + filepath.Join(dir, "slurmctld.pid"),
		"SlurmdPidFile=" + filepath.Join(dir, "slurmd.pid"),
		"SlurmctldLogFile=" + c.CtldLog,
		"SlurmdLogFile=" + c.SlurmdLog,
		fmt.Sprintf("NodeName=%s NodeAddr=%s NodeHostname=%s CPUs=%d State=UNKNOWN", o.Node, c.Node.Addr, o.Node, o.CPUs),
		fmt.Sprintf("PartitionName=%s Nodes=%s Default=YES MaxTime=INFINITE State=UP", o.Partition, o.Node),
	}
	if err := os.WriteFile(c.Conf, []byte(strings.Join(conf, "\n")+"\n"), 0o644); err != nil {
		return fail(err)
	}
	// slurmctld wants the machine's name to be SlurmctldHost's: give it a UTS namespace of its own.
	if err := c.Login.Spawn("slurmctld", filepath.Join(dir, "slurmctld.out"), "unshare", "--uts", "/bin/sh", "-c",
		`hostname "$0" && exec slurmctld -D -f "$1"`, o.Login, c.Conf); err != nil {
		return fail(err)
	}
	if err := c.Node.Spawn("slurmd", filepath.Join(dir, "slurmd.out"), "slurmd", "-D", "-f", c.Conf, "-N", o.Node); err != nil {
		return fail(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := c.Login.RunRoot(ctx, "SLURM_CONF="+c.Conf+" sinfo -h -n "+o.Node+" -o %T")
		if err == nil && strings.TrimSpace(out) == "idle" {
			return c, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fail(fmt.Errorf("node %s not idle (%q, %v); %s; %s", o.Node, strings.TrimSpace(out), err, logTail(c.CtldLog), logTail(c.SlurmdLog)))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startMunged starts a munged of the run's own (own key, socket in dir/munge) and returns its socket path.
func (b *Bed) startMunged(ctx context.Context, dir string) (string, error) {
	uid, gid, ok := lookupUser("munge")
	if !ok {
		return "", fmt.Errorf("starting munged: no user munge (install the munge package)")
	}
	md := filepath.Join(dir, "munge")
	if err := os.Mkdir(md, 0o755); err != nil {
		return "", err
	}
	key := make([]byte, 1024)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	keyFile := filepath.Join(md, "munge.key")
	if err := os.WriteFile(keyFile, key, 0o400); err != nil {
		return "", err
	}
	for _, p := range []string{md, keyFile} {
		if err := os.Chown(p, uid, gid); err != nil {
			return "", err
		}
	}
	sock := filepath.Join(md, "munge.socket.2")
	pidFile := filepath.Join(md, "munged.pid")
	if err := b.record("munged", pidFile); err != nil {
		return "", err
	}
	munged, err := lookPath("munged")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("setpriv", "--reuid=munge", "--regid=munge", "--init-groups", munged, "-F", "--socket="+sock,
		"--key-file="+keyFile, "--pid-file="+pidFile, "--seed-file="+filepath.Join(md, "seed"),
		"--log-file="+filepath.Join(md, "munged.log"))
	p, err := startProc("munged", cmd, filepath.Join(dir, "munged.out"))
	if err != nil {
		return "", err
	}
	if err := b.addProc(p); err != nil {
		return "", err
	}
	deadline := time.Now().Add(10 * time.Second)
	for !fileExists(sock) {
		if p.exited() || time.Now().After(deadline) || ctx.Err() != nil {
			return "", fmt.Errorf("munged did not start: %v; %s; %s", p.err, logTail(filepath.Join(dir, "munged.out")), logTail(filepath.Join(md, "munged.log")))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return sock, nil
}

// killPidFile SIGKILLs the munged whose pid a crashed run recorded, if that pid still runs munged.
func killPidFile(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return
	}
	if _, comm, ok := procInfo(pid); ok && comm == "munged" {
		_ = exec.Command("kill", "-9", strconv.Itoa(pid)).Run()
	}
}

// Env is the environment a SLURM client needs for this cluster (SLURM_CONF).
func (c *Cluster) Env() string { return "SLURM_CONF=" + c.Conf }

// Slurm runs a SLURM client command line (e.g. "squeue -h") as the cluster's user on the login host,
// with SLURM_CONF set; the line is passed to sh -c.
func (c *Cluster) Slurm(ctx context.Context, line string) (string, error) {
	return c.Login.Run(ctx, c.Env()+"; export SLURM_CONF; "+line)
}
