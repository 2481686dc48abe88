package create

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

func TestNewCmdCreate(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		want       CreateOptions // only Spec and Verify are compared
		wantErr    string
		wantFormat output.Format
	}{
		{
			name: "name only takes the shared tier",
			args: []string{"acme"},
			want: CreateOptions{Spec: fleet.Spec{Name: "acme", Tier: "shared"}},
		},
		{
			name: "every flag",
			args: []string{"acme", "--tier", "schema", "--quota", "cpu=2,memory=4Gi,pods=20", "--quota", "services=10,pvcs=5,storage=20Gi",
				"--flag", "beta=true", "--flag", "plan=gold", "--image", "nginx:1.27", "--replicas", "2", "--host", "acme.example.com",
				"--connection-limit", "15", "--verify"},
			want: CreateOptions{
				Spec: fleet.Spec{
					Name: "acme", Tier: "schema", ConnectionLimit: 15,
					Quota:    fleet.Quota{CPU: "2", Memory: "4Gi", Pods: 20, Services: 10, PVCs: 5, Storage: "20Gi"},
					Flags:    map[string]string{"beta": "true", "plan": "gold"},
					Workload: &fleet.Workload{Image: "nginx:1.27", Replicas: 2, Host: "acme.example.com"},
				},
				Verify: true,
			},
		},
		{
			name: "image alone",
			args: []string{"acme", "--tier", "database", "--image", "app:1"},
			want: CreateOptions{Spec: fleet.Spec{Name: "acme", Tier: "database", Workload: &fleet.Workload{Image: "app:1"}}},
		},
		{name: "no name", args: nil, wantErr: "takes exactly one tenant name, got 0"},
		{name: "two names", args: []string{"acme", "beta"}, wantErr: "takes exactly one tenant name, got 2"},
		{name: "uppercase name", args: []string{"Acme"}, wantErr: `tenant id "Acme" contains the uppercase letter`},
		{name: "reserved name", args: []string{"postgres"}, wantErr: "is reserved"},
		{name: "glob in name", args: []string{"acme*"}, wantErr: "'*'"},
		{name: "quote in name", args: []string{`acme"`}, wantErr: `'"'`},
		{name: "unknown tier", args: []string{"acme", "--tier", "dedicated"}, wantErr: `tier "dedicated" is unknown; allowed: shared, schema, database`},
		{name: "quota without value", args: []string{"acme", "--quota", "cpu"}, wantErr: "use key=value pairs"},
		{name: "quota unknown key", args: []string{"acme", "--quota", "gpu=1"}, wantErr: `unknown key "gpu"`},
		{name: "flag without value", args: []string{"acme", "--flag", "beta"}, wantErr: `invalid --flag "beta"`},
		{name: "flag removal is for update", args: []string{"acme", "--flag", "beta-"}, wantErr: `invalid --flag "beta-"`},
		{name: "replicas without image", args: []string{"acme", "--replicas", "2"}, wantErr: "pass --image too"},
		{name: "host without image", args: []string{"acme", "--host", "acme.example.com"}, wantErr: "pass --image too"},
		{name: "zero replicas", args: []string{"acme", "--image", "app:1", "--replicas", "0"}, wantErr: "--replicas is 0"},
		{name: "replicas not a number", args: []string{"acme", "--replicas", "two"}, wantErr: "invalid argument"},
		{name: "empty image", args: []string{"acme", "--image", ""}, wantErr: "the image is empty"},
		{name: "bad host", args: []string{"acme", "--image", "app:1", "--host", "Acme.example.com"}, wantErr: "use a DNS name"},
		{name: "zero connection limit", args: []string{"acme", "--connection-limit", "0"}, wantErr: "--connection-limit is 0"},
		{name: "unknown flag", args: []string{"acme", "--teir", "schema"}, wantErr: "unknown flag: --teir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			f := tenanttest.NewFactory(t, s, output.JSON)
			var got *CreateOptions
			cmd := NewCmdCreate(f, func(o *CreateOptions) error { got = o; return nil })
			err := tenanttest.Execute(t, cmd, tt.args...)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if !tenanttest.IsUsage(err) {
					t.Errorf("error %v is not a usage error", err)
				}
				if got != nil {
					t.Errorf("runF ran despite the error")
				}
				return
			}
			if got == nil {
				t.Fatal("runF did not run")
			}
			if !reflect.DeepEqual(got.Spec, tt.want.Spec) {
				t.Errorf("Spec = %+v, want %+v", got.Spec, tt.want.Spec)
			}
			if got.Verify != tt.want.Verify {
				t.Errorf("Verify = %v, want %v", got.Verify, tt.want.Verify)
			}
			if got.Format != output.JSON {
				t.Errorf("Format = %q, want the factory's json", got.Format)
			}
			if got.IO != s.IOStreams {
				t.Errorf("IO is not the factory's streams")
			}
		})
	}
}

// fakeCreator records calls and returns what it is told to.
type fakeCreator struct {
	created   []fleet.Spec
	verified  []string
	against   [][]string
	tenant    *fleet.Tenant
	createErr error
	report    *fleet.VerifyReport
	verifyErr error
	planned   []fleet.Spec
}

func (f *fakeCreator) Create(_ context.Context, spec fleet.Spec, progress io.Writer) (*fleet.Tenant, error) {
	f.created = append(f.created, spec)
	fmt.Fprintf(progress, "creating %s\n", spec.Name)
	if f.createErr != nil {
		return nil, f.createErr
	}
	return f.tenant, nil
}

func (f *fakeCreator) Verify(_ context.Context, name string, against []string) (*fleet.VerifyReport, error) {
	f.verified = append(f.verified, name)
	f.against = append(f.against, against)
	return f.report, f.verifyErr
}

