package create

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

func (f *fakeCreator) PlanCreate(_ context.Context, spec fleet.Spec, _ io.Writer) (*fleet.Plan, error) {
	f.planned = append(f.planned, spec)
	return &fleet.Plan{Tenant: spec.Name, Action: fleet.PlanCreate, Changes: []fleet.Change{
		{Op: "create", Type: "tenantstack:postgres:Role", Name: "tenant_acme"},
		{Op: "create", Type: "kubernetes:core/v1:Namespace", Name: "tenant-acme"},
	}}, nil
}

func TestCreateDryRunPlansAndCreatesNothing(t *testing.T) {
	s := tenanttest.NewStreams("", false)
	f := &fakeCreator{}
	cmd := NewCmdCreate(tenanttest.NewFactory(t, s, output.Table), func(o *CreateOptions) error {
		o.Service = func() (Creator, error) { return f, nil }
		return createRun(t.Context(), o)
	})
	if err := tenanttest.Execute(t, cmd, "acme", "--tier", "schema", "--dry-run"); err != nil {
		t.Fatal(err)
	}
	if len(f.created) != 0 {
		t.Errorf("a dry run created %v", f.created)
	}
	if len(f.planned) != 1 || f.planned[0].Tier != "schema" {
		t.Fatalf("PlanCreate calls %+v, want one for acme on the schema tier", f.planned)
	}
	want := "acme\tcreate\tcreate\tkubernetes:core/v1:Namespace\ttenant-acme\t-\n"
	if !strings.Contains(s.OutBuf.String(), want) {
		t.Errorf("stdout %q lacks the row %q", s.OutBuf.String(), want)
	}
	if !strings.Contains(s.ErrBuf.String(), "Dry run, nothing was changed. acme: create (2 to create)") {
		t.Errorf("stderr %q does not say it was a dry run and what it would do", s.ErrBuf.String())
	}
}
