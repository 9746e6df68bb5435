package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
	"github.com/nbtunnel/nbtunnel/proxy/tunnel"
	"github.com/nbtunnel/nbtunnel/slurm"
)

// slurmFlags are the cluster flags of open, list and stop.
type slurmFlags struct {
	on        bool
	sbatch    string
	sbatchSet bool
	job       string
}

func addSlurmFlags(fs *flag.FlagSet, sf *slurmFlags) {
	fs.BoolVar(&sf.on, "slurm", false, "HOST is a SLURM login host: run Jupyter in a batch job")
	fs.Func("sbatch", "sbatch options for a new job (implies --slurm)", func(s string) error {
		sf.sbatch, sf.sbatchSet, sf.on = s, true, true
		return nil
	})
	fs.StringVar(&sf.job, "job", "", "(--slurm) the job to use, by id")
}

// slurmPoll is how often open asks the scheduler about a job that just started to wait or to run; a job
// that keeps waiting is asked about less often (waitPoll), and a job with a live link every slurmWatch:
// squeue in a tight loop for hours is not how to treat a shared scheduler.
const (
	slurmPoll  = 500 * time.Millisecond
	slurmWatch = 5 * time.Second
)

// waitPoll is the pause between questions about a job that has waited for d.
func waitPoll(d time.Duration) time.Duration {
	switch {
	case d < 10*time.Second:
		return slurmPoll
	case d < 2*time.Minute:
		return 2 * time.Second
	default:
		return 10 * time.Second
	}
}

// cluster is one login host's connection and what we know of it.
type cluster struct {
	e     *env
	alias string
	h     *hostconf.Host
	// nodeKeys checks the nodes' host keys: the login host's known_hosts, or for a PuTTY session
	// PuTTY's whole host-key cache (a session's own checker is bound to the session's host).
	nodeKeys hostkeys.Checker
	mu       sync.Mutex
	login    *sshclient.Client
}

func (cl *cluster) client() *sshclient.Client {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.login
}

func (cl *cluster) close() {
	if c := cl.client(); c != nil {
		c.Close()
	}
}

// run runs a script of package slurm on the login host, reconnecting once when the connection is gone.
func (cl *cluster) run(ctx context.Context, script func(nonce string) []byte) ([]byte, string, error) {
	nonce, err := jupyter.NewNonce()
	if err != nil {
		return nil, "", err
	}
	c := cl.client()
	select {
	case <-c.Done():
		nc, err := sshclient.Dial(ctx, cl.h, cl.e.dialOptions(false))
		if err != nil {
			return nil, "", err
		}
		cl.mu.Lock()
		cl.login = nc
		cl.mu.Unlock()
		c.Close()
		c = nc
	default:
	}
	out, err := c.Output(ctx, slurm.Command(), script(nonce))
	var exit *sshclient.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, "", err
	}
	return out, nonce, nil
}

func (cl *cluster) status(ctx context.Context, id string) ([]slurm.Job, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, nonce, err := cl.run(ctx, func(n string) []byte { return slurm.StatusScript(id, n) })
	if err != nil {
		return nil, fmt.Errorf("asking the scheduler on %s: %w", cl.alias, err)
	}
	jobs, err := slurm.ParseStatus(out, nonce)
	if err != nil {
		return nil, fmt.Errorf("asking the scheduler on %s: %w", cl.alias, err)
	}
	return jobs, nil
}

func (cl *cluster) job(ctx context.Context, id string) (slurm.Job, error) {
	jobs, err := cl.status(ctx, id)
	if err != nil {
		return slurm.Job{}, err
	}
	for _, j := range jobs {
		if j.ID == id {
			return j, nil
		}
	}
	return slurm.Job{}, fmt.Errorf("job %s is not known to the scheduler on %s", id, cl.alias)
}

func (cl *cluster) cancel(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, nonce, err := cl.run(ctx, func(n string) []byte { return slurm.CancelScript(id, n) })
	if err != nil {
		return fmt.Errorf("cancelling job %s on %s: %w", id, cl.alias, err)
	}
	if err := slurm.ParseCancel(out, nonce); err != nil {
		return fmt.Errorf("cancelling job %s on %s: %w", id, cl.alias, err)
	}
	return nil
}

