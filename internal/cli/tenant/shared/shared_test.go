package shared

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string // "" for valid
	}{
		{name: "simple", in: "acme"},
		{name: "digits and inner dash", in: "a-1-b2"},
		{name: "forty characters", in: strings.Repeat("a", 40)},
		{name: "one character", in: "a"},
		{name: "empty", in: "", wantErr: "allowed:"},
		{name: "forty-one characters", in: strings.Repeat("a", 41), wantErr: "41 characters"},
		{name: "uppercase", in: "Acme", wantErr: `use "acme" instead`},
		{name: "leading dash", in: "-acme", wantErr: `starts or ends with "-"`},
		{name: "trailing dash", in: "acme-", wantErr: `starts or ends with "-"`},
		{name: "underscore", in: "ac_me", wantErr: "'_'"},
		{name: "glob star", in: "ac*", wantErr: "'*'"},
		{name: "glob question mark", in: "ac?e", wantErr: "'?'"},
		{name: "glob bracket", in: "a[b]", wantErr: "'['"},
		{name: "double quote", in: `ac"me`, wantErr: `'"'`},
		{name: "single quote", in: "ac'me", wantErr: `'\''`},
		{name: "space", in: "ac me", wantErr: "a space"},
		{name: "dot", in: "ac.me", wantErr: "'.'"},
		{name: "non-ASCII", in: "acmé", wantErr: "non-ASCII"},
		{name: "reserved public", in: "public", wantErr: "is reserved"},
		{name: "reserved postgres", in: "postgres", wantErr: "is reserved"},
		{name: "reserved kube-system", in: "kube-system", wantErr: "is reserved"},
		{name: "reserved template1", in: "template1", wantErr: "is reserved"},
		{name: "reserved admin", in: "admin", wantErr: "is reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateName(tt.in)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil && !tenanttest.IsUsage(err) {
				t.Errorf("error %v is not a usage error", err)
			}
		})
	}
}

func TestValidateTier(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{name: "shared", in: "shared"},
		{name: "schema", in: "schema"},
		{name: "database", in: "database"},
		{name: "unknown", in: "dedicated", wantErr: "allowed: shared, schema, database"},
		{name: "wrong case", in: "Shared", wantErr: "unknown"},
		{name: "empty", in: "", wantErr: "tier is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateTier(tt.in)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil && cmdutil.ExitCode(err) != cmdutil.ExitUsage {
				t.Errorf("exit code %d, want %d", cmdutil.ExitCode(err), cmdutil.ExitUsage)
			}
		})
	}
}

