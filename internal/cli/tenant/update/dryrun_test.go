package update

import (
	"context"
	"io"
	"testing"

	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

func (f *fakeUpdater) PlanUpdate(_ context.Context, spec fleet.Spec, _ io.Writer) (*fleet.Plan, error) {
	f.planned = append(f.planned, spec)
	return &fleet.Plan{Tenant: spec.Name, Action: fleet.PlanUpdate, Changes: []fleet.Change{
		{Op: "update", Type: "kubernetes:core/v1:ResourceQuota", Name: "quota", Diffs: []string{"spec"}},
	}}, nil
}

func TestUpdateDryRunPlansTheMergedSpec(t *testing.T) {
	s := tenanttest.NewStreams("", false)
	f := &fakeUpdater{current: tenanttest.Tenant("acme", "shared")}
	cmd := NewCmdUpdate(tenanttest.NewFactory(t, s, output.Table), func(o *UpdateOptions) error {
		o.Service = func() (Updater, error) { return f, nil }
		return updateRun(t.Context(), o)
	})
	if err := tenanttest.Execute(t, cmd, "acme", "--quota", "cpu=9", "--dry-run"); err != nil {
		t.Fatal(err)
	}
	if len(f.updated) != 0 {
		t.Errorf("a dry run updated %v", f.updated)
	}
	if len(f.planned) != 1 || f.planned[0].Quota.CPU != "9" {
		t.Fatalf("PlanUpdate calls %+v, want one with cpu=9 merged into the current spec", f.planned)
	}
	if want := "acme\tupdate\tupdate\tkubernetes:core/v1:ResourceQuota\tquota\tspec\n"; s.OutBuf.String() != want {
		t.Errorf("stdout %q, want %q", s.OutBuf.String(), want)
	}
}