// newCluster connects to the login host.
func (e *env) newCluster(ctx context.Context, alias string, hf *hostFlags) (*cluster, int) {
	h, login, code := e.connect(ctx, alias, hf)
	if login == nil {
		return nil, code
	}
	cl := &cluster{e: e, alias: alias, h: h, login: login}
	keys, err := e.nodeKeys(hf)
	if err != nil {
		login.Close()
		return nil, e.exitCode(alias, h, err)
	}
	cl.nodeKeys = keys
	return cl, 0
}

// nodeKeys is the host-key checker for nodes: nil (the login host's own) for OpenSSH, PuTTY's whole
// host-key cache for a PuTTY session.
func (e *env) nodeKeys(hf *hostFlags) (hostkeys.Checker, error) {
	if hf.putty == "" {
		return nil, nil
	}
	store, err := e.puttyStore()
	if err != nil {
		return nil, err
	}
	return store.HostKeys()
}

// sideSlurm is the ProxyCommand hook's Jupyter part for a host installed with --slurm: attach to our job
// on the cluster, or submit one with the host's default sbatch options, and show the link on the user's
// terminal. A job it submitted that still waits when the ssh session ends is cancelled.
func (e *env) sideSlurm(ctx context.Context, alias string, hf *hostFlags, h *hostconf.Host, opts sshclient.Options, term io.Writer, via *sshclient.Client) {
	fail := func(err error) {
		if ctx.Err() == nil {
			termLine(term, "nbtunnel: no Jupyter link for %s: %v", alias, err)
		}
	}
	var login *sshclient.Client
	var err error
	if via != nil {
		login, err = sshclient.DialVia(ctx, via, h, opts)
	} else {
		login, err = sshclient.Dial(ctx, h, opts)
	}
	if err != nil {
		fail(err)
		return
	}
	cl := &cluster{e: e, alias: alias, h: h, login: login}
	defer cl.close()
	if cl.nodeKeys, err = e.nodeKeys(hf); err != nil {
		fail(err)
		return
	}
	out := jobOutput{
		say:  func(format string, args ...any) { termLine(term, "nbtunnel: "+format, args...) },
		link: func(link string) { termLine(term, "Jupyter on %s: %s", alias, link) },
	}
	id, submitted, err := e.findOrSubmit(ctx, cl, &slurmFlags{}, jupyter.LaunchOptions{}, out)
	if err == nil {
		err = e.followJob(ctx, cl, id, submitted, 0, out)
	}
	if err != nil {
		fail(err)
	}
}

// sbatchDefaults reads the per-host default sbatch options from CONFIG/nbtunnel/slurm.
func (e *env) sbatchDefaults(alias string) (string, string, error) {
	path := filepath.Join(stateDir(e.getenv), "slurm")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", path, nil
	}
	if err != nil {
		return "", path, err
	}
	v, err := slurm.Defaults(data, path, alias)
	return v, path, err
}

// jobOutput is where a followed job's progress and link go: the terminal's stderr and stdout for open, the
// user's ssh terminal for the ProxyCommand hook.
type jobOutput struct {
	say    func(format string, args ...any)
	link   func(link string)
	repeat bool // say the unchanged state of a waiting job again every 30 s
}

// openSlurm is open --slurm: find or submit our job, wait for it, forward to its Jupyter, watch.
func (e *env) openSlurm(ctx context.Context, alias string, hf *hostFlags, sf *slurmFlags, launch jupyter.LaunchOptions, localPort int) int {
	cl, code := e.newCluster(ctx, alias, hf)
	if cl == nil {
		return code
	}
	defer cl.close()
	out := jobOutput{say: e.ui.say, link: e.ui.link, repeat: true}
	id, submitted, err := e.findOrSubmit(ctx, cl, sf, launch, out)
	if err == nil {
		err = e.followJob(ctx, cl, id, submitted, localPort, out)
	}
	if err != nil {
		return e.exitCode(alias, cl.h, err)
	}
	return 0
}

