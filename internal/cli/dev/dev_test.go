package dev

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/devplatform"
	"github.com/tenantstack/tenantstack/internal/output"
)

type fakePlatform struct {
	upOpts    *devplatform.UpOptions
	upStatus  *devplatform.Status
	upErr     error
	downOpts  *devplatform.DownOptions
	downErr   error
	status    *devplatform.Status
	statusErr error
	env       devplatform.Env
	envErr    error
}

func (f *fakePlatform) Dir() string { return "/home/u/.tenantstack/platform" }
func (f *fakePlatform) Up(_ context.Context, o devplatform.UpOptions) (*devplatform.Status, error) {
	f.upOpts = &o
	return f.upStatus, f.upErr
}
func (f *fakePlatform) Down(_ context.Context, o devplatform.DownOptions) error {
	f.downOpts = &o
	return f.downErr
}
func (f *fakePlatform) Status(context.Context) (*devplatform.Status, error) {
	return f.status, f.statusErr
}
func (f *fakePlatform) Env(context.Context) (devplatform.Env, error) { return f.env, f.envErr }

type harness struct {
	deps          Deps
	in, out, errb *bytes.Buffer
}

func newHarness(pf Platform, format output.Format, terminal bool) *harness {
	h := &harness{in: &bytes.Buffer{}, out: &bytes.Buffer{}, errb: &bytes.Buffer{}}
	ios := &cmdutil.IOStreams{In: h.in, Out: h.out, ErrOut: h.errb, InTerminal: terminal}
	h.deps = Deps{
		IO:       ios,
		Printer:  func() output.Printer { return output.Printer{Out: h.out, Format: format} },
		Platform: func() (Platform, error) { return pf, nil },
	}
	return h
}

func execute(cmd *cobra.Command, args ...string) error {
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.ExecuteContext(context.Background())
}

func healthy() *devplatform.Status {
	return &devplatform.Status{StateDir: "/h/platform", Services: []devplatform.ServiceStatus{
		{Name: "postgres", State: devplatform.StateRunning, Healthy: true, PID: 10, Address: "127.0.0.1:5001", Detail: "PostgreSQL 15.18"},
		{Name: "redis", State: devplatform.StateRunning, Healthy: true, PID: 11, Address: "127.0.0.1:5002", Detail: "Redis 7.0.15"},
	}}
}

func TestUpParsesPorts(t *testing.T) {
	h := newHarness(&fakePlatform{}, output.Table, false)
	var got *UpOptions
	cmd := NewCmdUp(h.deps, func(_ context.Context, o *UpOptions) error { got = o; return nil })
	if err := execute(cmd, "--postgres-port", "15432", "--pgbouncer-port", "16432", "--redis-port", "16379",
		"--etcd-port", "12379", "--etcd-peer-port", "12380", "--apiserver-port", "16443", "--controller-manager-port", "20257"); err != nil {
		t.Fatal(err)
	}
	want := devplatform.Ports{Postgres: 15432, PgBouncer: 16432, Redis: 16379, Etcd: 12379, EtcdPeer: 12380, APIServer: 16443, ControllerManager: 20257}
	if got == nil || got.Ports != want {
		t.Fatalf("parsed %+v, want %+v", got, want)
	}
}

func TestUpRejectsBadPorts(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"out of range", []string{"--redis-port", "70000"}, "--redis-port 70000 is not a port"},
		{"negative", []string{"--postgres-port", "-5"}, "--postgres-port -5 is not a port"},
		{"conflict", []string{"--postgres-port", "5000", "--apiserver-port", "5000"}, "--postgres-port and --apiserver-port are both 5000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf := &fakePlatform{}
			h := newHarness(pf, output.Table, false)
			ran := false
			err := execute(NewCmdUp(h.deps, func(context.Context, *UpOptions) error { ran = true; return nil }), tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if code := cmdutil.ExitCode(err); code != cmdutil.ExitUsage {
				t.Errorf("exit code = %d, want %d", code, cmdutil.ExitUsage)
			}
			if ran {
				t.Error("up ran despite bad input")
			}
		})
	}
}

