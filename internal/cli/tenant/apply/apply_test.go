package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

const fleetYAML = `# the whole fleet
tenants:
  - name: acme
    tier: schema
    connection_limit: 30
    quota: {cpu: "2", memory: 4Gi, pods: 20, services: 10, pvcs: 5, storage: 20Gi}
    flags: {beta: "true"}
    workload: {image: "nginx:1.27", replicas: 2, host: acme.example.com}
  - name: beta
    tier: shared
`

const fleetJSON = `{"tenants": [
	{"name": "acme", "tier": "schema", "connection_limit": 30,
	 "quota": {"cpu": "2", "memory": "4Gi", "pods": 20, "services": 10, "pvcs": 5, "storage": "20Gi"},
	 "flags": {"beta": "true"},
	 "workload": {"image": "nginx:1.27", "replicas": 2, "host": "acme.example.com"}},
	{"name": "beta", "tier": "shared"}
]}`

var wantFleet = fleet.FleetFile{Tenants: []fleet.Spec{
	{
		Name: "acme", Tier: "schema", ConnectionLimit: 30,
		Quota:    fleet.Quota{CPU: "2", Memory: "4Gi", Pods: 20, Services: 10, PVCs: 5, Storage: "20Gi"},
		Flags:    map[string]string{"beta": "true"},
		Workload: &fleet.Workload{Image: "nginx:1.27", Replicas: 2, Host: "acme.example.com"},
	},
	{Name: "beta", Tier: "shared"},
}}

func TestNewCmdApply(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	yamlFile := write("tenants.yaml", fleetYAML)
	jsonFile := write("tenants.json", fleetJSON)
	tests := []struct {
		name         string
		args         []string
		stdin        string
		terminal     bool
		wantFleet    fleet.FleetFile
		wantPrune    bool
		wantYes      bool
		wantParallel int
		wantErr      string
		wantLines    []string // further substrings of the error
	}{
		{name: "yaml", args: []string{"-f", yamlFile}, wantFleet: wantFleet, wantParallel: 4},
		{name: "json", args: []string{"--filename", jsonFile, "--parallel", "8"}, wantFleet: wantFleet, wantParallel: 8},
		{name: "json on stdin", args: []string{"-f", "-"}, stdin: fleetJSON, wantFleet: wantFleet, wantParallel: 4},
		{name: "yaml on stdin", args: []string{"-f", "-"}, stdin: fleetYAML, wantFleet: wantFleet, wantParallel: 4},
		{name: "prune with yes", args: []string{"-f", yamlFile, "--prune", "--yes"}, wantFleet: wantFleet, wantPrune: true, wantYes: true, wantParallel: 4},
		{name: "prune on a terminal asks later", terminal: true, args: []string{"-f", yamlFile, "--prune"}, wantFleet: wantFleet, wantPrune: true, wantParallel: 4},
		{name: "empty list without prune", args: []string{"-f", "-"}, stdin: "tenants: []\n", wantFleet: fleet.FleetFile{Tenants: []fleet.Spec{}}, wantParallel: 4},
		{name: "no file", args: nil, wantErr: "no fleet file; give one with -f FILE"},
		{name: "argument", args: []string{"tenants.yaml"}, wantErr: "takes no arguments; give the fleet file with -f FILE"},
		{name: "missing file", args: []string{"-f", filepath.Join(dir, "nope.yaml")}, wantErr: "reading the fleet file"},
		{name: "empty file", args: []string{"-f", write("empty.yaml", "\n  \n")}, wantErr: "is empty"},
		{name: "zero parallel", args: []string{"-f", yamlFile, "--parallel", "0"}, wantErr: "--parallel is 0"},
		{name: "misspelt yaml field", args: []string{"-f", "-"}, stdin: "tenants:\n  - name: acme\n    teir: shared\n", wantErr: "field teir not found"},
		{name: "misspelt json field", args: []string{"-f", "-"}, stdin: `{"tenants": [{"name": "acme", "teir": "shared"}]}`, wantErr: `unknown field "teir"`},
		{name: "wrong type", args: []string{"-f", "-"}, stdin: "tenants:\n  - name: acme\n    tier: shared\n    quota: {pods: many}\n", wantErr: "does not parse"},
		{name: "prune without terminal or yes", args: []string{"-f", yamlFile, "--prune"}, wantErr: "refusing to --prune without confirmation: stdin is not a terminal; pass --yes"},
		{name: "prune an empty list", args: []string{"-f", "-", "--prune", "--yes"}, stdin: "tenants: []\n", wantErr: "lists no tenants, so --prune would delete every tenant"},
		{
			name: "every problem at once", args: []string{"-f", "-"},
			stdin: `tenants:
  - {name: Acme, tier: shared}
  - {name: beta, tier: gold}
  - {name: gamma, tier: shared, quota: {memory: 4GB}}
  - {name: beta, tier: schema}
  - {name: public, tier: shared}
  - {tier: shared}
`,
			wantErr: "fleet file - has 6 problems; fix them and apply again (nothing was changed):",
			wantLines: []string{
				`  tenants[0] ("Acme"): name: tenant id "Acme" contains the uppercase letter`,
				`  tenants[1] ("beta"): tier: tier "gold" is unknown; allowed: shared, schema, database`,
				`  tenants[2] ("gamma"): quota.memory: "4GB" is not a positive Kubernetes quantity`,
				`  tenants[3] ("beta"): the name is already used by tenants[1]; each tenant appears once`,
				`  tenants[4] ("public"): name: tenant id "public" is reserved`,
				`  tenants[5]: name: tenant id is empty`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams(tt.stdin, tt.terminal)
			var got *ApplyOptions
			cmd := NewCmdApply(tenanttest.NewFactory(t, s, output.Table), func(o *ApplyOptions) error { got = o; return nil })
			err := tenanttest.Execute(t, cmd, tt.args...)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if cmdutil.ExitCode(err) != cmdutil.ExitUsage || got != nil {
					t.Errorf("error %v: exit code %d, runF ran %v", err, cmdutil.ExitCode(err), got != nil)
				}
				for _, l := range tt.wantLines {
					if !strings.Contains(err.Error(), l) {
						t.Errorf("error %q\ndoes not contain %q", err, l)
					}
				}
				return
			}
			if got == nil {
				t.Fatal("runF did not run")
			}
			if !reflect.DeepEqual(got.Fleet, tt.wantFleet) {
				t.Errorf("Fleet = %+v, want %+v", got.Fleet, tt.wantFleet)
			}
			if got.Prune != tt.wantPrune || got.Yes != tt.wantYes || got.Parallel != tt.wantParallel {
				t.Errorf("prune %v yes %v parallel %d, want %v %v %d", got.Prune, got.Yes, got.Parallel, tt.wantPrune, tt.wantYes, tt.wantParallel)
			}
		})
	}
}