// findOrSubmit picks the job to follow: --job, else (without --sbatch) our newest job in the queue, else a
// new one submitted with --sbatch or the host's defaults. submitted says we submitted it.
func (e *env) findOrSubmit(ctx context.Context, cl *cluster, sf *slurmFlags, launch jupyter.LaunchOptions, out jobOutput) (id string, submitted bool, err error) {
	alias := cl.alias
	switch {
	case sf.job != "":
		j, err := cl.job(ctx, sf.job)
		if err != nil {
			return "", false, err
		}
		return j.ID, false, nil
	case !sf.sbatchSet:
		jobs, err := cl.status(ctx, "")
		if err != nil {
			return "", false, err
		}
		if len(jobs) > 0 {
			j := jobs[len(jobs)-1]
			out.say("found job %s of ours (%s%s); attaching", j.ID, j.State, onNode(j))
			if len(jobs) > 1 {
				out.say("%d other job(s) of ours on %s; pick one with --job ID ('nbtunnel list --slurm %s')", len(jobs)-1, alias, alias)
			}
			return j.ID, false, nil
		}
	}
	args := sf.sbatch
	if !sf.sbatchSet {
		def, path, err := e.sbatchDefaults(alias)
		if err != nil {
			return "", false, withHint(err, "fix or remove "+path)
		}
		if def != "" {
			e.ui.status("sbatch options for %s from %s: %s", alias, path, def)
		}
		args = def
	}
	sargs, err := slurm.SplitArgs(args)
	if err != nil {
		return "", false, usagef("open: %v", err)
	}
	token, err := newToken()
	if err != nil {
		return "", false, err
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	outb, nonce, err := cl.run(sctx, func(n string) []byte {
		return slurm.SubmitScript(slurm.SubmitOptions{Sbatch: sargs, Launch: launch, Token: token}, n)
	})
	cancel()
	if err != nil {
		return "", false, fmt.Errorf("submitting a job on %s: %w", alias, err)
	}
	id, err = slurm.ParseSubmit(outb, nonce)
	if err != nil {
		var se *slurm.SubmitError
		if errors.As(err, &se) {
			return "", false, withHint(fmt.Errorf("submitting a job on %s: %w", alias, err),
				"check the --sbatch options (or the defaults in "+filepath.Join(stateDir(e.getenv), "slurm")+")")
		}
		return "", false, fmt.Errorf("submitting a job on %s: %w", alias, err)
	}
	out.say("submitted job %s on %s", id, alias)
	return id, true, nil
}

func onNode(j slurm.Job) string {
	if j.Node == "" {
		return ""
	}
	return " on " + j.Node
}

// jobEnded is a job that left the queue while we waited or watched.
type jobEnded struct{ j slurm.Job }

func (e *jobEnded) Error() string {
	j := e.j
	if j.TimedOut() {
		return fmt.Sprintf("job %s reached its time limit (%s) and was ended by the scheduler; its Jupyter is gone", j.ID, orDash(j.TimeLimit))
	}
	why := ""
	if j.Reason != "" && j.Reason != "None" {
		why = ", reason " + j.Reason
	}
	return fmt.Sprintf("job %s ended (%s%s); its Jupyter is gone", j.ID, orDash(j.State), why)
}

// followJob waits for job id to run, decides how to reach the node, waits for Jupyter and forwards.
func (e *env) followJob(ctx context.Context, cl *cluster, id string, submitted bool, localPort int, out jobOutput) error {
	f := &jobFollow{e: e, cl: cl, id: id, submitted: submitted, out: out}
	if err := f.follow(ctx, localPort); err != errInterrupted {
		return err
	}
	return nil
}

// errInterrupted ends a jobFollow whose context was cancelled, after it has
// told the user what became of the job; followJob reports it as success.
var errInterrupted = errors.New("interrupted")

// jobFollow is one followJob: the job as last seen, the connection to its
// node and the forward that points at its Jupyter.
type jobFollow struct {
	e         *env
	cl        *cluster
	id        string
	submitted bool // this nbtunnel submitted the job, so cancels it when it gives up
	out       jobOutput

	j       slurm.Job
	running time.Time         // when the job was first seen running
	hop     bool              // Jupyter listens on the node's loopback, reached through node
	node    *sshclient.Client // the node connection when hop; nil while it is being re-made
	fwd     *proxy.Forwarder  // set once the forward listens
}

// follow runs the phases in turn: wait for the job, reach its node, wait for
// Jupyter, forward to it, then watch the job until it ends or ctx is done.
func (f *jobFollow) follow(ctx context.Context, localPort int) error {
	if err := f.waitRunning(ctx); err != nil {
		return err
	}
	f.out.say("job %s running on %s; starting Jupyter ...", f.id, f.j.Node)
	f.running = time.Now()

	if err := f.reachNode(ctx); err != nil {
		return err
	}
	defer func() {
		if f.node != nil {
			f.node.Close()
		}
	}()
	f.e.ui.status("job %s: reaching the node settled %v after it started running", f.id, time.Since(f.running).Round(time.Millisecond))

	r, err := f.waitServer(ctx)
	if err != nil {
		return err
	}
	f.e.ui.status("job %s: Jupyter's runtime file seen %v after the job started running", f.id, time.Since(f.running).Round(time.Millisecond))

	state := loadPortState(f.e.getenv)
	fwd, err := listenFor(ctx, localPort, state.get(f.cl.alias, "slurm"), r.Server)
	if err != nil {
		return err
	}
	f.fwd = fwd
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- fwd.Serve(serveCtx) }()
	defer func() {
		stopServe()
		fwd.Close()
		<-served
	}()
	link, err := f.startForward(ctx, state, r.Server)
	if err != nil {
		return err
	}
	return f.watch(ctx, r.Server, link)
}