func TestUpPrintsStatus(t *testing.T) {
	pf := &fakePlatform{upStatus: healthy()}
	h := newHarness(pf, output.Table, false)
	if err := execute(NewCmdUp(h.deps, nil), "--redis-port", "5002"); err != nil {
		t.Fatal(err)
	}
	if pf.upOpts == nil || pf.upOpts.Ports.Redis != 5002 {
		t.Fatalf("Up got %+v", pf.upOpts)
	}
	want := "postgres\trunning\t10\t127.0.0.1:5001\tPostgreSQL 15.18\nredis\trunning\t11\t127.0.0.1:5002\tRedis 7.0.15\n"
	if h.out.String() != want {
		t.Errorf("stdout =\n%q\nwant\n%q", h.out.String(), want)
	}
}

func TestErrorsMapToExitCodes(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code int
	}{
		{"port in use", fmt.Errorf("port 5 for redis is not free: %w", devplatform.ErrPortInUse), cmdutil.ExitConflict},
		{"changed port", fmt.Errorf("ports are fixed: %w", devplatform.ErrInvalidInput), cmdutil.ExitUsage},
		{"timeout", fmt.Errorf("postgres did not answer: %w", context.DeadlineExceeded), cmdutil.ExitCancelled},
		{"start failed", errors.New("redis failed to start"), cmdutil.ExitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(&fakePlatform{upErr: tt.err}, output.Table, false)
			err := execute(NewCmdUp(h.deps, nil))
			if err == nil || err.Error() != tt.err.Error() {
				t.Fatalf("error = %v, want the message %q unchanged", err, tt.err)
			}
			if code := cmdutil.ExitCode(err); code != tt.code {
				t.Errorf("exit code = %d, want %d", code, tt.code)
			}
			if h.out.Len() != 0 {
				t.Errorf("stdout has %q after a failure", h.out.String())
			}
		})
	}
}

