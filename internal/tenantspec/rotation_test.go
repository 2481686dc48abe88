package tenantspec

import (
	"testing"
	"time"
)

func TestAltRoleName(t *testing.T) {
	for _, tc := range []struct {
		name, id, want string
	}{
		{"plain", "acme", "tenant_acme-2"},
		{"dash", "acme-eu", "tenant_acme_eu-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := AltRoleName(tc.id); got != tc.want {
				t.Fatalf("AltRoleName(%q) = %q, want %q", tc.id, got, tc.want)
			}
			if got := LoginRoleName(tc.id, 1); got != tc.want {
				t.Fatalf("LoginRoleName(%q, 1) = %q, want %q", tc.id, got, tc.want)
			}
			if got := LoginRoleName(tc.id, 0); got != RoleName(tc.id) {
				t.Fatalf("LoginRoleName(%q, 0) = %q, want %q", tc.id, got, RoleName(tc.id))
			}
		})
	}
	// No tenant's primary role may equal another tenant's second role.
	if AltRoleName("a") == RoleName("a-2") {
		t.Fatal("the second role of tenant a is tenant a-2's login role")
	}
	if AltRoleName("a") == OwnerRoleName("a") {
		t.Fatal("the second role is the owner role")
	}
}

func TestParseAge(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        string
		allowZero bool
		want      time.Duration
		wantErr   bool
	}{
		{"days", "30d", false, 30 * 24 * time.Hour, false},
		{"minutes", "5m", false, 5 * time.Minute, false},
		{"zero allowed", "0", true, 0, false},
		{"zero refused", "0s", false, 0, true},
		{"negative", "-1h", true, 0, true},
		{"bad days", "xd", true, 0, true},
		{"junk", "soon", true, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAge(tc.in, tc.allowZero)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseAge(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("ParseAge(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