// cancelOurs cancels the job if this nbtunnel submitted it, saying why.
func (f *jobFollow) cancelOurs(why string) {
	if !f.submitted {
		return
	}
	cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.cl.cancel(cctx, f.id); err != nil {
		f.out.say("warning: %v", err)
		return
	}
	f.out.say("cancelled job %s, which this nbtunnel submitted (%s)", f.id, why)
}

// waitRunning polls the queue until the job runs and has recorded its node,
// saying what it waits for whenever that changes.
func (f *jobFollow) waitRunning(ctx context.Context) error {
	last, lastSaid := "", time.Time{}
	start := time.Now()
	for {
		var err error
		f.j, err = f.cl.job(ctx, f.id)
		if ctx.Err() != nil {
			f.cancelOurs("interrupted while it waited")
			return errInterrupted
		}
		if err != nil {
			return err
		}
		j := f.j
		if j.Ended {
			return &jobEnded{j}
		}
		if j.State == "RUNNING" && j.Node != "" && j.NodeAddr != "" {
			return nil
		}
		now := fmt.Sprintf("%s/%s", j.State, j.Reason)
		if now != last || f.out.repeat && time.Since(lastSaid) > 30*time.Second {
			f.sayWaiting(start)
			last, lastSaid = now, time.Now()
		}
		select {
		case <-ctx.Done():
		case <-time.After(waitPoll(time.Since(start))):
		}
	}
}

// sayWaiting tells the user what the job waits for.
func (f *jobFollow) sayWaiting(start time.Time) {
	j := f.j
	switch j.State {
	case "PENDING":
		why := ""
		if j.Reason != "" {
			why = " (" + j.Reason + ")"
		}
		f.out.say("job %s queued on partition %s%s; waiting %s ...", f.id, orDash(j.Partition), why, time.Since(start).Round(time.Second))
	default:
		f.out.say("job %s %s%s; waiting ...", f.id, strings.ToLower(j.State), onNode(j))
	}
}