func TestStatus(t *testing.T) {
	t.Run("healthy", func(t *testing.T) {
		h := newHarness(&fakePlatform{status: healthy()}, output.JSON, false)
		if err := execute(NewCmdStatus(h.deps, nil)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(h.out.String(), `"name": "postgres"`) || !strings.Contains(h.out.String(), `"healthy": true`) {
			t.Errorf("JSON status = %s", h.out.String())
		}
	})
	t.Run("one down", func(t *testing.T) {
		st := healthy()
		st.Services[1] = devplatform.ServiceStatus{Name: "redis", State: devplatform.StateStopped, Address: "127.0.0.1:5002"}
		h := newHarness(&fakePlatform{status: st}, output.Table, false)
		err := execute(NewCmdStatus(h.deps, nil))
		want := `1 of 2 services are not healthy (redis); run "tenantctl dev up" to start them; logs are in /h/platform/logs`
		if err == nil || err.Error() != want {
			t.Fatalf("error = %v, want %q", err, want)
		}
		if cmdutil.ExitCode(err) == cmdutil.ExitOK {
			t.Error("status exits 0 with a service down")
		}
		if !strings.Contains(h.out.String(), "redis\tstopped\t-\t127.0.0.1:5002\t\n") {
			t.Errorf("stdout = %q, want the stopped row", h.out.String())
		}
	})
	t.Run("no platform", func(t *testing.T) {
		notRunning := fmt.Errorf(`no local platform in /h/platform; run "tenantctl dev up" to start one: %w`, devplatform.ErrNotRunning)
		h := newHarness(&fakePlatform{statusErr: notRunning}, output.Table, false)
		err := execute(NewCmdStatus(h.deps, nil))
		if cmdutil.ExitCode(err) != cmdutil.ExitNotFound || !strings.Contains(err.Error(), "tenantctl dev up") {
			t.Fatalf("error = %v (exit %d)", err, cmdutil.ExitCode(err))
		}
	})
}

func TestEnv(t *testing.T) {
	env := devplatform.Env{
		Postgres:   devplatform.PostgresEnv{AdminURL: "postgres://admin:pw@127.0.0.1:5001/postgres", PoolerURL: "postgres://admin:pw@127.0.0.1:5003/postgres"},
		Redis:      devplatform.RedisEnv{AdminURL: "redis://admin:rpw@127.0.0.1:5002"},
		Kubernetes: devplatform.KubernetesEnv{Kubeconfig: "/h/platform/kubernetes/admin.kubeconfig"},
	}
	t.Run("json", func(t *testing.T) {
		h := newHarness(&fakePlatform{env: env}, output.JSON, false)
		if err := execute(NewCmdEnv(h.deps, nil)); err != nil {
			t.Fatal(err)
		}
		want := `{
  "postgres": {
    "admin_url": "postgres://admin:pw@127.0.0.1:5001/postgres",
    "pooler_url": "postgres://admin:pw@127.0.0.1:5003/postgres"
  },
  "redis": {
    "admin_url": "redis://admin:rpw@127.0.0.1:5002"
  },
  "kubernetes": {
    "kubeconfig": "/h/platform/kubernetes/admin.kubeconfig"
  }
}
`
		if h.out.String() != want {
			t.Errorf("stdout =\n%s\nwant\n%s", h.out.String(), want)
		}
	})
	t.Run("table", func(t *testing.T) {
		h := newHarness(&fakePlatform{env: env}, output.Table, false)
		if err := execute(NewCmdEnv(h.deps, nil)); err != nil {
			t.Fatal(err)
		}
		want := "POSTGRES_ADMIN_URL\tpostgres://admin:pw@127.0.0.1:5001/postgres\n" +
			"POSTGRES_POOLER_URL\tpostgres://admin:pw@127.0.0.1:5003/postgres\n" +
			"REDIS_ADMIN_URL\tredis://admin:rpw@127.0.0.1:5002\n" +
			"KUBECONFIG\t/h/platform/kubernetes/admin.kubeconfig\n"
		if h.out.String() != want {
			t.Errorf("stdout =\n%q\nwant\n%q", h.out.String(), want)
		}
	})
	t.Run("not running", func(t *testing.T) {
		notRunning := fmt.Errorf(`the local platform is not running; run "tenantctl dev up": %w`, devplatform.ErrNotRunning)
		h := newHarness(&fakePlatform{envErr: notRunning}, output.JSON, false)
		err := execute(NewCmdEnv(h.deps, nil))
		if cmdutil.ExitCode(err) != cmdutil.ExitNotFound || !strings.Contains(err.Error(), `run "tenantctl dev up"`) {
			t.Fatalf("error = %v (exit %d)", err, cmdutil.ExitCode(err))
		}
		if h.out.Len() != 0 {
			t.Errorf("stdout = %q, want nothing", h.out.String())
		}
	})
}

func TestDown(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		terminal  bool
		answer    string
		wantDown  *devplatform.DownOptions // nil: Down must not run
		wantCode  int
		wantError string
	}{
		{"keep data", nil, false, "", &devplatform.DownOptions{}, cmdutil.ExitOK, ""},
		{"purge confirmed by flag", []string{"--purge", "--yes"}, false, "", &devplatform.DownOptions{Purge: true}, cmdutil.ExitOK, ""},
		{"purge without --yes in a script", []string{"--purge"}, false, "", nil, cmdutil.ExitUsage, "add --yes to confirm"},
		{"purge confirmed at the prompt", []string{"--purge"}, true, "y\n", &devplatform.DownOptions{Purge: true}, cmdutil.ExitOK, ""},
		{"purge refused at the prompt", []string{"--purge"}, true, "\n", nil, cmdutil.ExitCancelled, "--purge was not confirmed"},
		{"--yes without --purge", []string{"--yes"}, false, "", nil, cmdutil.ExitUsage, "--yes confirms --purge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf := &fakePlatform{}
			h := newHarness(pf, output.Table, tt.terminal)
			h.in.WriteString(tt.answer)
			err := execute(NewCmdDown(h.deps, nil), tt.args...)
			if code := cmdutil.ExitCode(err); code != tt.wantCode {
				t.Fatalf("exit code = %d (%v), want %d", code, err, tt.wantCode)
			}
			if tt.wantError != "" && (err == nil || !strings.Contains(err.Error(), tt.wantError)) {
				t.Errorf("error = %v, want %q", err, tt.wantError)
			}
			switch {
			case tt.wantDown == nil && pf.downOpts != nil:
				t.Errorf("Down ran with %+v, want it not to run", *pf.downOpts)
			case tt.wantDown != nil && (pf.downOpts == nil || *pf.downOpts != *tt.wantDown):
				t.Errorf("Down got %v, want %+v", pf.downOpts, *tt.wantDown)
			}
			if tt.terminal && !strings.Contains(h.errb.String(), "Delete /home/u/.tenantstack/platform") {
				t.Errorf("prompt = %q", h.errb.String())
			}
		})
	}
}

func TestNewCmdDevHasVerbs(t *testing.T) {
	f := cmdutil.NewFactory(&cmdutil.IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	cmd := NewCmdDev(f)
	var names []string
	for _, c := range cmd.Commands() {
		names = append(names, c.Name())
	}
	if got := strings.Join(names, ","); got != "down,env,status,up" {
		t.Errorf("dev verbs = %s", got)
	}
}
