package slurm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nbtunnel/nbtunnel/jupyter"
)

// ErrNoOutput says the remote shell did not run a script to its end (no framed result).
var ErrNoOutput = errors.New("the remote shell did not run the script (a POSIX sh must be on the remote PATH)")

// RemoteError is a failure a script reported (no sbatch on PATH, an unwritable home, ...).
type RemoteError struct{ Message string }

func (e *RemoteError) Error() string { return e.Message }

// SubmitError is sbatch refusing the job: Message is the scheduler's own text.
type SubmitError struct {
	Status  int
	Message string
}

func (e *SubmitError) Error() string {
	return fmt.Sprintf("sbatch refused the job (exit %d): %s", e.Status, e.Message)
}

// frame parses "V KEY LEN\nVALUE\n" records between the nonce's BEGIN and END lines.
func frame(out []byte, nonce string) (map[string]string, error) {
	s := string(out)
	begin := "NBTUNNEL-BEGIN " + nonce + " "
	i := strings.Index(s, begin)
	if i < 0 {
		return nil, ErrNoOutput
	}
	s = s[i+len(begin):]
	if nl := strings.IndexByte(s, '\n'); nl >= 0 {
		s = s[nl+1:]
	} else {
		return nil, ErrNoOutput
	}
	vals := map[string]string{}
	end := "NBTUNNEL-END " + nonce
	for {
		if strings.HasPrefix(s, end) {
			break
		}
		nl := strings.IndexByte(s, '\n')
		if nl < 0 {
			return nil, fmt.Errorf("parsing script output: %w (truncated)", ErrNoOutput)
		}
		line := s[:nl]
		s = s[nl+1:]
		rest, ok := strings.CutPrefix(line, "V ")
		if !ok {
			continue
		}
		key, n, ok := strings.Cut(rest, " ")
		size, err := strconv.Atoi(n)
		if !ok || err != nil || size < 0 || size >= len(s) || s[size] != '\n' {
			return nil, fmt.Errorf("parsing script output: bad record %q", line)
		}
		vals[key] = s[:size]
		s = s[size+1:]
	}
	if msg, ok := vals["error"]; ok {
		return nil, &RemoteError{Message: msg}
	}
	return vals, nil
}

// ParseSubmit returns the id of the job SubmitScript submitted, or a *SubmitError carrying sbatch's own
// message, or a *RemoteError.
func ParseSubmit(out []byte, nonce string) (string, error) {
	v, err := frame(out, nonce)
	if err != nil {
		return "", err
	}
	msg := strings.TrimSpace(v["out"])
	if rc, _ := strconv.Atoi(v["rc"]); rc != 0 || v["rc"] == "" {
		return "", &SubmitError{Status: rc, Message: msg}
	}
	// --parsable prints "ID" or "ID;CLUSTER", possibly after warnings.
	lines := strings.Split(msg, "\n")
	id, _, _ := strings.Cut(strings.TrimSpace(lines[len(lines)-1]), ";")
	if _, err := strconv.Atoi(id); err != nil {
		return "", fmt.Errorf("reading sbatch output: no job id in %q", msg)
	}
	return id, nil
}

// Job is one job as StatusScript saw it.
type Job struct {
	ID        string
	State     string // PENDING, RUNNING, ... (squeue %T), or the final JobState once it ended
	Reason    string // why it pends ("Priority", "Resources"), or why it ended ("TimeLimit")
	Node      string // the node it runs on ("" while pending)
	NodeAddr  string // the node's NodeAddr from scontrol ("" when unknown)
	TimeLeft  string // squeue %L
	TimeLimit string // squeue %l, or TimeLimit from scontrol
	Partition string
	Ended     bool // the job is no longer in the queue

	Mode    string // "loopback", "addr=IP" or "" (not decided yet)
	Nonce   string // the launch framing nonce
	Current int    // the number of the latest start of Jupyter in the job (0: none yet)
	Launch  string // the latest start's framed output ("" when none)
}

// Server parses the latest start's result: ok false while Jupyter is still starting; a start that failed
// is an error (*jupyter.LaunchError with the log tail).
func (j Job) Server() (r jupyter.LaunchResult, ok bool, err error) {
	if j.Launch == "" || j.Nonce == "" || !strings.Contains(j.Launch, "NBTUNNEL-END "+j.Nonce) {
		return r, false, nil
	}
	r, err = jupyter.ParseLaunch([]byte(j.Launch+"\n"), j.Nonce)
	if err != nil {
		return r, false, err
	}
	return r, true, nil
}

// TimedOut reports whether the job ended at its time limit.
func (j Job) TimedOut() bool { return j.Ended && (j.State == "TIMEOUT" || j.Reason == "TimeLimit") }

// ParseStatus parses StatusScript's output: the jobs found, in squeue's order.
func ParseStatus(out []byte, nonce string) ([]Job, error) {
	v, err := frame(out, nonce)
	if err != nil {
		return nil, err
	}
	var jobs []Job
	for _, line := range strings.Split(v["squeue"], "\n") {
		f := strings.Split(line, "|")
		if len(f) < 8 {
			continue
		}
		j := Job{ID: f[0], State: f[1], Reason: f[2], Node: f[3], TimeLeft: f[4], Partition: f[5], TimeLimit: f[6]}
		if j.Reason == "None" {
			j.Reason = ""
		}
		if j.Node == "" || strings.HasPrefix(j.Node, "(") {
			j.Node = ""
		}
		if n := v[j.ID+".node"]; n != "" && j.Node == "" {
			j.Node = n
		}
		j.NodeAddr = field(v[j.ID+".nodeinfo"], "NodeAddr")
		j.Mode = strings.TrimSpace(v[j.ID+".mode"])
		j.Nonce = strings.TrimSpace(v[j.ID+".nonce"])
		j.Current, _ = strconv.Atoi(v[j.ID+".current"])
		j.Launch = v[j.ID+".launch"]
		jobs = append(jobs, j)
	}
	if ended, ok := v["ended"]; ok {
		if id := field(ended, "JobId"); id != "" {
			jobs = append(jobs, Job{ID: id, Ended: true, State: field(ended, "JobState"), Reason: field(ended, "Reason"),
				Node: field(ended, "NodeList"), TimeLimit: field(ended, "TimeLimit"), Partition: field(ended, "Partition")})
		}
	}
	return jobs, nil
}

// field returns KEY's value in scontrol's one-line "KEY=VALUE KEY=VALUE" output.
func field(s, key string) string {
	for _, f := range strings.Fields(s) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			if v == "(null)" {
				return ""
			}
			return v
		}
	}
	return ""
}

// ParseMode returns the mode recorded for the job (the one written before, if another nbtunnel won).
func ParseMode(out []byte, nonce string) (string, error) {
	v, err := frame(out, nonce)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(v["mode"]), nil
}

// ParseCancel returns nil when scancel succeeded, else an error with its message.
func ParseCancel(out []byte, nonce string) error {
	v, err := frame(out, nonce)
	if err != nil {
		return err
	}
	if v["rc"] != "0" {
		return fmt.Errorf("scancel: %s", strings.TrimSpace(v["out"]))
	}
	return nil
}