// reachNode decides where Jupyter listens: the node's loopback when we can log
// in to the node through the login host, else the node's own address (with
// its token).
func (f *jobFollow) reachNode(ctx context.Context) error {
	node, err := f.e.decideMode(ctx, f.cl, &f.j)
	if err != nil {
		if ctx.Err() != nil {
			f.cancelOurs("interrupted while it started")
			return errInterrupted
		}
		f.cancelOurs("its node could not be reached")
		return err
	}
	f.node, f.hop = node, node != nil
	return nil
}

// waitServer waits for the job's Jupyter to write its runtime file, ending
// when the job ends or Jupyter fails to start.
func (f *jobFollow) waitServer(ctx context.Context) (jupyter.LaunchResult, error) {
	for {
		if ctx.Err() != nil {
			if f.submitted {
				f.cancelOurs("interrupted before its Jupyter answered")
			} else {
				f.out.say("job %s keeps running on %s; 'nbtunnel stop --slurm %s' cancels it", f.id, f.j.Node, f.cl.alias)
			}
			return jupyter.LaunchResult{}, errInterrupted
		}
		r, ok, err := f.j.Server()
		if err != nil {
			var le *jupyter.LaunchError
			if errors.As(err, &le) {
				f.cancelOurs("its Jupyter did not start")
				return jupyter.LaunchResult{}, f.e.explainLaunch(f.j.Node, le)
			}
			return jupyter.LaunchResult{}, fmt.Errorf("job %s on %s: %w", f.id, f.j.Node, err)
		}
		if ok {
			return r, nil
		}
		select {
		case <-ctx.Done():
			continue
		case <-time.After(min(waitPoll(time.Since(f.running)), 2*time.Second) / 2):
		}
		nj, err := f.cl.job(ctx, f.id)
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			return jupyter.LaunchResult{}, err
		}
		if nj.Ended {
			return jupyter.LaunchResult{}, &jobEnded{nj}
		}
		f.j = nj
	}
}

// point aims the forward at server s: through the node connection when hop
// (nowhere while it is down), else through the login host to the node's
// address.
func (f *jobFollow) point(s jupyter.Server) {
	if f.hop {
		if f.node == nil {
			f.fwd.SetTarget(nil, "", "")
			return
		}
		network, addr := s.Target()
		f.fwd.SetTarget(f.node, network, addr)
		return
	}
	f.fwd.SetTarget(f.cl.client(), "tcp", directAddr(f.j, s))
}

// startForward points the listening forward at s, checks the link answers,
// gives it to the user and remembers the port; it returns the link.
func (f *jobFollow) startForward(ctx context.Context, state *portState, s jupyter.Server) (string, error) {
	f.point(s)
	if err := confirmLink(ctx, f.fwd.Port(), s); err != nil {
		return "", fmt.Errorf("job %s on %s: %w", f.id, f.j.Node, err)
	}
	link := s.Link(f.fwd.Port())
	f.out.link(link)
	f.e.ui.status("link live %v after the job started running", time.Since(f.running).Round(time.Millisecond))
	if f.hop {
		f.out.say("forwarding to %s on %s through %s (ssh to the node; Jupyter listens on the node's loopback); Ctrl-C to stop", s, f.j.Node, f.cl.alias)
	} else {
		f.out.say("forwarding to %s %s from %s (Jupyter listens on the node's own address, protected by its token); Ctrl-C to stop", s.Kind, directAddr(f.j, s), f.cl.alias)
	}
	if err := state.set(f.cl.alias, "slurm", f.fwd.Port()); err != nil {
		f.e.ui.status("%v", err)
	}
	return link, nil
}

// watch polls the job while forwarding to cur: it returns when the job ends or
// ctx is done, re-makes a lost node connection and follows a restarted Jupyter.
func (f *jobFollow) watch(ctx context.Context, cur jupyter.Server, link string) error {
	for {
		select {
		case <-ctx.Done():
			f.out.say("job %s keeps running on %s; 'nbtunnel open --slurm %s' attaches again, 'nbtunnel stop --slurm %s' cancels it", f.id, f.j.Node, f.cl.alias, f.cl.alias)
			return nil
		case <-time.After(slurmWatch):
		}
		nj, err := f.cl.job(ctx, f.id)
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			f.e.ui.status("%v", err)
			continue
		}
		if nj.Ended {
			return &jobEnded{nj}
		}
		f.j = nj
		if f.hop && !f.keepNode(ctx, cur) {
			continue
		}
		cur, link = f.followRestart(ctx, cur, link)
	}
}

