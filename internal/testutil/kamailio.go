package testutil

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Kamailio is a real Kamailio started by a test in its own process group.
type Kamailio struct {
	// Pid is the main process.
	Pid int
	// Done is closed when the main process has exited.
	Done <-chan struct{}
	// Log is its stdout and stderr.
	Log *SyncBuffer
}

// StartKamailio runs the installed kamailio with args (typically -f CFG
// -DD -E -Y DIR -w DIR) in dir with env added, in a process group of its
// own, and stops the whole group when t ends (SIGTERM, then SIGKILL after
// 5 s), printing its log if t failed. A missing kamailio is a skip outside
// CI and a failure in CI. The caller waits for its sockets.
func StartKamailio(t testing.TB, dir string, env []string, args ...string) *Kamailio {
	t.Helper()
	bin := LookPath(t, "kamailio")
	k := &Kamailio{Log: &SyncBuffer{}}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = k.Log, k.Log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	k.Pid, k.Done = cmd.Process.Pid, done
	t.Cleanup(func() {
		_ = syscall.Kill(-k.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-k.Pid, syscall.SIGKILL)
			<-done
		}
		// children may outlive the main process briefly
		_ = syscall.Kill(-k.Pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("kamailio log:\n%s", k.Log.String())
		}
	})
	return k
}