func TestParseQuota(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    fleet.Quota
		wantErr string
	}{
		{name: "none", in: nil},
		{
			name: "every key",
			in:   []string{"cpu=2,memory=4Gi,pods=20,services=10,pvcs=5,storage=20Gi"},
			want: fleet.Quota{CPU: "2", Memory: "4Gi", Pods: 20, Services: 10, PVCs: 5, Storage: "20Gi"},
		},
		{
			name: "spread over flags, spaces and case",
			in:   []string{"CPU=500m, memory = 512Mi", "pods=3,"},
			want: fleet.Quota{CPU: "500m", Memory: "512Mi", Pods: 3},
		},
		{name: "missing value", in: []string{"cpu"}, wantErr: "use key=value pairs"},
		{name: "empty value", in: []string{"cpu="}, wantErr: "use key=value pairs"},
		{name: "unknown key", in: []string{"gpus=1"}, wantErr: `unknown key "gpus"; use cpu, memory, pods, services, pvcs, storage`},
		{name: "repeated key", in: []string{"cpu=1", "cpu=2"}, wantErr: "sets cpu twice"},
		{name: "bad quantity", in: []string{"memory=4GB"}, wantErr: "Kubernetes quantity"},
		{name: "zero quantity", in: []string{"cpu=0"}, wantErr: "positive"},
		{name: "negative quantity", in: []string{"storage=-1Gi"}, wantErr: "positive"},
		{name: "count not a number", in: []string{"pods=many"}, wantErr: "whole number"},
		{name: "count zero", in: []string{"services=0"}, wantErr: "at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseQuota(tt.in)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if !tenanttest.IsUsage(err) {
					t.Errorf("error %v is not a usage error", err)
				}
				return
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMergeQuota(t *testing.T) {
	base := fleet.Quota{CPU: "2", Memory: "4Gi", Pods: 20, Services: 10, PVCs: 5, Storage: "20Gi"}
	tests := []struct {
		name string
		over fleet.Quota
		want fleet.Quota
	}{
		{name: "nothing", want: base},
		{name: "cpu only", over: fleet.Quota{CPU: "4"}, want: fleet.Quota{CPU: "4", Memory: "4Gi", Pods: 20, Services: 10, PVCs: 5, Storage: "20Gi"}},
		{
			name: "every field",
			over: fleet.Quota{CPU: "1", Memory: "1Gi", Pods: 1, Services: 1, PVCs: 1, Storage: "1Gi"},
			want: fleet.Quota{CPU: "1", Memory: "1Gi", Pods: 1, Services: 1, PVCs: 1, Storage: "1Gi"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MergeQuota(base, tt.over); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name       string
		in         []string
		allowUnset bool
		wantSet    map[string]string
		wantUnset  []string
		wantErr    string
	}{
		{name: "none"},
		{name: "set", in: []string{"beta=true", "plan=gold=plus"}, wantSet: map[string]string{"beta": "true", "plan": "gold=plus"}},
		{name: "empty value", in: []string{"beta="}, wantSet: map[string]string{"beta": ""}},
		{name: "dotted key", in: []string{"ui.theme_v2=dark"}, wantSet: map[string]string{"ui.theme_v2": "dark"}},
		{name: "unset allowed", in: []string{"beta-", "plan=gold"}, allowUnset: true, wantSet: map[string]string{"plan": "gold"}, wantUnset: []string{"beta"}},
		{name: "unset refused on create", in: []string{"beta-"}, wantErr: "use key=value"},
		{name: "no equals", in: []string{"beta"}, allowUnset: true, wantErr: "or key- to remove it"},
		{name: "empty key", in: []string{"=x"}, wantErr: "flag keys are 1 to 63"},
		{name: "key with space", in: []string{"be ta=x"}, wantErr: "flag keys are"},
		{name: "key starting with dot", in: []string{".beta=x"}, wantErr: "flag keys are"},
		{name: "key too long", in: []string{strings.Repeat("k", 64) + "=x"}, wantErr: "64 characters"},
		{name: "control character in value", in: []string{"beta=a\nb"}, wantErr: "control character"},
		{name: "repeated key", in: []string{"beta=1", "beta=2"}, wantErr: "given twice"},
		{name: "set and unset the same key", in: []string{"beta=1", "beta-"}, allowUnset: true, wantErr: "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, unset, err := ParseFlags(tt.in, tt.allowUnset)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if !tenanttest.IsUsage(err) {
					t.Errorf("error %v is not a usage error", err)
				}
				return
			}
			if !reflect.DeepEqual(set, tt.wantSet) || !reflect.DeepEqual(unset, tt.wantUnset) {
				t.Errorf("got set %v unset %v, want set %v unset %v", set, unset, tt.wantSet, tt.wantUnset)
			}
		})
	}
}

// TestValidateSpec: the CLI checks a spec with the domain's rules (tested in
// tenantspec) and turns every problem into one usage error (exit 2).
func TestValidateSpec(t *testing.T) {
	if err := ValidateSpec(fleet.Spec{Name: "acme", Tier: "shared"}); err != nil {
		t.Fatalf("valid spec: %v", err)
	}
	err := ValidateSpec(fleet.Spec{Name: "Acme", Tier: "gold", Quota: fleet.Quota{Memory: "lots"}})
	var usage *cmdutil.UsageError
	if !errors.As(err, &usage) {
		t.Fatalf("error %v is not a usage error", err)
	}
	var fields tenantspec.FieldErrors
	if !errors.As(err, &fields) || strings.Join(fields.Fields(), ",") != "name,tier,quota.memory" {
		t.Errorf("error %v: want the fields name, tier and quota.memory", err)
	}
}

func TestConfirm(t *testing.T) {
	tests := []struct {
		name, in string
		want     bool
	}{
		{name: "exact", in: "acme\n", want: true},
		{name: "surrounding spaces", in: "  acme \r\n", want: true},
		{name: "no newline at end of input", in: "acme", want: true},
		{name: "other name", in: "acm\n"},
		{name: "yes is not the name", in: "yes\n"},
		{name: "empty line", in: "\n"},
		{name: "end of input", in: ""},
		{name: "only the first line counts", in: "no\nacme\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams(tt.in, true)
			got, err := Confirm(s.IOStreams, "Type it:", "acme")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if s.ErrBuf.String() != "Type it: " {
				t.Errorf("prompt on stderr is %q", s.ErrBuf.String())
			}
			if s.OutBuf.Len() != 0 {
				t.Errorf("prompt leaked to stdout: %q", s.OutBuf.String())
			}
		})
	}
}