// keepNode re-makes the node connection when it has dropped, pointing the
// forward at cur through the new one; false while the node stays unreachable.
func (f *jobFollow) keepNode(ctx context.Context, cur jupyter.Server) bool {
	lost := f.node == nil
	if !lost {
		select {
		case <-f.node.Done():
			lost = true
			f.out.say("connection to %s lost; reconnecting", f.j.Node)
			f.node.Close()
			f.node = nil
			f.point(cur)
		default:
		}
	}
	if lost {
		nn, err := f.e.dialNode(ctx, f.cl, f.j)
		if err != nil {
			f.e.ui.status("reconnecting to %s: %v", f.j.Node, err)
			return false
		}
		f.node = nn
		f.point(cur)
	}
	return true
}

// followRestart points the forward at the job's Jupyter if it is no longer
// cur (it was restarted) and answers; it returns the server and link now in use.
func (f *jobFollow) followRestart(ctx context.Context, cur jupyter.Server, link string) (jupyter.Server, string) {
	s, ok, err := f.j.Server()
	if err != nil || !ok {
		return cur, link
	}
	if s.Server.PID == cur.PID && s.Server.Port == cur.Port && s.Server.Sock == cur.Sock && s.Server.Token == cur.Token {
		if !f.hop {
			f.point(cur) // the login connection may be new
		}
		return cur, link
	}
	f.point(s.Server)
	if err := confirmLink(ctx, f.fwd.Port(), s.Server); err != nil {
		f.e.ui.status("job %s: the restarted Jupyter does not answer yet: %v", f.id, err)
		return cur, link
	}
	f.out.say("Jupyter in job %s started again (%s)", f.id, s.Server)
	if nl := s.Server.Link(f.fwd.Port()); nl != link {
		link = nl
		f.out.link(link)
	}
	return s.Server, link
}

// directAddr is where the login host reaches a server bound to the node's own address.
func directAddr(j slurm.Job, s jupyter.Server) string {
	host := j.NodeAddr
	if ip := net.ParseIP(s.Hostname); ip != nil && !ip.IsUnspecified() {
		host = ip.String()
	}
	return net.JoinHostPort(host, strconv.Itoa(s.Port))
}

// confirmLink checks that the link answers through the local forward.
func confirmLink(ctx context.Context, port int, s jupyter.Server) error {
	return tunnel.ConfirmLink(ctx, port, s)
}

// nodeHost is how we log in to a job's node: as on the login host (user, keys, host-key database), at the
// node's address, through the login host's connection.
func nodeHost(login *hostconf.Host, keys hostkeys.Checker, j slurm.Job) *hostconf.Host {
	n := *login
	n.Alias = j.Node
	n.HostName = j.NodeAddr
	if n.HostName == "" {
		n.HostName = j.Node
	}
	n.Port = 22
	n.HostKeyAlias = ""
	if keys != nil {
		n.HostKeys = keys
	}
	n.ProxyJump = nil
	n.ProxyCommand = ""
	n.ControlPath = ""
	n.ControlMaster = ""
	n.LocalForwards = nil
	return &n
}

func (e *env) dialNode(ctx context.Context, cl *cluster, j slurm.Job) (*sshclient.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return sshclient.DialVia(dctx, cl.client(), nodeHost(cl.h, cl.nodeKeys, j), e.dialOptions(false))
}

