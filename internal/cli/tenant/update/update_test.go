package update

import (
	"context"
	"fmt"
	"io"
	"maps"
	"reflect"
	"testing"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

func TestNewCmdUpdate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    UpdateOptions // IO, Format and Service are not compared
		wantErr string
	}{
		{name: "quota", args: []string{"acme", "--quota", "cpu=4"}, want: UpdateOptions{Name: "acme", Quota: fleet.Quota{CPU: "4"}}},
		{
			name: "flags set and removed", args: []string{"acme", "--flag", "beta=true", "--flag", "legacy-"},
			want: UpdateOptions{Name: "acme", SetFlags: map[string]string{"beta": "true"}, UnsetFlags: []string{"legacy"}},
		},
		{
			name: "workload and connection limit", args: []string{"acme", "--image", "app:2", "--replicas", "3", "--host", "a.example.com", "--connection-limit", "40"},
			want: UpdateOptions{Name: "acme", Image: "app:2", Replicas: 3, Host: "a.example.com", ConnectionLimit: 40},
		},
		{name: "a known tier is compared later", args: []string{"acme", "--tier", "schema"}, want: UpdateOptions{Name: "acme", Tier: "schema"}},
		{name: "nothing to update", args: []string{"acme"}, wantErr: "nothing to update; pass at least one of --plan"},
		{name: "reconcile changes nothing of the spec", args: []string{"acme", "--reconcile"}, want: UpdateOptions{Name: "acme", Reconcile: true}},
		{name: "bad name", args: []string{"ACME", "--quota", "cpu=4"}, wantErr: `use "acme" instead`},
		{name: "reserved name", args: []string{"platform", "--quota", "cpu=4"}, wantErr: "is reserved"},
		{name: "unknown tier", args: []string{"acme", "--tier", "gold"}, wantErr: `tier "gold" is unknown`},
		{name: "bad quota", args: []string{"acme", "--quota", "memory=4GB"}, wantErr: "Kubernetes quantity"},
		{name: "bad flag", args: []string{"acme", "--flag", "=x"}, wantErr: "flag keys are"},
		{name: "empty image", args: []string{"acme", "--image", " "}, wantErr: "contains whitespace"},
		{name: "zero replicas", args: []string{"acme", "--replicas", "0"}, wantErr: "--replicas is 0"},
		{name: "bad host", args: []string{"acme", "--host", "-x.example.com"}, wantErr: "use a DNS name"},
		{name: "zero connection limit", args: []string{"acme", "--connection-limit", "0"}, wantErr: "--connection-limit is 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			var got *UpdateOptions
			cmd := NewCmdUpdate(tenanttest.NewFactory(t, s, output.Table), func(o *UpdateOptions) error { got = o; return nil })
			err := tenanttest.Execute(t, cmd, tt.args...)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if !tenanttest.IsUsage(err) || got != nil {
					t.Errorf("error %v: usage error %v, runF ran %v", err, tenanttest.IsUsage(err), got != nil)
				}
				return
			}
			if got == nil {
				t.Fatal("runF did not run")
			}
			g := *got
			g.IO, g.Format, g.Service = nil, "", nil
			if !reflect.DeepEqual(g, tt.want) {
				t.Errorf("options %+v, want %+v", g, tt.want)
			}
		})
	}
}

// fakeUpdater serves a copy of current and records the specs it is given.
type fakeUpdater struct {
	current *fleet.Tenant
	getErr  error
	got     []string
	updated []fleet.Spec
	planned []fleet.Spec
}

func (f *fakeUpdater) Get(_ context.Context, name string) (*fleet.Tenant, error) {
	f.got = append(f.got, name)
	return f.current, f.getErr
}

func (f *fakeUpdater) Update(_ context.Context, spec fleet.Spec, progress io.Writer) (*fleet.Tenant, error) {
	f.updated = append(f.updated, spec)
	fmt.Fprintln(progress, "updating")
	t := *f.current
	t.Spec = spec
	return &t, nil
}

