package drift

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

type fakeDrifter struct {
	names [][]string
	plans []fleet.Plan
}

func (f *fakeDrifter) Drift(_ context.Context, names []string, _ int, _ io.Writer) ([]fleet.Plan, error) {
	f.names = append(f.names, names)
	return f.plans, nil
}

func TestDriftArgs(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{args: nil, wantErr: "name the tenants to check, or pass --all"},
		{args: []string{"acme", "--all"}, wantErr: "name tenants or pass --all, not both"},
		{args: []string{"Bad_Name"}, wantErr: "Bad_Name"},
		{args: []string{"--all", "--parallel", "0"}, wantErr: "--parallel is 0"},
	} {
		s := tenanttest.NewStreams("", false)
		err := tenanttest.Execute(t, NewCmdDrift(tenanttest.NewFactory(t, s, output.Table), nil), tt.args...)
		if !tenanttest.IsUsage(err) {
			t.Errorf("%v: err %v, want a usage error", tt.args, err)
		}
		tenanttest.CheckErr(t, err, tt.wantErr)
	}
}

func TestDriftExitsSevenOnDrift(t *testing.T) {
	for _, tt := range []struct {
		name     string
		plans    []fleet.Plan
		wantExit int
		wantErr  string
	}{
		{name: "none", plans: []fleet.Plan{{Tenant: "acme", Action: fleet.PlanDrift, Changes: []fleet.Change{}}}, wantExit: cmdutil.ExitOK},
		{name: "a role changed by hand", wantExit: cmdutil.ExitDrift, wantErr: "1 tenant changed outside tenantstack (beta)",
			plans: []fleet.Plan{{Tenant: "acme", Action: fleet.PlanDrift, Changes: []fleet.Change{}},
				{Tenant: "beta", Action: fleet.PlanDrift, Changes: []fleet.Change{{Op: "update", Type: "tenantstack:postgres:Role", Name: "tenant_beta", Diffs: []string{"connectionLimit"}}}}}},
		{name: "one cannot be read", wantExit: cmdutil.ExitError, wantErr: "1 tenant could not be checked (acme)",
			plans: []fleet.Plan{{Tenant: "acme", Action: fleet.PlanDrift, Changes: []fleet.Change{}, Error: "refresh failed"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			f := &fakeDrifter{plans: tt.plans}
			err := driftRun(t.Context(), &DriftOptions{IO: s.IOStreams, Format: output.Table, Parallel: 1, Service: func() (Drifter, error) { return f, nil }})
			tenanttest.CheckErr(t, err, tt.wantErr)
			if got := cmdutil.ExitCode(err); got != tt.wantExit {
				t.Errorf("exit %d, want %d", got, tt.wantExit)
			}
			if tt.wantExit == cmdutil.ExitDrift && !errors.Is(err, fleet.ErrDrift) {
				t.Errorf("err %v is not fleet.ErrDrift", err)
			}
			if tt.name == "a role changed by hand" && !strings.Contains(s.OutBuf.String(), "beta\tdrift\tupdate\ttenantstack:postgres:Role\ttenant_beta\tconnectionLimit\n") {
				t.Errorf("stdout %q lacks the drifted role", s.OutBuf.String())
			}
		})
	}
}