// decideMode returns a connection to the node when Jupyter listens on its loopback (hop mode), or nil
// when it listens on the node's address (direct mode). A job whose mode is already recorded keeps it.
func (e *env) decideMode(ctx context.Context, cl *cluster, j *slurm.Job) (*sshclient.Client, error) {
	if j.Mode == "" {
		node, derr := e.dialNode(ctx, cl, *j)
		mode := "loopback"
		if derr != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var hk *hostkeys.KeyError
			if errors.As(derr, &hk) {
				// An unknown or changed host key is the user's to settle, never a reason to go around it.
				return nil, withHint(fmt.Errorf("job %s: logging in to node %s (%s) through %s: %w", j.ID, j.Node, j.NodeAddr, cl.alias, derr),
					"check the node's host key, then add it to your known hosts (ssh -J "+cl.alias+" "+j.NodeAddr+" once), and try again")
			}
			mode = "addr=" + j.NodeAddr
		}
		mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		out, nonce, err := cl.run(mctx, func(n string) []byte { return slurm.ModeScript(j.ID, mode, n) })
		cancel()
		if err == nil {
			mode, err = slurm.ParseMode(out, nonce)
		}
		if err != nil {
			if node != nil {
				node.Close()
			}
			return nil, fmt.Errorf("telling job %s where Jupyter listens: %w", j.ID, err)
		}
		j.Mode = mode
		if mode == "loopback" && node != nil {
			e.ui.say("reaching %s by ssh through %s: Jupyter listens on the node's loopback", j.Node, cl.alias)
			return node, nil
		}
		if node != nil {
			node.Close()
		}
		if derr != nil {
			e.ui.say("cannot log in to %s through %s (%v): Jupyter listens on the node's address %s only, protected by its token", j.Node, cl.alias, derr, j.NodeAddr)
		}
	}
	if j.Mode == "loopback" {
		node, err := e.dialNode(ctx, cl, *j)
		if err != nil {
			return nil, withHint(fmt.Errorf("job %s: Jupyter listens on the loopback of %s, but logging in there through %s failed: %w", j.ID, j.Node, cl.alias, err),
				"the site may allow ssh to a node only while you have a job there; check 'ssh -J "+cl.alias+" "+j.Node+"'")
		}
		e.ui.status("logged in to %s through %s", j.Node, cl.alias)
		return node, nil
	}
	if !strings.HasPrefix(j.Mode, "addr=") {
		return nil, fmt.Errorf("job %s: unknown mode %q in its records", j.ID, j.Mode)
	}
	e.ui.say("Jupyter of job %s listens on %s only (%s is not reachable by ssh), protected by its token", j.ID, strings.TrimPrefix(j.Mode, "addr="), j.Node)
	return nil, nil
}

// clusterJobs logs in to alias's cluster and lists our jobs there. On
// failure it returns a nil cluster and the exit code; otherwise the caller
// closes the cluster.
func (e *env) clusterJobs(ctx context.Context, alias string, hf *hostFlags) (*cluster, []slurm.Job, int) {
	cl, code := e.newCluster(ctx, alias, hf)
	if cl == nil {
		return nil, nil, code
	}
	jobs, err := cl.status(ctx, "")
	if err != nil {
		code := e.exitCode(alias, cl.h, err)
		cl.close()
		return nil, nil, code
	}
	return cl, jobs, 0
}

// listSlurm is list --slurm: our jobs, with node, state, time left and their servers.
func (e *env) listSlurm(ctx context.Context, alias string, hf *hostFlags) int {
	cl, jobs, code := e.clusterJobs(ctx, alias, hf)
	if cl == nil {
		return code
	}
	defer cl.close()
	if len(jobs) == 0 {
		e.ui.say("no job of ours (%s) on %s", slurm.JobName, alias)
		return 0
	}
	w := tabwriter.NewWriter(e.ui.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "JOB\tSTATE\tNODE\tTIME LEFT\tPARTITION\tSERVER")
	for _, j := range jobs {
		server := "-"
		if s, ok, err := j.Server(); err != nil {
			server = "failed to start"
		} else if ok {
			where := "loopback"
			if strings.HasPrefix(j.Mode, "addr=") {
				where = directAddr(j, s.Server)
			}
			server = fmt.Sprintf("%s pid %d (%s, %s)", s.Server.Kind, s.Server.PID, where, describeAddr(s.Server))
		} else if j.State == "RUNNING" {
			server = "starting"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.State, orDash(j.Node), orDash(j.TimeLeft), orDash(j.Partition), printable(server))
	}
	w.Flush()
	return 0
}

