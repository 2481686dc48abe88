package devplatform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A process of the platform is identified by its PID together with its
// command line: the program's name and a marker argument, an absolute path
// inside the state directory that no other process has. Checking both before
// every signal means a PID recycled by an unrelated process (after a crash or
// a reboot) is never signalled, and a process whose PID was lost (tenantctl
// killed between start and saving state) can still be found by its marker.

// cmdlineMatches reports whether the raw /proc/PID/cmdline runs program
// (compared by base name) with marker as a whole argument, alone or after
// "=" (--data-dir=MARKER). Redis rewrites its command line into one
// space-separated string; that form matches too.
func cmdlineMatches(cmdline []byte, program, marker string) bool {
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) == 0 || args[0] == "" || marker == "" {
		return false
	}
	first := args[0]
	if len(args) == 1 { // a rewritten title: "redis-server 127.0.0.1:6379 /x/redis.conf"
		first, _, _ = strings.Cut(first, " ")
	}
	if filepath.Base(first) != program {
		return false
	}
	s := strings.Join(args, " ")
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], marker)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(marker)
		before := j == 0 || s[j-1] == ' ' || s[j-1] == '='
		after := end == len(s) || s[end] == ' '
		if before && after {
			return true
		}
		i = j + 1
	}
	return false
}

// procStat returns the state letter and start time (clock ticks after
// boot) of pid from /proc/PID/stat.
func procStat(pid int) (state byte, start uint64, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// The second field, the command name, may hold spaces and parentheses:
	// the fields that follow start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 20 {
		return 0, 0, false
	}
	start, err = strconv.ParseUint(f[19], 10, 64) // field 22 of stat
	return f[0][0], start, err == nil
}

// procRunning reports whether pid exists and is not a zombie.
func procRunning(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X' && state != 'x'
}

// procMatches reports whether pid is a live process running program with marker.
func procMatches(pid int, program, marker string) bool {
	if pid <= 0 || !procRunning(pid) {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	return cmdlineMatches(b, program, marker) && procRunning(pid)
}

// findProcs returns the live processes running program with marker.
func findProcs(program, marker string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if procMatches(pid, program, marker) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// started is a process this tenantctl started. exited is closed when it
// ends; after up returns the process lives on, detached.
type started struct {
	pid    int
	exited chan struct{}
	cmd    *exec.Cmd
}

// exitErr describes how a started process ended; call after exited closed.
func (s *started) exitErr() string {
	if s.cmd.ProcessState == nil {
		return "exited"
	}
	return s.cmd.ProcessState.String()
}

// procSpec says how to start a service's process.
type procSpec struct {
	bin  string
	args []string
	dir  string
	cred *syscall.Credential // nil: run as the current user
}

// startProc starts spec in its own session (so the Ctrl-C that stops
// tenantctl does not reach it) with stdout and stderr appended to logPath.
func startProc(spec procSpec, logPath string) (*started, error) {
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own copy
	fmt.Fprintf(logf, "\n%s%s starting: %s %s\n", logMark, time.Now().UTC().Format(time.RFC3339), spec.bin, strings.Join(spec.args, " "))
	cmd := exec.Command(spec.bin, spec.args...)
	cmd.Dir = spec.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Env = childEnv(spec.dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: spec.cred}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", spec.bin, err)
	}
	s := &started{pid: cmd.Process.Pid, exited: make(chan struct{}), cmd: cmd}
	go func() {
		cmd.Wait() // reaps it if it dies while we still run
		close(s.exited)
	}()
	return s, nil
}

// runOnce runs spec to completion (initdb), logging to logPath.
func runOnce(ctx context.Context, spec procSpec, logPath string) error {
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "\n%s%s running: %s %s\n", logMark, time.Now().UTC().Format(time.RFC3339), spec.bin, strings.Join(spec.args, " "))
	cmd := exec.CommandContext(ctx, spec.bin, spec.args...)
	cmd.Dir = spec.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Env = childEnv(spec.dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: spec.cred}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s failed (%v)%s", filepath.Base(spec.bin), err, logTail(logPath))
	}
	return nil
}

// childEnv is the environment of every service: nothing of the caller's
// (no PG*, no proxies, no KUBECONFIG) leaks in.
func childEnv(dir string) []string {
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LC_ALL=C",
		"TZ=UTC",
		"HOME=" + dir,
	}
}

// stopProc sends sig to pid if it still runs program with marker, waits up
// to grace for it to exit, then kills it and waits a little more.
func stopProc(ctx context.Context, pid int, program, marker string, sig syscall.Signal, grace time.Duration) error {
	if !procMatches(pid, program, marker) {
		return nil
	}
	// From here on the process is known by PID and start time: an exiting
	// process drops its command line before it closes its sockets, so the
	// command line cannot tell when it is really gone.
	_, start, ok := procStat(pid)
	if !ok {
		return nil
	}
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signalling %s (pid %d): %w", program, pid, err)
	}
	if waitGone(ctx, pid, start, grace) {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s (pid %d) still running: %w", program, pid, ctx.Err())
	}
	if sameProc(pid, start) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("killing %s (pid %d): %w", program, pid, err)
		}
	}
	if waitGone(ctx, pid, start, 10*time.Second) {
		return nil
	}
	return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", program, pid)
}

// sameProc reports whether pid is still the live process that started at
// start.
func sameProc(pid int, start uint64) bool {
	state, s, ok := procStat(pid)
	return ok && s == start && state != 'Z' && state != 'X' && state != 'x'
}

// waitGone polls until the process pid that started at start has exited
// (a zombie counts: it holds no files or ports), for at most d.
func waitGone(ctx context.Context, pid int, start uint64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if !sameProc(pid, start) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}
