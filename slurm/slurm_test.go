package slurm_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/slurm"
)

func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{"", nil, false},
		{"  --partition=gpu   --time=4:00:00 ", []string{"--partition=gpu", "--time=4:00:00"}, false},
		{`--comment='two words' -J "a \"b\""`, []string{"--comment=two words", "-J", `a "b"`}, false},
		{`--x=a\ b '' "$(id)"`, []string{"--x=a b", "", "$(id)"}, false},
		{`--comment='open`, nil, true},
	} {
		got, err := slurm.SplitArgs(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("SplitArgs(%q) error = %v, want error %v", tc.in, err, tc.bad)
			continue
		}
		if !tc.bad && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	file := []byte("# comment\nhpc-login  --partition=gpu --time=4:00:00\n*.cluster\t--time=1:00:00\r\nother\n")
	for _, tc := range []struct{ host, want string }{
		{"hpc-login", "--partition=gpu --time=4:00:00"},
		{"a.cluster", "--time=1:00:00"},
		{"other", ""},
		{"nowhere", ""},
	} {
		got, err := slurm.Defaults(file, "slurm.conf", tc.host)
		if err != nil || got != tc.want {
			t.Errorf("Defaults(%q) = %q, %v; want %q", tc.host, got, err, tc.want)
		}
	}
	if _, err := slurm.Defaults([]byte("[ --x\n"), "/cfg/slurm", "h"); err == nil || !strings.Contains(err.Error(), "/cfg/slurm line 1") {
		t.Errorf("bad pattern: error %v, want one naming the file and line", err)
	}
}

// fakeBin writes sh scripts named like SLURM's clients into a directory and returns it.
func fakeBin(t *testing.T, scripts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runScript(t *testing.T, home, bin string, script []byte) []byte {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-s")
	cmd.Env = []string{"HOME=" + home, "PATH=" + bin + ":/usr/bin:/bin"}
	cmd.Stdin = strings.NewReader(string(script))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("running the script: %v\n%s", err, out)
	}
	return out
}

// TestSubmitScript runs the submit script with a fake sbatch: hostile option values reach it verbatim, the
// token only through a 0600 file, and the job script is one sh accepts.
func TestSubmitScript(t *testing.T) {
	home := t.TempDir()
	log := filepath.Join(t.TempDir(), "args")
	bin := fakeBin(t, map[string]string{"sbatch": `for a in "$@"; do printf '%s\n' "$a"; done >` + jupyter.ShellQuote(log) + `
for a in "$@"; do case $a in --*) ;; *) f=$a ;; esac; done
sh -n "$f" || exit 3
cp "$f" "$f.seen"
echo '42;cluster'
`})
	// An earlier job's records under the id sbatch hands out (a wiped cluster) are cleared.
	stale := filepath.Join(home, ".nbtunnel", "slurm", "42")
	os.MkdirAll(stale, 0o700)
	os.WriteFile(filepath.Join(stale, "nonce"), []byte("old\n"), 0o600)
	os.WriteFile(filepath.Join(stale, "mode"), []byte("addr=10.9.9.9\n"), 0o600)
	token := "0123456789abcdef0123456789abcdef"
	hostile := []string{"--comment=$(touch /tmp/nbt-pwned) `id` ' \" ;", "--time=1:00:00"}
	nonce := "n0nce"
	out := runScript(t, home, bin, slurm.SubmitScript(slurm.SubmitOptions{Sbatch: hostile, Token: token,
		Launch: jupyter.LaunchOptions{Venv: "envs/a b", Dir: "x'y"}}, nonce))
	id, err := slurm.ParseSubmit(out, nonce)
	if err != nil || id != "42" {
		t.Fatalf("ParseSubmit = %q, %v; want 42\n%s", id, err, out)
	}
	if _, err := os.Stat(filepath.Join(stale, "mode")); err == nil {
		t.Errorf("an earlier job's records under id 42 survived the submission")
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	base := filepath.Join(home, ".nbtunnel", "slurm")
	want := []string{"--parsable", hostile[0], hostile[1], "--job-name=" + slurm.JobName, "--output=" + base + "/%j.out", base + "/job-" + nonce + ".sh"}
	if !reflect.DeepEqual(args, want) {
		t.Errorf("sbatch argv:\n got %q\nwant %q", args, want)
	}
	if strings.Contains(string(data), token) {
		t.Errorf("the token is on sbatch's command line")
	}
	tf := filepath.Join(base, "token-"+nonce)
	fi, err := os.Stat(tf)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file %s: %v %v; want mode 0600", tf, err, fi)
	}
	if got, _ := os.ReadFile(tf); strings.TrimSpace(string(got)) != token {
		t.Errorf("token file holds %q", got)
	}
	if _, err := os.Stat(base + "/job-" + nonce + ".sh"); err == nil {
		t.Errorf("the job script was left behind after sbatch")
	}
	job, err := os.ReadFile(base + "/job-" + nonce + ".sh.seen")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(job), token) {
		t.Errorf("the token is in the job script (scontrol write batch_script would show it)")
	}
	if _, err := os.Stat("/tmp/nbt-pwned"); err == nil {
		t.Errorf("an sbatch option value ran as a command")
	}
}

