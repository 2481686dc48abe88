package suspend

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

func TestNewCmdSuspendResume(t *testing.T) {
	tests := []struct {
		name       string
		newCmd     func(*cmdutil.Factory, func(*SuspendOptions) error) *cobra.Command
		args       []string
		wantResume bool
		wantErr    string
	}{
		{name: "suspend", newCmd: NewCmdSuspend, args: []string{"acme"}},
		{name: "resume", newCmd: NewCmdResume, args: []string{"acme"}, wantResume: true},
		{name: "suspend without a name", newCmd: NewCmdSuspend, wantErr: "takes exactly one tenant name"},
		{name: "resume a bad name", newCmd: NewCmdResume, args: []string{"a--"}, wantErr: `starts or ends with "-"`},
		{name: "suspend a reserved name", newCmd: NewCmdSuspend, args: []string{"system"}, wantErr: "is reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			var got *SuspendOptions
			cmd := tt.newCmd(tenanttest.NewFactory(t, s, output.Table), func(o *SuspendOptions) error { got = o; return nil })
			err := tenanttest.Execute(t, cmd, tt.args...)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if !tenanttest.IsUsage(err) || got != nil {
					t.Errorf("error %v: usage error %v, runF ran %v", err, tenanttest.IsUsage(err), got != nil)
				}
				return
			}
			if got == nil || got.Name != "acme" || got.Resume != tt.wantResume {
				t.Fatalf("runF got %+v, want acme with Resume %v", got, tt.wantResume)
			}
		})
	}
}

type fakeSuspendResumer struct {
	calls []string
	err   error
}

func (f *fakeSuspendResumer) Suspend(_ context.Context, name string, progress io.Writer) (*fleet.Tenant, error) {
	return f.set("suspend "+name, name, fleet.StatusSuspended, progress)
}

func (f *fakeSuspendResumer) Resume(_ context.Context, name string, progress io.Writer) (*fleet.Tenant, error) {
	return f.set("resume "+name, name, fleet.StatusActive, progress)
}

func (f *fakeSuspendResumer) set(call, name string, st fleet.Status, progress io.Writer) (*fleet.Tenant, error) {
	f.calls = append(f.calls, call)
	fmt.Fprintln(progress, call)
	if f.err != nil {
		return nil, f.err
	}
	t := tenanttest.Tenant(name, "schema")
	t.Status = st
	return t, nil
}

func TestSuspendRun(t *testing.T) {
	tests := []struct {
		name       string
		resume     bool
		format     output.Format
		err        error
		wantCall   string
		wantOut    string
		wantStderr string
		wantExit   int
	}{
		{
			name: "suspend", format: output.Table, wantCall: "suspend acme",
			wantOut:    "acme\tschema\tsuspended\t-\t2026-01-02T03:04:05Z\n",
			wantStderr: "suspend acme\nTenant \"acme\" is suspended; \"tenantctl resume acme\" brings it back.\n",
		},
		{
			name: "resume", resume: true, format: output.Table, wantCall: "resume acme",
			wantOut:    "acme\tschema\tactive\t-\t2026-01-02T03:04:05Z\n",
			wantStderr: "resume acme\nTenant \"acme\" is active again.\n",
		},
		{
			name: "suspend json", format: output.JSON, wantCall: "suspend acme",
			wantOut: `{
  "name": "acme",
  "tier": "schema",
  "connection_limit": 20,
  "quota": {
    "cpu": "2",
    "memory": "4Gi",
    "pods": 20,
    "services": 10,
    "pvcs": 5,
    "storage": "20Gi"
  },
  "flags": {
    "alpha": "1",
    "beta": "true"
  },
  "workload": {
    "image": "nginx:1.27",
    "replicas": 2,
    "host": "acme.example.com",
    "port": 8080
  },
  "status": "suspended",
  "created": "2026-01-02T03:04:05Z",
  "updated": "2026-01-02T04:04:05Z",
  "resources": 17
}
`,
		},
		{
			name: "resume not found", resume: true, format: output.Table, wantCall: "resume acme",
			err: fmt.Errorf("tenant \"acme\" does not exist: %w", fleet.ErrNotFound), wantStderr: "resume acme\n", wantExit: cmdutil.ExitNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			svc := &fakeSuspendResumer{err: tt.err}
			opts := &SuspendOptions{IO: s.IOStreams, Format: tt.format, Name: "acme", Resume: tt.resume,
				Service: func() (SuspendResumer, error) { return svc, nil }}
			err := suspendRun(t.Context(), opts)
			if got := cmdutil.ExitCode(err); got != tt.wantExit {
				t.Errorf("exit code %d (%v), want %d", got, err, tt.wantExit)
			}
			if !reflect.DeepEqual(svc.calls, []string{tt.wantCall}) {
				t.Errorf("calls %v, want [%s]", svc.calls, tt.wantCall)
			}
			if s.OutBuf.String() != tt.wantOut {
				t.Errorf("stdout = %q, want %q", s.OutBuf.String(), tt.wantOut)
			}
			if tt.wantStderr != "" && s.ErrBuf.String() != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", s.ErrBuf.String(), tt.wantStderr)
			}
		})
	}
}