type applyCall struct {
	file     fleet.FleetFile
	prune    bool
	parallel int
}

type fakeApplier struct {
	current   []fleet.Tenant
	listed    int
	calls     []applyCall
	report    *fleet.ApplyReport
	err       error
	progressW io.Writer
	plans     []fleet.Plan
	planCalls []applyCall
}

func (f *fakeApplier) List(context.Context) ([]fleet.Tenant, error) {
	f.listed++
	return f.current, nil
}

func (f *fakeApplier) Apply(_ context.Context, file fleet.FleetFile, prune bool, parallel int, progress io.Writer) (*fleet.ApplyReport, error) {
	f.calls = append(f.calls, applyCall{file, prune, parallel})
	f.progressW = progress
	return f.report, f.err
}

func TestApplyRun(t *testing.T) {
	report := &fleet.ApplyReport{Created: []string{"gamma", "acme"}, Updated: []string{"beta"}, Unchanged: []string{"delta"}}
	tenants := func(names ...string) []fleet.Tenant {
		var ts []fleet.Tenant
		for _, n := range names {
			ts = append(ts, fleet.Tenant{Spec: fleet.Spec{Name: n, Tier: "shared"}})
		}
		return ts
	}
	const prunePrompt = `--prune will delete 2 tenants that tenants.yaml does not list, with all their data: old-1, old-2. Type "yes" to confirm: `
	tests := []struct {
		name       string
		format     output.Format
		terminal   bool
		stdin      string
		prune, yes bool
		svc        *fakeApplier
		wantApply  bool
		wantListed int
		wantOut    string
		wantStderr string
		wantErr    string
		wantExit   int
	}{
		{
			name: "report for scripts", format: output.Table, svc: &fakeApplier{report: report}, wantApply: true,
			wantOut: "acme\tcreated\t-\ngamma\tcreated\t-\nbeta\tupdated\t-\ndelta\tunchanged\t-\n",
		},
		{
			name: "report on a terminal", format: output.Table, terminal: true, svc: &fakeApplier{report: report}, wantApply: true,
			wantOut: "NAME   ACTION     DETAIL\nacme   created    -\ngamma  created    -\nbeta   updated    -\ndelta  unchanged  -\n",
		},
		{name: "json", format: output.JSON, svc: &fakeApplier{report: report}, wantApply: true, wantOut: "golden:report.json"},
		{
			name: "failures are reported and fail", format: output.Table,
			svc: &fakeApplier{report: &fleet.ApplyReport{Created: []string{"acme"}, Failed: map[string]string{"zeta": "quota exceeded:\n  pods", "beta": "platform timeout"}}}, wantApply: true,
			wantOut:  "acme\tcreated\t-\nbeta\tfailed\tplatform timeout\nzeta\tfailed\tquota exceeded: pods\n",
			wantErr:  `apply failed for 2 tenants (beta, zeta), the others are done; fix what the report says for each and run "tenantctl apply -f tenants.yaml" again`,
			wantExit: cmdutil.ExitError,
		},
		{
			name: "no platform", format: output.Table, svc: &fakeApplier{err: fmt.Errorf("platform down: %w", fleet.ErrNoPlatform)}, wantApply: true,
			wantErr: "platform down", wantExit: cmdutil.ExitNotFound,
		},
		{
			name: "prune confirmed on a terminal", format: output.Table, terminal: true, stdin: "yes\n", prune: true,
			svc:       &fakeApplier{current: tenants("acme", "old-1", "beta", "old-2"), report: &fleet.ApplyReport{Deleted: []string{"old-1", "old-2"}}},
			wantApply: true, wantListed: 1, wantStderr: prunePrompt,
			wantOut: "NAME   ACTION   DETAIL\nold-1  deleted  -\nold-2  deleted  -\n",
		},
		{
			name: "prune refused on a terminal", format: output.Table, terminal: true, stdin: "y\n", prune: true,
			svc:        &fakeApplier{current: tenants("acme", "old-1", "old-2")},
			wantListed: 1, wantStderr: prunePrompt,
			wantErr: "apply cancelled: pruning was not confirmed; nothing was changed", wantExit: cmdutil.ExitCancelled,
		},
		{
			name: "prune with nothing to delete does not ask", format: output.Table, terminal: true, prune: true,
			svc:       &fakeApplier{current: tenants("beta"), report: &fleet.ApplyReport{Unchanged: []string{"acme", "beta"}}},
			wantApply: true, wantListed: 1, wantStderr: "-",
			wantOut: "NAME  ACTION     DETAIL\nacme  unchanged  -\nbeta  unchanged  -\n",
		},
		{
			name: "prune with yes does not list or ask", format: output.Table, prune: true, yes: true,
			svc:       &fakeApplier{current: tenants("old-1"), report: &fleet.ApplyReport{Deleted: []string{"old-1"}}},
			wantApply: true, wantStderr: "-",
			wantOut: "old-1\tdeleted\t-\n",
		},
	}
	file := fleet.FleetFile{Tenants: []fleet.Spec{{Name: "acme", Tier: "shared"}, {Name: "beta", Tier: "schema"}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams(tt.stdin, tt.terminal)
			opts := &ApplyOptions{IO: s.IOStreams, Format: tt.format, File: "tenants.yaml", Fleet: file, Prune: tt.prune, Yes: tt.yes, Parallel: 3,
				Service: func() (Applier, error) { return tt.svc, nil }}
			err := applyRun(t.Context(), opts)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if got := cmdutil.ExitCode(err); got != tt.wantExit {
				t.Errorf("exit code %d, want %d", got, tt.wantExit)
			}
			if tt.wantExit == cmdutil.ExitCancelled && !errors.Is(err, cmdutil.ErrCancelled) {
				t.Errorf("error %v does not wrap ErrCancelled", err)
			}
			if tt.svc.listed != tt.wantListed {
				t.Errorf("List called %d times, want %d", tt.svc.listed, tt.wantListed)
			}
			if tt.wantApply {
				want := []applyCall{{file, tt.prune, 3}}
				if !reflect.DeepEqual(tt.svc.calls, want) {
					t.Errorf("Apply calls %+v, want %+v", tt.svc.calls, want)
				}
				if tt.svc.progressW != s.ErrBuf {
					t.Errorf("progress does not go to stderr")
				}
			} else if len(tt.svc.calls) != 0 {
				t.Errorf("Apply ran: %+v", tt.svc.calls)
			}
			if golden, ok := strings.CutPrefix(tt.wantOut, "golden:"); ok {
				tenanttest.Golden(t, golden, s.OutBuf.Bytes())
			} else if s.OutBuf.String() != tt.wantOut {
				t.Errorf("stdout = %q, want %q", s.OutBuf.String(), tt.wantOut)
			}
			switch tt.wantStderr {
			case "":
			case "-":
				if s.ErrBuf.Len() != 0 {
					t.Errorf("stderr = %q, want nothing", s.ErrBuf.String())
				}
			default:
				if s.ErrBuf.String() != tt.wantStderr {
					t.Errorf("stderr = %q, want %q", s.ErrBuf.String(), tt.wantStderr)
				}
			}
		})
	}
}