type fakeLister struct {
	tenants []fleet.Tenant
	err     error
	calls   int
}

func (f *fakeLister) List(ctx context.Context) ([]fleet.Tenant, error) {
	f.calls++
	if _, ok := ctx.Deadline(); !ok {
		return nil, errors.New("completion listed without a deadline")
	}
	return f.tenants, f.err
}

func TestCompletion(t *testing.T) {
	three := []fleet.Tenant{{Spec: fleet.Spec{Name: "acme"}}, {Spec: fleet.Spec{Name: "acorn"}}, {Spec: fleet.Spec{Name: "beta"}}}
	tests := []struct {
		name       string
		lister     *fakeLister
		serviceErr error
		other      bool // CompleteOtherNames instead of CompleteName
		args       []string
		toComplete string
		want       []string
		wantCalls  int
	}{
		{name: "all", lister: &fakeLister{tenants: three}, want: []string{"acme", "acorn", "beta"}, wantCalls: 1},
		{name: "prefix", lister: &fakeLister{tenants: three}, toComplete: "ac", want: []string{"acme", "acorn"}, wantCalls: 1},
		{name: "no match", lister: &fakeLister{tenants: three}, toComplete: "z", wantCalls: 1},
		{name: "second argument is not completed", lister: &fakeLister{tenants: three}, args: []string{"acme"}},
		{name: "list error is silent", lister: &fakeLister{err: errors.New("backend down")}, wantCalls: 1},
		{name: "service error is silent", lister: &fakeLister{}, serviceErr: errors.New("no home")},
		{name: "other names leave out the argument", lister: &fakeLister{tenants: three}, other: true, args: []string{"acme"}, want: []string{"acorn", "beta"}, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := func() (Lister, error) {
				if tt.serviceErr != nil {
					return nil, tt.serviceErr
				}
				return tt.lister, nil
			}
			fn := CompleteName(svc)
			if tt.other {
				fn = CompleteOtherNames(svc)
			}
			got, dir := fn(&cobra.Command{}, tt.args, tt.toComplete)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if dir != cobra.ShellCompDirectiveNoFileComp {
				t.Errorf("directive %v, want NoFileComp", dir)
			}
			if tt.lister.calls != tt.wantCalls {
				t.Errorf("List called %d times, want %d", tt.lister.calls, tt.wantCalls)
			}
		})
	}
}

func TestIsolationError(t *testing.T) {
	pass := fleet.Probe{Layer: "postgres", Name: "read rows", Target: "beta", Passed: true}
	fail := func(layer, target string) fleet.Probe {
		return fleet.Probe{Layer: layer, Name: "read rows", Target: target, Detail: "leaked"}
	}
	tests := []struct {
		name    string
		report  fleet.VerifyReport
		wantErr string
	}{
		{name: "all passed", report: fleet.VerifyReport{Tenant: "acme", Passed: true, Probes: []fleet.Probe{pass, pass}}},
		{
			name:    "one failed",
			report:  fleet.VerifyReport{Tenant: "acme", Probes: []fleet.Probe{pass, fail("redis", "beta")}},
			wantErr: `isolation check failed: 1 of 2 probes of tenant "acme" failed (redis: read rows -> beta); suspend it with "tenantctl suspend acme"`,
		},
		{
			name:    "report says failed though every probe passed",
			report:  fleet.VerifyReport{Tenant: "acme", Passed: false, Probes: []fleet.Probe{pass}},
			wantErr: "0 of 1 probes",
		},
		{
			name:    "probe failed though report says passed",
			report:  fleet.VerifyReport{Tenant: "acme", Passed: true, Probes: []fleet.Probe{fail("postgres", "")}},
			wantErr: "(postgres: read rows)",
		},
		{
			name:    "many failed are cut short",
			report:  fleet.VerifyReport{Tenant: "acme", Probes: []fleet.Probe{fail("a", "x"), fail("b", "x"), fail("c", "x"), fail("d", "x"), fail("e", "x")}},
			wantErr: "(a: read rows -> x; b: read rows -> x; c: read rows -> x; and 2 more)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := IsolationError(&tt.report)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil && cmdutil.ExitCode(err) != cmdutil.ExitIsolation {
				t.Errorf("exit code %d, want %d", cmdutil.ExitCode(err), cmdutil.ExitIsolation)
			}
		})
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want string
	}{
		{name: "none", n: 0, want: "0 tenants"},
		{name: "one", n: 1, want: "1 tenant"},
		{name: "many", n: 12, want: "12 tenants"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Count(tt.n, "tenant"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
