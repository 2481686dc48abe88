//go:build integration

package devplatform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tenantstack/tenantstack/internal/devplatform"
	"github.com/tenantstack/tenantstack/internal/toolchain"
)

// tenantctl is the binary under test: $TENANTCTL, or one built by TestMain.
var tenantctl string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tenantctl = os.Getenv("TENANTCTL")
	if tenantctl == "" {
		dir, err := os.MkdirTemp("", "tenantctl-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		tenantctl = filepath.Join(dir, "tenantctl")
		build := exec.Command("go", "build", "-o", tenantctl, "github.com/tenantstack/tenantstack/cmd/tenantctl")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "building tenantctl: %v\n", err)
			return 1
		}
	}
	return m.Run()
}

// result is the outcome of one tenantctl run.
type result struct {
	stdout, stderr string
	code           int
}

// platform is a local platform under its own temporary TENANTSTACK_HOME.
type platform struct {
	t    *testing.T
	home string
}

// newPlatform returns a platform in a fresh home, not started. Its teardown
// (dev down --purge, unless SKIP_teardown is set) is registered before
// anything starts, so a failed up is cleaned up too.
func newPlatform(t *testing.T) *platform {
	t.Helper()
	p := &platform{t: t, home: t.TempDir()}
	t.Cleanup(func() {
		if os.Getenv("SKIP_teardown") != "" {
			t.Logf("SKIP_teardown: platform kept running; TENANTSTACK_HOME=%s", p.home)
			return
		}
		if r := p.run("dev", "down", "--purge", "--yes"); r.code != 0 {
			t.Errorf("teardown: dev down --purge: exit %d: %s", r.code, r.stderr)
		}
		if left := p.processes(); len(left) > 0 {
			t.Errorf("teardown: processes of the platform still running: %v", left)
		}
	})
	return p
}

// startPlatform returns a running platform.
func startPlatform(t *testing.T) *platform {
	t.Helper()
	p := newPlatform(t)
	p.mustRun("dev", "up")
	return p
}

func (p *platform) run(args ...string) result {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tenantctl, args...)
	cmd.Env = append(os.Environ(), "TENANTSTACK_HOME="+p.home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	// A pipe, as in a script. (Not nil: /dev/null is a character device,
	// which output.IsTerminal takes for a terminal.)
	cmd.Stdin = strings.NewReader("")
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		p.t.Fatalf("running tenantctl %s: %v", strings.Join(args, " "), err)
	}
	return r
}

func (p *platform) mustRun(args ...string) result {
	p.t.Helper()
	r := p.run(args...)
	if r.code != 0 {
		p.t.Fatalf("tenantctl %s: exit %d\nstderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

func (p *platform) env() devplatform.Env {
	p.t.Helper()
	var env devplatform.Env
	r := p.mustRun("dev", "env", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &env); err != nil {
		p.t.Fatalf("dev env -o json: %v\n%s", err, r.stdout)
	}
	return env
}

// status returns dev status -o json and its exit code.
func (p *platform) status() (devplatform.Status, int) {
	p.t.Helper()
	r := p.run("dev", "status", "-o", "json")
	var st devplatform.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		p.t.Fatalf("dev status -o json (exit %d): %v\nstdout: %s\nstderr: %s", r.code, err, r.stdout, r.stderr)
	}
	return st, r.code
}

func (p *platform) service(st devplatform.Status, name string) devplatform.ServiceStatus {
	p.t.Helper()
	for _, s := range st.Services {
		if s.Name == name {
			return s
		}
	}
	p.t.Fatalf("no service %s in status %+v", name, st)
	return devplatform.ServiceStatus{}
}

// processes returns the live processes whose command line names this
// platform's home: every service's main process does.
func (p *platform) processes() []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cl := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cl, p.home+"/") {
			found = append(found, e.Name()+": "+cl)
		}
	}
	return found
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// eventually retries f until it succeeds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %s: %v", what, timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func kubectl(t *testing.T, kubeconfig string, args ...string) (string, error) {
	t.Helper()
	bin, err := toolchain.Lookup("kubectl")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// portFree reports whether addr (host:port) can be bound.
func portFree(addr string) bool {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// diskUsage is the space allocated to the files under dir.
func diskUsage(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}

// rewriteFirstLine replaces the first line of the file at path.
func rewriteFirstLine(path, line string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	_, rest, _ := strings.Cut(string(b), "\n")
	return os.WriteFile(path, []byte(line+"\n"+rest), 0o600)
}
