package get

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

func TestNewCmdGet(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantName string
		wantErr  string
	}{
		{name: "name", args: []string{"acme"}, wantName: "acme"},
		{name: "no name", args: nil, wantErr: "takes exactly one tenant name, got 0"},
		{name: "two names", args: []string{"acme", "beta"}, wantErr: "got 2"},
		{name: "bad name", args: []string{"ac_me"}, wantErr: `tenant id "ac_me" contains '_'`},
		{name: "glob", args: []string{"*"}, wantErr: "'*'"},
		{name: "reserved", args: []string{"kube-system"}, wantErr: "is reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			var got *GetOptions
			cmd := NewCmdGet(tenanttest.NewFactory(t, s, output.Table), func(o *GetOptions) error { got = o; return nil })
			err := tenanttest.Execute(t, cmd, tt.args...)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if !tenanttest.IsUsage(err) || got != nil {
					t.Errorf("error %v: usage error %v, runF ran %v", err, tenanttest.IsUsage(err), got != nil)
				}
				return
			}
			if got == nil || got.Name != tt.wantName {
				t.Fatalf("runF got %+v, want name %q", got, tt.wantName)
			}
		})
	}
}

type fakeGetter struct {
	tenant *fleet.Tenant
	err    error
	names  []string
}

func (f *fakeGetter) Get(_ context.Context, name string) (*fleet.Tenant, error) {
	f.names = append(f.names, name)
	return f.tenant, f.err
}

func TestGetRun(t *testing.T) {
	bare := &fleet.Tenant{Spec: fleet.Spec{Name: "acme", Tier: "shared"}, Status: fleet.StatusIncomplete}
	tests := []struct {
		name     string
		format   output.Format
		terminal bool
		svc      *fakeGetter
		wantOut  string
		wantErr  string
		wantExit int
	}{
		{
			name: "every field for scripts", format: output.Table, svc: &fakeGetter{tenant: tenanttest.Tenant("acme", "schema")},
			wantOut: "name\tacme\ntier\tschema\nstatus\tactive\ncreated\t2026-01-02T03:04:05Z\nupdated\t2026-01-02T04:04:05Z\nresources\t17\n" +
				"connection_limit\t20\nquota.cpu\t2\nquota.memory\t4Gi\nquota.pods\t20\nquota.services\t10\nquota.pvcs\t5\nquota.storage\t20Gi\n" +
				"flags.alpha\t1\nflags.beta\ttrue\n" +
				"workload.image\tnginx:1.27\nworkload.replicas\t2\nworkload.host\tacme.example.com\nworkload.port\t8080\n",
		},
		{
			name: "unset fields are left out", format: output.Table, terminal: true, svc: &fakeGetter{tenant: bare},
			wantOut: "FIELD      VALUE\nname       acme\ntier       shared\nstatus     incomplete\ncreated    -\nupdated    -\nresources  0\n",
		},
		{name: "json", format: output.JSON, svc: &fakeGetter{tenant: tenanttest.Tenant("acme", "schema")}, wantOut: "golden:tenant.json"},
		{
			name: "not found", format: output.Table,
			svc:     &fakeGetter{err: fmt.Errorf("tenant \"acme\" does not exist; \"tenantctl list\" shows the tenants: %w", fleet.ErrNotFound)},
			wantErr: "does not exist", wantExit: cmdutil.ExitNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", tt.terminal)
			opts := &GetOptions{IO: s.IOStreams, Format: tt.format, Name: "acme", Service: func() (Getter, error) { return tt.svc, nil }}
			err := getRun(t.Context(), opts)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if got := cmdutil.ExitCode(err); got != tt.wantExit {
				t.Errorf("exit code %d, want %d", got, tt.wantExit)
			}
			if !reflect.DeepEqual(tt.svc.names, []string{"acme"}) {
				t.Errorf("Get calls %v", tt.svc.names)
			}
			if golden, ok := strings.CutPrefix(tt.wantOut, "golden:"); ok {
				tenanttest.Golden(t, golden, s.OutBuf.Bytes())
			} else if s.OutBuf.String() != tt.wantOut {
				t.Errorf("stdout = %q, want %q", s.OutBuf.String(), tt.wantOut)
			}
		})
	}
}