func TestUpdateRun(t *testing.T) {
	full := func() *fleet.Tenant { return tenanttest.Tenant("acme", "shared") }
	bare := func() *fleet.Tenant {
		return &fleet.Tenant{Spec: fleet.Spec{Name: "acme", Tier: "shared"}, Status: fleet.StatusActive, Created: tenanttest.Created}
	}
	tests := []struct {
		name     string
		current  *fleet.Tenant
		getErr   error
		opts     UpdateOptions
		want     *fleet.Spec // nil: Update must not be called
		wantErr  string
		wantExit int
	}{
		{
			name: "quota keys merge", current: full(), opts: UpdateOptions{Quota: fleet.Quota{CPU: "4", Pods: 30}},
			want: func() *fleet.Spec {
				s := full().Spec
				s.Quota.CPU, s.Quota.Pods = "4", 30
				return &s
			}(),
		},
		{
			name: "flags set and removed", current: full(), opts: UpdateOptions{SetFlags: map[string]string{"beta": "false", "new": "x"}, UnsetFlags: []string{"alpha", "absent"}},
			want: func() *fleet.Spec {
				s := full().Spec
				s.Flags = map[string]string{"beta": "false", "new": "x"}
				return &s
			}(),
		},
		{
			name: "removing the last flag leaves none", current: bare(), opts: UpdateOptions{UnsetFlags: []string{"x"}},
			want: &fleet.Spec{Name: "acme", Tier: "shared"},
		},
		{
			name: "image adds a workload", current: bare(), opts: UpdateOptions{Image: "app:1", Replicas: 2},
			want: &fleet.Spec{Name: "acme", Tier: "shared", Workload: &fleet.Workload{Image: "app:1", Replicas: 2}},
		},
		{
			name: "replicas keep the image", current: full(), opts: UpdateOptions{Replicas: 5, ConnectionLimit: 50},
			want: func() *fleet.Spec {
				s := full().Spec
				s.Workload.Replicas, s.ConnectionLimit = 5, 50
				return &s
			}(),
		},
		{
			name: "replicas without a workload", current: bare(), opts: UpdateOptions{Replicas: 2},
			wantErr: `tenant "acme" has no workload to change; pass --image to add one`, wantExit: cmdutil.ExitUsage,
		},
		{
			name: "same tier", current: full(), opts: UpdateOptions{Tier: "shared", Quota: fleet.Quota{CPU: "3"}},
			want: func() *fleet.Spec {
				s := full().Spec
				s.Quota.CPU = "3"
				return &s
			}(),
		},
		{
			name: "tier change refused", current: full(), opts: UpdateOptions{Tier: "schema", Quota: fleet.Quota{CPU: "3"}},
			wantErr:  `update does not change the tier of "acme" (shared to schema): move the live tenant with "tenantctl move acme --tier schema"`,
			wantExit: cmdutil.ExitUsage,
		},
		{
			name: "not found", getErr: fmt.Errorf("tenant \"acme\" does not exist: %w", fleet.ErrNotFound), opts: UpdateOptions{Quota: fleet.Quota{CPU: "3"}},
			wantErr: "does not exist", wantExit: cmdutil.ExitNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			svc := &fakeUpdater{current: tt.current, getErr: tt.getErr}
			var before fleet.Tenant
			if tt.current != nil {
				before = *tt.current
				before.Flags = maps.Clone(tt.current.Flags)
				if w := tt.current.Workload; w != nil {
					c := *w
					before.Workload = &c
				}
			}
			opts := tt.opts
			opts.IO, opts.Format, opts.Name = s.IOStreams, output.Table, "acme"
			opts.Service = func() (Updater, error) { return svc, nil }
			err := updateRun(t.Context(), &opts)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if got := cmdutil.ExitCode(err); got != tt.wantExit {
				t.Errorf("exit code %d, want %d", got, tt.wantExit)
			}
			if !reflect.DeepEqual(svc.got, []string{"acme"}) {
				t.Errorf("Get calls %v, want one for acme", svc.got)
			}
			if tt.want == nil {
				if len(svc.updated) != 0 {
					t.Errorf("Update ran with %+v", svc.updated)
				}
				if s.OutBuf.Len() != 0 {
					t.Errorf("stdout = %q, want nothing", s.OutBuf.String())
				}
				return
			}
			if len(svc.updated) != 1 || !reflect.DeepEqual(svc.updated[0], *tt.want) {
				t.Errorf("Update calls %+v, want one with %+v", svc.updated, *tt.want)
			}
			if tt.current != nil && !reflect.DeepEqual(*tt.current, before) {
				t.Errorf("the current tenant was modified: %+v", *tt.current)
			}
			if want := "acme\tshared\tactive\t-\t2026-01-02T03:04:05Z\n"; s.OutBuf.String() != want {
				t.Errorf("stdout = %q, want %q", s.OutBuf.String(), want)
			}
			if s.ErrBuf.String() != "updating\n" {
				t.Errorf("stderr = %q, want the progress", s.ErrBuf.String())
			}
		})
	}
}
