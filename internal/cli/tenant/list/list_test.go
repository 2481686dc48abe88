package list

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

func TestNewCmdList(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "no arguments", args: nil},
		{name: "an argument", args: []string{"acme"}, wantErr: `takes no arguments; use "tenantctl get NAME"`},
		{name: "unknown flag", args: []string{"--all"}, wantErr: "unknown flag: --all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			var got *ListOptions
			cmd := NewCmdList(tenanttest.NewFactory(t, s, output.YAML), func(o *ListOptions) error { got = o; return nil })
			err := tenanttest.Execute(t, cmd, tt.args...)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if !tenanttest.IsUsage(err) || got != nil {
					t.Errorf("error %v: usage error %v, runF ran %v", err, tenanttest.IsUsage(err), got != nil)
				}
				return
			}
			if got == nil || got.Format != output.YAML || got.IO != s.IOStreams {
				t.Fatalf("runF got %+v", got)
			}
		})
	}
}

type fakeLister struct {
	tenants []fleet.Tenant
	err     error
	calls   int
}

func (f *fakeLister) List(context.Context) ([]fleet.Tenant, error) {
	f.calls++
	return f.tenants, f.err
}

func TestListRun(t *testing.T) {
	suspended := *tenanttest.Tenant("beta-2", "database")
	suspended.Status = fleet.StatusSuspended
	suspended.SchemaVersion, suspended.SchemaState = 3, "behind"
	acme := *tenanttest.Tenant("acme", "shared")
	acme.SchemaVersion, acme.SchemaState = 4, "current"
	two := []fleet.Tenant{acme, suspended}
	tests := []struct {
		name       string
		format     output.Format
		terminal   bool
		svc        *fakeLister
		wantOut    string
		wantStderr string
		wantErr    string
		wantExit   int
	}{
		{
			name: "table for scripts", format: output.Table, svc: &fakeLister{tenants: two},
			wantOut: "acme\tshared\tactive\t4\t2026-01-02T03:04:05Z\nbeta-2\tdatabase\tsuspended\t3 (behind)\t2026-01-02T03:04:05Z\n",
		},
		{
			name: "table on a terminal", format: output.Table, terminal: true, svc: &fakeLister{tenants: two},
			wantOut: "NAME    TIER      STATUS     SCHEMA      CREATED\n" +
				"acme    shared    active     4           2026-01-02T03:04:05Z\n" +
				"beta-2  database  suspended  3 (behind)  2026-01-02T03:04:05Z\n",
		},
		{name: "json", format: output.JSON, svc: &fakeLister{tenants: two}, wantOut: "golden:list.json"},
		{name: "empty json is a list", format: output.JSON, svc: &fakeLister{}, wantOut: "[]\n"},
		{name: "empty yaml is a list", format: output.YAML, svc: &fakeLister{}, wantOut: "[]\n"},
		{
			name: "empty table says so on stderr", format: output.Table, svc: &fakeLister{},
			wantOut: "", wantStderr: "No tenants yet; create one with \"tenantctl create NAME\".\n",
		},
		{
			name: "no platform", format: output.Table, svc: &fakeLister{err: fmt.Errorf("run \"tenantctl dev up\": %w", fleet.ErrNoPlatform)},
			wantErr: "dev up", wantExit: cmdutil.ExitNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", tt.terminal)
			opts := &ListOptions{IO: s.IOStreams, Format: tt.format, Service: func() (shared.Lister, error) { return tt.svc, nil }}
			err := listRun(t.Context(), opts)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if got := cmdutil.ExitCode(err); got != tt.wantExit {
				t.Errorf("exit code %d, want %d", got, tt.wantExit)
			}
			if tt.svc.calls != 1 {
				t.Errorf("List called %d times", tt.svc.calls)
			}
			if golden, ok := strings.CutPrefix(tt.wantOut, "golden:"); ok {
				tenanttest.Golden(t, golden, s.OutBuf.Bytes())
			} else if s.OutBuf.String() != tt.wantOut {
				t.Errorf("stdout = %q, want %q", s.OutBuf.String(), tt.wantOut)
			}
			if s.ErrBuf.String() != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", s.ErrBuf.String(), tt.wantStderr)
			}
		})
	}
}