func TestSubmitRefused(t *testing.T) {
	bin := fakeBin(t, map[string]string{"sbatch": "echo 'sbatch: error: invalid partition specified: nope' >&2\necho 'sbatch: error: Batch job submission failed: Invalid partition name specified' >&2\nexit 1\n"})
	home := t.TempDir()
	out := runScript(t, home, bin, slurm.SubmitScript(slurm.SubmitOptions{Token: "t"}, "nn"))
	_, err := slurm.ParseSubmit(out, "nn")
	var se *slurm.SubmitError
	if !errors.As(err, &se) || !strings.Contains(se.Message, "invalid partition specified: nope") || se.Status != 1 {
		t.Fatalf("ParseSubmit = %v; want a SubmitError with sbatch's message", err)
	}
	if m, _ := filepath.Glob(filepath.Join(home, ".nbtunnel", "slurm", "token-*")); len(m) != 0 {
		t.Errorf("token file left after a refused submission: %v", m)
	}
}

func TestStatus(t *testing.T) {
	home := t.TempDir()
	rec := filepath.Join(home, ".nbtunnel", "slurm", "7")
	os.MkdirAll(rec, 0o700)
	os.WriteFile(filepath.Join(rec, "node"), []byte("cn1\n"), 0o600)
	os.WriteFile(filepath.Join(rec, "mode"), []byte("addr=10.0.0.9\n"), 0o600)
	os.WriteFile(filepath.Join(rec, "nonce"), []byte("ln\n"), 0o600)
	os.WriteFile(filepath.Join(rec, "current"), []byte("2\n"), 0o600)
	os.WriteFile(filepath.Join(rec, "launch.2"), []byte("\nNBTUNNEL-BEGIN ln 1\nV log 3\nlog\n"), 0o600)
	bin := fakeBin(t, map[string]string{
		"squeue": `case "$*" in *"-j 9"*) exit 0 ;; esac
printf '%s\n' '7|RUNNING|None|cn1|9:58|gpu|10:00|nbtunnel-jupyter' '8|PENDING|Resources||10:00|gpu|10:00|nbtunnel-jupyter'`,
		"scontrol": `case "$*" in
"show node -o cn1") echo 'NodeName=cn1 Arch=x86_64 NodeAddr=10.0.0.9 NodeHostName=cn1' ;;
"show job -o 9") echo 'JobId=9 JobName=nbtunnel-jupyter JobState=TIMEOUT Reason=TimeLimit TimeLimit=00:01:00 NodeList=cn1 Partition=gpu' ;;
esac`,
	})
	jobs, err := slurm.ParseStatus(runScript(t, home, bin, slurm.StatusScript("", "s1")), "s1")
	if err != nil || len(jobs) != 2 {
		t.Fatalf("ParseStatus = %+v, %v; want 2 jobs", jobs, err)
	}
	j := jobs[0]
	if j.ID != "7" || j.State != "RUNNING" || j.Node != "cn1" || j.NodeAddr != "10.0.0.9" || j.Mode != "addr=10.0.0.9" || j.Current != 2 || j.Reason != "" || j.TimeLeft != "9:58" {
		t.Errorf("job 7 = %+v", j)
	}
	if _, ok, err := j.Server(); ok || err != nil {
		t.Errorf("an unfinished launch record: ok %v, err %v; want still starting", ok, err)
	}
	if p := jobs[1]; p.ID != "8" || p.State != "PENDING" || p.Reason != "Resources" || p.Node != "" {
		t.Errorf("job 8 = %+v", p)
	}
	jobs, err = slurm.ParseStatus(runScript(t, home, bin, slurm.StatusScript("9", "s2")), "s2")
	if err != nil || len(jobs) != 1 || !jobs[0].Ended || !jobs[0].TimedOut() || jobs[0].TimeLimit != "00:01:00" {
		t.Fatalf("ended job: %+v, %v; want job 9 timed out", jobs, err)
	}
}

// A remote's bad record sizes (a huge one overflowed the bounds check) are
// errors, never a panic.
func TestParseBadRecords(t *testing.T) {
	for _, body := range []string{
		"V rc 9223372036854775807\nx\n",
		"V rc -1\nx\n",
		"V rc 5\nx\n",
		"V rc 1\nxy",
	} {
		out := []byte("noise\nNBTUNNEL-BEGIN nn 1\n" + body + "NBTUNNEL-END nn\n")
		if _, err := slurm.ParseSubmit(out, "nn"); err == nil {
			t.Errorf("ParseSubmit accepted %q", body)
		}
		if _, err := slurm.ParseStatus(out, "nn"); err == nil {
			t.Errorf("ParseStatus accepted %q", body)
		}
	}
}
