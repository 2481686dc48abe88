package move

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

func (f *fakeMover) PlanMove(_ context.Context, name string, tier tenantspec.Tier, _ io.Writer) (*fleet.Plan, error) {
	f.planned = append(f.planned, fleet.MoveOptions{Name: name, Tier: tier})
	return &fleet.Plan{Tenant: name, Action: fleet.PlanMove, Changes: []fleet.Change{
		{Op: "create", Type: "tenantstack:postgres:Schema", Name: "tenant_acme"}}, Notes: []string{"Redis and Kubernetes stay as they are"}}, f.err
}

func TestMoveDryRun(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "plans without asking", args: []string{"acme", "--tier", "schema", "--dry-run"}},
		{name: "needs a tier", args: []string{"acme", "--abort", "--dry-run"}, wantErr: "--dry-run previews a move to a tier"},
		{name: "not with a phase", args: []string{"acme", "--tier", "schema", "--phase", "prepare", "--dry-run"}, wantErr: "--dry-run previews a move to a tier"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false) // no terminal, no --yes
			f := &fakeMover{}
			cmd := NewCmdMove(tenanttest.NewFactory(t, s, output.Table), func(o *MoveOptions) error {
				o.Service = func() (Mover, error) { return f, nil }
				return moveRun(t.Context(), o)
			})
			err := tenanttest.Execute(t, cmd, tt.args...)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if len(f.moves) != 0 {
				t.Errorf("a dry run moved: %+v", f.moves)
			}
			if tt.wantErr != "" {
				if len(f.planned) != 0 {
					t.Errorf("planned after a usage error: %+v", f.planned)
				}
				return
			}
			if len(f.planned) != 1 || f.planned[0].Tier != tenantspec.TierSchema {
				t.Fatalf("PlanMove calls %+v, want one to the schema tier", f.planned)
			}
			if !strings.Contains(s.OutBuf.String(), "acme\tmove\tcreate\ttenantstack:postgres:Schema\ttenant_acme\t-\n") {
				t.Errorf("stdout %q lacks the plan's row", s.OutBuf.String())
			}
			if !strings.Contains(s.ErrBuf.String(), "acme: Redis and Kubernetes stay as they are") {
				t.Errorf("stderr %q lacks the plan's notes", s.ErrBuf.String())
			}
		})
	}
}
