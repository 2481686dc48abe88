package audit

import (
	"slices"
	"strings"
	"testing"
)

func TestRedactNeverKeepsASecret(t *testing.T) {
	tests := []struct {
		in, want []string
	}{
		{[]string{"create", "acme", "--tier", "shared"}, []string{"create", "acme", "--tier", "shared"}},
		{[]string{"platform", "up", "--set", "postgresAdminUrl=postgres://admin:hunter2@db:5432/postgres"},
			[]string{"platform", "up", "--set", "postgresAdminUrl=[secret]"}},
		{[]string{"platform", "up", "--set=tenantstack:redisAdminUrl=redis://a:pw@r:6379"},
			[]string{"platform", "up", "--set=tenantstack:redisAdminUrl=[secret]"}},
		{[]string{"platform", "up", "--set", "kubeconfig=/k"}, []string{"platform", "up", "--set", "kubeconfig=/k"}},
		{[]string{"x", "--backend", "s3://key:sekret@bucket/state"}, []string{"x", "--backend", "s3://key:xxxxx@bucket/state"}},
		{[]string{"x", "--password", "sekret"}, []string{"x", "--password", "[secret]"}},
		{[]string{"x", "--api-token=sekret"}, []string{"x", "--api-token=[secret]"}},
		{[]string{"backup", "acme", "--to", "s3://AKIA:sekret@b", "--recipient", "age1pub"}, []string{"backup", "acme", "--to", "s3://AKIA:xxxxx@b", "--recipient", "age1pub"}},
	}
	for _, tt := range tests {
		got := Redact(tt.in)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
		for _, g := range got {
			for _, secret := range []string{"hunter2", "sekret", ":pw@"} {
				if strings.Contains(g, secret) {
					t.Errorf("Redact(%q) kept %q", tt.in, secret)
				}
			}
		}
	}
}

func TestMutating(t *testing.T) {
	for path, want := range map[string]bool{
		"tenantctl create": true, "tenantctl migrate up": true, "tenantctl platform destroy": true, "tenantctl apply": true,
		"tenantctl list": false, "tenantctl get": false, "tenantctl migrate plan": false, "tenantctl verify": false,
		"tenantctl credentials": false, "tenantctl audit": false, "tenantctl dev up": false,
		"tenantctl restore": true, "tenantctl purge": true, "tenantctl rotate": true,
		"tenantctl backup": false, "tenantctl backups": false,
	} {
		if got := Mutating(path); got != want {
			t.Errorf("Mutating(%q) = %v, want %v", path, got, want)
		}
	}
}