func describeAddr(s jupyter.Server) string {
	if s.Sock != "" {
		return "socket " + s.Sock
	}
	return "port " + strconv.Itoa(s.Port)
}

// stopSlurm is stop --slurm: scancel our job (--job ID), or every job of ours.
func (e *env) stopSlurm(ctx context.Context, alias string, hf *hostFlags, sf *slurmFlags) int {
	cl, jobs, code := e.clusterJobs(ctx, alias, hf)
	if cl == nil {
		return code
	}
	defer cl.close()
	n := 0
	for _, j := range jobs {
		if sf.job != "" && j.ID != sf.job {
			continue
		}
		if err := cl.cancel(ctx, j.ID); err != nil {
			return e.exitCode(alias, cl.h, err)
		}
		e.ui.say("cancelled job %s (%s%s)", j.ID, j.State, onNode(j))
		n++
	}
	if n == 0 {
		if sf.job != "" {
			return e.exitCode(alias, cl.h, withHint(fmt.Errorf("no job %s of ours (%s) on %s", sf.job, slurm.JobName, alias), "'nbtunnel list --slurm "+alias+"' shows them"))
		}
		e.ui.say("no job of ours (%s) on %s", slurm.JobName, alias)
	}
	return 0
}

// jobServers maps the runtime files of f's servers whose pid is not alive here to the job of ours that
// runs them on another node (a shared home shows every node's runtime files). It asks the scheduler only
// when there are such files, and returns nil when the host has no SLURM or no job of ours.
func (e *env) jobServers(ctx context.Context, c *sshclient.Client, f *tunnel.Found) map[string]slurm.Job {
	// Every skipped file counts, not only those whose pid is dead here: a node's pid may name some other
	// process on this host.
	if len(f.Skipped) == 0 {
		return nil
	}
	cl := &cluster{e: e, alias: c.Host.Alias, h: c.Host, login: c}
	jobs, err := cl.status(ctx, "")
	if err != nil {
		e.ui.status("not a cluster login host? %v", err)
		return nil
	}
	m := map[string]slurm.Job{}
	for _, j := range jobs {
		if r, ok, err := j.Server(); ok && err == nil && r.Server.File != "" {
			m[r.Server.File] = j
		}
	}
	return m
}

// noteJobServers says which runtime files belong to servers of our jobs on other nodes, so that they are
// not taken for stale ones; it returns how many there were.
func (e *env) noteJobServers(ctx context.Context, c *sshclient.Client, alias string, f *tunnel.Found) int {
	m := e.jobServers(ctx, c, f)
	n := 0
	for _, sk := range f.Skipped {
		if j, ok := m[sk.Server.File]; ok {
			e.ui.say("%s (pid %d on node %s) belongs to job %s, running there: 'nbtunnel open --slurm %s' forwards to it", sk.Server.File, sk.Server.PID, j.Node, j.ID, alias)
			n++
		}
	}
	return n
}

// clusterAware wraps open's NoServer hook: on a login host whose only servers run in our jobs on other
// nodes, open points at them instead of starting Jupyter on the login host.
func (e *env) clusterAware(alias string, next func(context.Context, *sshclient.Client, *tunnel.Found) (*jupyter.Server, error)) func(context.Context, *sshclient.Client, *tunnel.Found) (*jupyter.Server, error) {
	return func(ctx context.Context, c *sshclient.Client, f *tunnel.Found) (*jupyter.Server, error) {
		if e.noteJobServers(ctx, c, alias, f) > 0 {
			return nil, withHint(fmt.Errorf("no Jupyter server runs on %s itself; the ones found run in batch jobs on other nodes", alias),
				fmt.Sprintf("'nbtunnel open --slurm %s' forwards to your job's server", alias))
		}
		return next(ctx, c, f)
	}
}
