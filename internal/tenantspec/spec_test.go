package tenantspec_test

import (
	"errors"
	"go/build"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		spec   tenantspec.Spec
		fields []string // the invalid fields, in order
		want   []string // substrings of the message
	}{
		{name: "minimal", spec: tenantspec.Spec{Name: "acme", Tier: "shared"}},
		{
			name: "full",
			spec: tenantspec.Spec{
				Name: "acme", Tier: "database", ConnectionLimit: 10,
				Quota:    tenantspec.Quota{CPU: "2", Memory: "4Gi", Pods: 20, Storage: "20Gi"},
				Flags:    map[string]string{"beta": "true"},
				Workload: &tenantspec.Workload{Image: "nginx:1.27", Replicas: 2, Host: "acme.example.com", Port: 8080},
			},
		},
		{name: "wildcard host", spec: tenantspec.Spec{Name: "acme", Tier: "shared", Workload: &tenantspec.Workload{Image: "nginx", Host: "*.acme.example.com"}}},
		{name: "40-character id", spec: tenantspec.Spec{Name: strings.Repeat("a", 40), Tier: "shared"}},
		{name: "41-character id", spec: tenantspec.Spec{Name: strings.Repeat("a", 41), Tier: "shared"}, fields: []string{"name"}, want: []string{"is 41 characters long"}},
		{name: "bad name and tier", spec: tenantspec.Spec{Name: "Acme", Tier: "gold"}, fields: []string{"name", "tier"}, want: []string{`name: tenant id "Acme"`, `tier: tier "gold" is unknown`}},
		{name: "missing tier", spec: tenantspec.Spec{Name: "acme"}, fields: []string{"tier"}, want: []string{"tier is empty"}},
		{name: "negative connection limit", spec: tenantspec.Spec{Name: "acme", Tier: "shared", ConnectionLimit: -1}, fields: []string{"connection_limit"}, want: []string{"connection_limit: -1 is negative"}},
		{name: "bad quota", spec: tenantspec.Spec{Name: "acme", Tier: "shared", Quota: tenantspec.Quota{Memory: "lots", Pods: -2, CPU: "0"}}, fields: []string{"quota.cpu", "quota.memory", "quota.pods"}, want: []string{`quota.memory: "lots" is not a positive`, `quota.cpu: "0"`}},
		{name: "bad flag key", spec: tenantspec.Spec{Name: "acme", Tier: "shared", Flags: map[string]string{"-x": "1", "ok": "a\nb"}}, fields: []string{"flags.-x", "flags.ok"}, want: []string{`flags.-x: key "-x"`, "control character"}},
		{name: "flag key too long", spec: tenantspec.Spec{Name: "acme", Tier: "shared", Flags: map[string]string{strings.Repeat("k", 64): "1"}}, fields: []string{"flags." + strings.Repeat("k", 64)}},
		{
			name:   "bad workload",
			spec:   tenantspec.Spec{Name: "acme", Tier: "shared", Workload: &tenantspec.Workload{Replicas: -1, Host: "Acme.example.com", Port: 70000}},
			fields: []string{"workload.image", "workload.replicas", "workload.host", "workload.port"},
			want:   []string{"workload.image: the image is empty", "workload.replicas: -1", `workload.host: host "Acme.example.com"`, "workload.port: 70000 is not a port"},
		},
		{name: "bare wildcard host", spec: tenantspec.Spec{Name: "acme", Tier: "shared", Workload: &tenantspec.Workload{Image: "nginx", Host: "*."}}, fields: []string{"workload.host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if len(tt.fields) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var fe tenantspec.FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not FieldErrors", err)
			}
			if got := fe.Fields(); !slices.Equal(got, tt.fields) {
				t.Errorf("fields = %q, want %q", got, tt.fields)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	in := tenantspec.Spec{Name: "acme", Tier: "shared", Flags: map[string]string{}, Workload: &tenantspec.Workload{Image: "x"}}
	got := in.WithDefaults()
	if got.ConnectionLimit != tenantspec.DefaultConnectionLimit || got.Flags != nil {
		t.Errorf("WithDefaults = %+v", got)
	}
	got.Workload.Image = "changed"
	if in.Workload.Image != "x" {
		t.Error("WithDefaults shares the workload with its input")
	}
	q := tenantspec.QuotaWithDefaults(tenantspec.Quota{Pods: 3})
	want := tenantspec.Quota{CPU: "2", Memory: "4Gi", Pods: 3, Services: 10, PVCs: 5, Storage: "20Gi"}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("QuotaWithDefaults = %+v, want %+v", q, want)
	}
	if m := tenantspec.MergeQuota(want, tenantspec.Quota{CPU: "4"}); m.CPU != "4" || m.Pods != 3 {
		t.Errorf("MergeQuota = %+v", m)
	}
}

// TestLeaf: the domain imports no Pulumi engine and no CLI, so that every
// layer can use it.
func TestLeaf(t *testing.T) {
	pkg, err := build.Import("github.com/tenantstack/tenantstack/internal/tenantspec", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.Contains(imp, "pulumi") || strings.Contains(imp, "cobra") || strings.HasPrefix(imp, "github.com/tenantstack/") {
			t.Errorf("tenantspec imports %s; it must stay a leaf", imp)
		}
	}
}
