// Package testbed starts real OpenSSH servers and real Jupyter servers inside Linux network namespaces for
// nbtunnel's end-to-end tests.
//
// A Bed owns a private directory (keys, configs, logs), one client key, one known_hosts file and one ssh_config
// file. Each Host added to it gets its own network namespace, its own veth link (10.213.0.0/16, one /30 per
// link), its own Unix user (key login only, home under /home) and its own sshd listening on port 22 of the link
// address. A host made with HostOptions.BehindJump has no link to the root namespace at all: it is linked only
// to the jump host's namespace, and the root namespace routes its /30 to "unreachable", so it can be reached
// only through the jump host (ssh ProxyJump, which SSHConfig sets up).
//
// Jupyter servers (classic Notebook 6 or jupyter_server 1.x) run as the host's user inside the host's namespace,
// bound to 127.0.0.1 or to a unix socket, so they are reachable only through SSH. Tokens are passed through the
// JUPYTER_TOKEN environment variable and never appear in any process's argv.
//
// Typical use in a test:
//
//	bed := testbed.New(t) // skips unless root with sshd, ssh, ip, jupyter-notebook, jupyter-server
//	h, err := bed.AddHost(ctx, testbed.HostOptions{Alias: "lab"})
//	j, err := h.StartJupyter(ctx, testbed.JupyterOptions{Kind: testbed.KindServer, BaseURL: "/x/"})
//	// run the product with -F bed.SSHConfig lab, expect j.Token / j.Port ...
//
// What a test can do with the pieces:
//
//   - bed.SSHCommand(ctx, "lab", "true") runs the real OpenSSH client with bed.SSHConfig.
//   - h.Run(ctx, script) runs "sh -c script" as h.User inside h.Netns (no SSH); h.RunRoot runs it as root there.
//   - h.DialContext(ctx, "tcp", "127.0.0.1:PORT") connects from inside the namespace; j.Get and j.HTTPClient
//     talk to a Jupyter server there directly.
//   - Faults: h.KillSSHDConnections (drops every live connection), h.StopSSHD / h.RestartSSHD,
//     h.ChangeHostKey (then bed.UpdateKnownHosts to trust the new key), j.Kill (leaves a stale runtime file),
//     j.Stop (clean exit, runtime file removed).
//   - PuTTY: bed.PuTTYKey(ctx, 2 or 3, passphrase) converts ClientKey to a .ppk file; h.PuTTYHostKey and
//     WritePuTTYHostKeys(dir, hosts...) give plink a trusted host key cache. PuTTY 0.78 on Linux ignores $HOME
//     (it uses the password database's home): run plink with PUTTYDIR=dir so it never touches root's ~/.putty.
//
// Clusters: bed.AddCluster(ctx, ClusterOptions{Login: "hpc", Node: "cn1"}) adds a real SLURM cluster (pass
// SlurmBinaries to New or Require): a login host running slurmctld and a compute host behind it
// (BehindJump) running slurmd and its own sshd in network, PID, UTS (hostname = its alias) and mount
// namespaces of its own, so that a pid seen from the login host says nothing about the node. Both hosts share
// one user and home (HostOptions.ShareUserWith), the node is listed in KnownHosts by name and address
// (KnownByAlias), one munged of the run's own (own key) serves both, and both sshd set SLURM_CONF for
// sessions. The node has one CPU: a second job pends. c.Slurm(ctx, "squeue -h") runs a client as the user;
// c.Node.RunInNode runs as root inside the node's namespaces; c.Node.Spawn starts a daemon there.
//
// Windows: SharedWine(t) gives the run's Wine prefix (see Wine): nbtunnel.exe and the suite's small Windows
// programs (testdata: winrelay, a user's ProxyCommand; winspawn, CreateProcess as Win32-OpenSSH runs a
// ProxyCommand; testpageant, Pageant's window and pipe; winbrowser, a browser that records what it was given)
// are cross-built with BuildWindows and run under Wine against the same hosts. CloseWine removes the prefix.
//
// Require skips a test when the machine cannot run the bed (not root, a binary missing); when the environment
// variable NBTUNNEL_E2E is "1" it fails the test instead, so CI never silently skips.
//
// Names: every run picks a random 8-hex-digit suffix R. Namespaces are "nbt-ALIAS-R", links "nbtRr0"/"nbtRn0",
// users "nbtRa", "nbtRb", ... Each Bed records what it creates under /run/nbtunnel-testbed/R and holds a lock
// there while it lives; Start removes what dead runs (crashed test binaries) left behind, and nothing else.
//
// Close kills every process the Bed started and every process left in its namespaces or running as its users,
// then removes namespaces, links, routes, users and files. It is bounded in time and idempotent.
//
// Concurrency: a Bed's methods (AddHost, Close, PuTTYKey, ...) are safe for concurrent use. Host and Jupyter
// methods may be called concurrently for different values; ChangeHostKey and RestartSSHD on the same Host must
// not race with each other.
package testbed
