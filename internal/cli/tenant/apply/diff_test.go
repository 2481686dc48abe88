package apply

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

func (f *fakeApplier) PlanApply(_ context.Context, file fleet.FleetFile, prune bool, parallel int, _ io.Writer) ([]fleet.Plan, error) {
	f.planCalls = append(f.planCalls, applyCall{file, prune, parallel})
	return f.plans, f.err
}

func fleetFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(p, []byte("tenants:\n  - {name: acme, tier: schema}\n  - {name: beta, tier: shared}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var somePlans = []fleet.Plan{
	{Tenant: "acme", Action: fleet.PlanCreate, Changes: []fleet.Change{
		{Op: "create", Type: "tenantstack:postgres:Role", Name: "tenant_acme"},
		{Op: "create", Type: "kubernetes:core/v1:Namespace", Name: "tenant-acme"}}},
	{Tenant: "beta", Action: fleet.PlanUpdate, Changes: []fleet.Change{
		{Op: "update", Type: "kubernetes:core/v1:ResourceQuota", Name: "quota", Diffs: []string{"spec"}}}},
	{Tenant: "gamma", Action: fleet.PlanUnchanged, Changes: []fleet.Change{}},
}

func TestDiffWritesMarkdownAndChangesNothing(t *testing.T) {
	s := tenanttest.NewStreams("", false)
	f := &fakeApplier{plans: somePlans}
	path := fleetFile(t)
	cmd := NewCmdDiff(tenanttest.NewFactory(t, s, output.Table), func(o *ApplyOptions) error {
		o.Service = func() (Applier, error) { return f, nil }
		return diffRun(t.Context(), o)
	})
	if err := tenanttest.Execute(t, cmd, "-f", path, "--prune"); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 0 {
		t.Errorf("diff applied: %+v", f.calls)
	}
	if len(f.planCalls) != 1 || !f.planCalls[0].prune || len(f.planCalls[0].file.Tenants) != 2 {
		t.Fatalf("PlanApply calls %+v, want one with the file's two tenants and prune", f.planCalls)
	}
	out := s.OutBuf.String()
	for _, want := range []string{
		"### tenantctl apply -f " + path + " --prune",
		"3 tenants, 2 with changes, 0 that cannot be planned.",
		"| acme | create | 2 | 0 | 0 | 0 |",
		"| beta | update | 0 | 1 | 0 | 0 |",
		"+ kubernetes:core/v1:Namespace tenant-acme",
		"~ kubernetes:core/v1:ResourceQuota quota [spec]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the Markdown lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "<summary>gamma") {
		t.Errorf("an unchanged tenant got a details block:\n%s", out)
	}
}

func TestDiffFailsWhenATenantCannotBePlanned(t *testing.T) {
	s := tenanttest.NewStreams("", false)
	f := &fakeApplier{plans: []fleet.Plan{{Tenant: "acme", Action: fleet.PlanUpdate, Changes: []fleet.Change{}, Error: "the fleet file puts tenant \"acme\" on the schema tier"}}}
	err := diffRun(t.Context(), &ApplyOptions{IO: s.IOStreams, Format: output.Table, File: "x.yaml", Parallel: 1,
		Service: func() (Applier, error) { return f, nil }})
	tenanttest.CheckErr(t, err, "1 tenant could not be planned (acme)")
	if cmdutil.ExitCode(err) != cmdutil.ExitError {
		t.Errorf("exit %d, want %d", cmdutil.ExitCode(err), cmdutil.ExitError)
	}
	if !strings.Contains(s.OutBuf.String(), "| acme | **error** |") {
		t.Errorf("the report does not show the error:\n%s", s.OutBuf.String())
	}
}

func TestApplyDryRunNeedsNoYesToPlanAPrune(t *testing.T) {
	s := tenanttest.NewStreams("", false)
	f := &fakeApplier{plans: somePlans}
	cmd := NewCmdApply(tenanttest.NewFactory(t, s, output.Table), func(o *ApplyOptions) error {
		o.Service = func() (Applier, error) { return f, nil }
		return applyRun(t.Context(), o)
	})
	if err := tenanttest.Execute(t, cmd, "-f", fleetFile(t), "--prune", "--dry-run"); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 0 || f.listed != 0 {
		t.Errorf("a dry run applied %+v or listed to confirm a prune (%d)", f.calls, f.listed)
	}
	if want := "beta\tupdate\tupdate\tkubernetes:core/v1:ResourceQuota\tquota\tspec\n"; !strings.Contains(s.OutBuf.String(), want) {
		t.Errorf("stdout %q lacks %q", s.OutBuf.String(), want)
	}
}
