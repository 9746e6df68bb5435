package testbed_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// TestCluster runs a batch job over ssh on the login host and checks where it ran: on the node, in a PID
// namespace of its own, with the shared home; then a second job pends while the first holds the only CPU.
func TestCluster(t *testing.T) {
	bed := testbed.New(t, testbed.SlurmBinaries...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := bed.AddCluster(ctx, testbed.ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := bed.SSHCommand(ctx, "login", "sbatch --parsable -o job.out --wrap 'hostname; echo pid=$$; sleep 30'").CombinedOutput()
	if err != nil {
		t.Fatalf("sbatch over ssh: %v: %s", err, out)
	}
	id := strings.TrimSpace(string(out))
	out, err = bed.SSHCommand(ctx, "login", "sbatch --parsable --wrap 'sleep 30'").CombinedOutput()
	if err != nil {
		t.Fatalf("second sbatch: %v: %s", err, out)
	}
	id2 := strings.TrimSpace(string(out))
	var got string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		data, _ := os.ReadFile(c.Login.Home + "/job.out")
		if got = string(data); strings.Contains(got, "pid=") {
			break
		}
	}
	if !strings.HasPrefix(got, "node1\n") {
		t.Fatalf("job output (shared home): got %q, want it to start with the node's hostname", got)
	}
	pid := strings.TrimSpace(got[strings.Index(got, "pid=")+4:])
	// The job's pid is the node's: the node's own view has it as a job process, the login host's /proc does
	// not have it as the same process.
	inNode, err := c.Node.RunInNode(ctx, "cat /proc/"+pid+"/comm")
	if err != nil {
		t.Fatalf("pid %s on the node: %v", pid, err)
	}
	if strings.TrimSpace(inNode) == "" {
		t.Fatalf("pid %s on the node: no command name", pid)
	}
	if data, err := os.ReadFile("/proc/" + pid + "/comm"); err == nil && string(data) == inNode+"\n" {
		t.Logf("pid %s happens to name a %q on the login host too", pid, inNode)
	}
	st, err := c.Slurm(ctx, "squeue -h -j "+id2+" -o '%T %r'")
	if err != nil {
		t.Fatal(err)
	}
	if want := "PENDING Resources"; strings.TrimSpace(st) != want {
		t.Errorf("second job: got %q, want %q", strings.TrimSpace(st), want)
	}
	if _, err := c.Slurm(ctx, "scancel "+id+" "+id2); err != nil {
		t.Fatal(err)
	}
	if out, err := bed.SSHCommand(ctx, "node1", "hostname; echo $SLURM_CONF").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "node1\n"+c.Conf) {
		t.Errorf("ssh node1 through login: %v: %q", err, out)
	}
}
