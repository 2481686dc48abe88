package devplatform

import (
	"context"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestCmdlineMatches(t *testing.T) {
	const marker = "/home/u/.tenantstack/platform/postgres/data"
	tests := []struct {
		name    string
		cmdline string
		program string
		want    bool
	}{
		{"postmaster", "/usr/lib/postgresql/15/bin/postgres\x00-D\x00" + marker + "\x00", "postgres", true},
		{"flag=value", "/bin/etcd\x00--data-dir=" + marker + "\x00--name=x\x00", "etcd", true},
		{"redis title", "/usr/bin/redis-server 127.0.0.1:6379  " + marker + "\x00", "redis-server", true},
		{"other program", "/usr/bin/python3\x00-D\x00" + marker + "\x00", "postgres", false},
		{"longer path", "/usr/lib/postgresql/15/bin/postgres\x00-D\x00" + marker + "2\x00", "postgres", false},
		{"path prefix", "/usr/lib/postgresql/15/bin/postgres\x00-D\x00/x" + marker + "\x00", "postgres", false},
		{"backend title", "postgres: checkpointer \x00", "postgres", false},
		{"other cluster", "/usr/lib/postgresql/15/bin/postgres\x00-D\x00/var/lib/postgresql/15/main\x00", "postgres", false},
		{"empty (zombie)", "", "postgres", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cmdlineMatches([]byte(tt.cmdline), tt.program, marker); got != tt.want {
				t.Errorf("cmdlineMatches(%q) = %v, want %v", tt.cmdline, got, tt.want)
			}
		})
	}
}

// fakeService starts a shell that runs script, as a program called name
// (a symlink to sh) with marker as its last argument, in its own process
// group, which cleanup kills.
func fakeService(t *testing.T, name, script, marker string) *exec.Cmd {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(t.TempDir(), name)
	if err := symlink(sh, prog); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(prog, "-c", script, marker)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	// Until the child has exec'd, its command line is still ours.
	deadline := time.Now().Add(5 * time.Second)
	for !procMatches(cmd.Process.Pid, name, marker) {
		if time.Now().After(deadline) {
			t.Fatalf("%s (pid %d) never showed its command line", name, cmd.Process.Pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return cmd
}

func sleeper(t *testing.T, marker string) *exec.Cmd {
	t.Helper()
	return fakeService(t, "fakesvc", "sleep 300; :", marker)
}

func TestProcMatchesAndStop(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "marker")
	cmd := sleeper(t, marker)
	pid := cmd.Process.Pid
	if procMatches(pid, "fakesvc", marker+"x") {
		t.Fatalf("procMatches matched another marker")
	}
	if procMatches(pid, "postgres", marker) {
		t.Fatalf("procMatches matched another program")
	}
	// The shell forks to run sleep; until that child has exec'd, its command
	// line is the shell's too, so wait for it to settle (bounded).
	var got []int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got = findProcs("fakesvc", marker)
		if len(got) == 1 || time.Now().After(deadline) {
			break
		}
	}
	if len(got) != 1 || got[0] != pid {
		t.Errorf("findProcs = %v, want [%d]", got, pid)
	}

	// A recycled PID: the marker differs, so nothing is signalled.
	if err := stopProc(context.Background(), pid, "fakesvc", marker+"-other", syscall.SIGTERM, time.Second); err != nil {
		t.Fatal(err)
	}
	if !procRunning(pid) {
		t.Fatalf("stopProc signalled a process whose command line does not match")
	}

	// SIGTERM ends the shell; Wait reaps it in the background.
	go cmd.Wait()
	if err := stopProc(context.Background(), pid, "fakesvc", marker, syscall.SIGTERM, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if procMatches(pid, "fakesvc", marker) {
		t.Errorf("process %d still matches after stopProc", pid)
	}
}

func TestZombieIsNotRunning(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "marker")
	cmd := sleeper(t, marker)
	pid := cmd.Process.Pid
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Not reaped: the process becomes a zombie, which must count as gone.
	deadline := time.Now().Add(5 * time.Second)
	for procRunning(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("a killed, unreaped process still counts as running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if state, _, ok := procStat(pid); !ok || state != 'Z' {
		t.Fatalf("pid %d: state %q (%v), want a zombie", pid, state, ok)
	}
	if procMatches(pid, "fakesvc", marker) {
		t.Errorf("procMatches(%d) = true for a zombie", pid)
	}
}

func TestStopProcEscalatesToKill(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "marker")
	cmd := fakeService(t, "stubborn", `trap "" TERM; while :; do sleep 0.1; done`, marker)
	go cmd.Wait()
	pid := cmd.Process.Pid
	time.Sleep(100 * time.Millisecond) // let the shell set its trap
	if err := stopProc(context.Background(), pid, "stubborn", marker, syscall.SIGTERM, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if procMatches(pid, "stubborn", marker) {
		t.Errorf("a process that ignores SIGTERM survived stopProc")
	}
}