func TestCreateRun(t *testing.T) {
	passed := &fleet.VerifyReport{Tenant: "acme", Against: []string{"beta", "gamma"}, Passed: true,
		Probes: []fleet.Probe{{Layer: "postgres", Name: "read rows", Target: "beta", Passed: true}, {Layer: "redis", Name: "get key", Target: "gamma", Passed: true}}}
	leaked := &fleet.VerifyReport{Tenant: "acme", Against: []string{"beta"},
		Probes: []fleet.Probe{{Layer: "postgres", Name: "read rows", Target: "beta", Detail: "3 rows"}}}
	tests := []struct {
		name       string
		format     output.Format
		terminal   bool
		verify     bool
		svc        *fakeCreator
		wantOut    string // exact stdout; "golden:FILE" compares with testdata/FILE
		wantErr    string
		wantExit   int
		wantStderr string
		wantVerify bool
	}{
		{
			name: "table for scripts", format: output.Table, svc: &fakeCreator{tenant: tenanttest.Tenant("acme", "shared")},
			wantOut: "acme\tshared\tactive\t-\t2026-01-02T03:04:05Z\n", wantStderr: "creating acme\n",
		},
		{
			name: "table on a terminal", format: output.Table, terminal: true, svc: &fakeCreator{tenant: tenanttest.Tenant("acme", "shared")},
			wantOut: "NAME  TIER    STATUS  SCHEMA  CREATED\nacme  shared  active  -       2026-01-02T03:04:05Z\n",
		},
		{name: "json", format: output.JSON, svc: &fakeCreator{tenant: tenanttest.Tenant("acme", "schema")}, wantOut: "golden:tenant.json"},
		{name: "yaml", format: output.YAML, svc: &fakeCreator{tenant: tenanttest.Tenant("acme", "schema")}, wantOut: "golden:tenant.yaml"},
		{
			name: "already exists", format: output.Table,
			svc:     &fakeCreator{createErr: fmt.Errorf("tenant %q already exists; use \"tenantctl get acme\" to see it: %w", "acme", fleet.ErrExists)},
			wantErr: "already exists", wantExit: cmdutil.ExitConflict,
		},
		{
			name: "no platform", format: output.Table,
			svc:     &fakeCreator{createErr: fmt.Errorf("platform \"local\" is not up: %w", fleet.ErrNoPlatform)},
			wantErr: "not up", wantExit: cmdutil.ExitNotFound,
		},
		{
			name: "verify passes", format: output.Table, verify: true,
			svc:     &fakeCreator{tenant: tenanttest.Tenant("acme", "shared"), report: passed},
			wantOut: "acme\tshared\tactive\t-\t2026-01-02T03:04:05Z\n", wantVerify: true,
			wantStderr: "creating acme\nVerifying that tenant \"acme\" is isolated from every other tenant...\nIsolation verified: 2 probes passed against 2 other tenants.\n",
		},
		{
			name: "verify finds a leak", format: output.Table, verify: true,
			svc:     &fakeCreator{tenant: tenanttest.Tenant("acme", "shared"), report: leaked},
			wantOut: "acme\tshared\tactive\t-\t2026-01-02T03:04:05Z\n", wantVerify: true,
			wantErr: `1 of 1 probes of tenant "acme" failed (postgres: read rows -> beta)`, wantExit: cmdutil.ExitIsolation,
		},
		{
			name: "verify cannot run", format: output.Table, verify: true,
			svc:     &fakeCreator{tenant: tenanttest.Tenant("acme", "shared"), verifyErr: errors.New("redis unreachable")},
			wantOut: "acme\tshared\tactive\t-\t2026-01-02T03:04:05Z\n", wantVerify: true,
			wantErr: `tenant "acme" was created, but its isolation could not be verified: redis unreachable; run "tenantctl verify acme"`, wantExit: cmdutil.ExitError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", tt.terminal)
			spec := fleet.Spec{Name: "acme", Tier: "shared"}
			opts := &CreateOptions{
				IO: s.IOStreams, Format: tt.format, Spec: spec, Verify: tt.verify,
				Service: func() (Creator, error) { return tt.svc, nil },
			}
			err := createRun(t.Context(), opts)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if got := cmdutil.ExitCode(err); got != tt.wantExit {
				t.Errorf("exit code %d, want %d", got, tt.wantExit)
			}
			if len(tt.svc.created) != 1 || !reflect.DeepEqual(tt.svc.created[0], spec) {
				t.Errorf("Create calls %+v, want one with %+v", tt.svc.created, spec)
			}
			if tt.wantVerify {
				if !reflect.DeepEqual(tt.svc.verified, []string{"acme"}) || tt.svc.against[0] != nil {
					t.Errorf("Verify calls %v against %v, want one for acme against every other tenant (nil)", tt.svc.verified, tt.svc.against)
				}
			} else if len(tt.svc.verified) != 0 {
				t.Errorf("Verify ran: %v", tt.svc.verified)
			}
			if golden, ok := strings.CutPrefix(tt.wantOut, "golden:"); ok {
				tenanttest.Golden(t, golden, s.OutBuf.Bytes())
			} else if s.OutBuf.String() != tt.wantOut {
				t.Errorf("stdout = %q, want %q", s.OutBuf.String(), tt.wantOut)
			}
			if tt.wantStderr != "" && s.ErrBuf.String() != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", s.ErrBuf.String(), tt.wantStderr)
			}
			if !strings.HasPrefix(s.ErrBuf.String(), "creating acme\n") {
				t.Errorf("progress did not go to stderr: %q", s.ErrBuf.String())
			}
		})
	}
}
