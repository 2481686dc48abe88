package tenantspec

import (
	"strings"
	"testing"
)

func TestValidateTenantID(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		wantErr string // substring of the error; "" for valid
	}{
		{name: "simple", id: "acme"},
		{name: "single letter", id: "a"},
		{name: "single digit", id: "7"},
		{name: "inner dashes", id: "acme-corp-eu"},
		{name: "leading digit", id: "3m"},
		{name: "40 characters", id: strings.Repeat("a", 40)},
		{name: "reserved-looking but not reserved", id: "apps"},
		{name: "empty", id: "", wantErr: "tenant id is empty; allowed:"},
		{name: "uppercase", id: "Acme", wantErr: `contains the uppercase letter 'A'; use "acme" instead`},
		{name: "41 characters", id: strings.Repeat("a", 41), wantErr: "is 41 characters long; allowed: 1 to 40 characters"},
		{name: "leading dash", id: "-acme", wantErr: `starts or ends with "-"`},
		{name: "trailing dash", id: "acme-", wantErr: `starts or ends with "-"`},
		{name: "only a dash", id: "-", wantErr: `starts or ends with "-"`},
		{name: "underscore", id: "acme_corp", wantErr: `contains '_' at position 4; allowed:`},
		{name: "dot", id: "acme.corp", wantErr: `contains '.' at position 4`},
		{name: "glob", id: "acme*", wantErr: `contains '*' at position 4`},
		{name: "question mark glob", id: "ac?me", wantErr: `contains '?' at position 2`},
		{name: "single quote", id: "ac'me", wantErr: `contains '\'' at position 2`},
		{name: "double quote", id: `ac"me`, wantErr: `contains '"' at position 2`},
		{name: "semicolon", id: "acme;drop", wantErr: `contains ';' at position 4`},
		{name: "colon", id: "t:acme", wantErr: `contains ':' at position 1`},
		{name: "slash", id: "acme/x", wantErr: `contains '/' at position 4`},
		{name: "space", id: "ac me", wantErr: "contains a space at position 2"},
		{name: "newline", id: "acme\n", wantErr: "contains a control character (U+000A)"},
		{name: "non-ASCII", id: "acmé", wantErr: "contains the non-ASCII character 'é' (U+00E9)"},
		{name: "reserved public", id: "public", wantErr: `tenant id "public" is reserved`},
		{name: "reserved postgres", id: "postgres", wantErr: "is reserved"},
		{name: "reserved kube-system", id: "kube-system", wantErr: "is reserved"},
		{name: "reserved template1", id: "template1", wantErr: "is reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateTenantID(tt.id)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ValidateTenantID(%q) = %v, want nil", tt.id, err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("ValidateTenantID(%q) = nil, want an error containing %q", tt.id, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("ValidateTenantID(%q) = %q, want it to contain %q", tt.id, err, tt.wantErr)
			}
		})
	}
}

func TestValidateTenantIDRefusesEveryReservedName(t *testing.T) {
	want := []string{"public", "postgres", "app", "default", "kube-system", "kube-public", "kube-node-lease",
		"platform", "admin", "template0", "template1", "system"}
	if got := ReservedTenantIDs(); len(got) != len(want) {
		t.Errorf("ReservedTenantIDs() = %q, want the %d names %q", got, len(want), want)
	}
	for _, id := range want {
		err := ValidateTenantID(id)
		if err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("ValidateTenantID(%q) = %v, want a reserved-name error", id, err)
		}
	}
}

func TestParseTier(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Tier
		wantErr string
	}{
		{name: "shared", in: "shared", want: TierShared},
		{name: "schema", in: "schema", want: TierSchema},
		{name: "database", in: "database", want: TierDatabase},
		{name: "empty", in: "", wantErr: "tier is empty; allowed: shared, schema, database"},
		{name: "unknown", in: "dedicated", wantErr: `tier "dedicated" is unknown; allowed: shared, schema, database`},
		{name: "wrong case", in: "Schema", wantErr: `tier "Schema" is unknown`},
		{name: "padded", in: " shared", wantErr: `tier " shared" is unknown`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTier(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseTier(%q) = %q, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseTier(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
	// Every listed tier parses, so the CLI can offer Tiers() as the choices.
	for _, tier := range Tiers() {
		if got, err := ParseTier(tier.String()); err != nil || got != tier {
			t.Errorf("ParseTier(%q) = %q, %v", tier, got, err)
		}
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) string
		id   string
		want string
	}{
		{"RoleName", RoleName, "acme-corp", "tenant_acme_corp"},
		{"OwnerRoleName", OwnerRoleName, "acme-corp", "tenant_acme_corp_owner"},
		{"SchemaName", SchemaName, "acme-corp", "tenant_acme_corp"},
		{"DatabaseName", DatabaseName, "acme-corp", "tenant_acme_corp"},
		{"RedisUsername", RedisUsername, "acme-corp", "tenant-acme-corp"},
		{"KeyPrefix", KeyPrefix, "acme-corp", "t:acme-corp:"},
		{"ChannelPrefix", ChannelPrefix, "acme-corp", "t:acme-corp:"},
		{"Namespace", Namespace, "acme-corp", "tenant-acme-corp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fn(tt.id); got != tt.want {
				t.Errorf("%s(%q) = %q, want %q", tt.name, tt.id, got, tt.want)
			}
		})
	}
}

// The longest tenant id must still give names within PostgreSQL's 63-byte
// identifier limit (longer ones are truncated silently, so two tenants could
// share a role) and Kubernetes' 63-character namespace limit.
func TestNamesOfTheLongestIDFit(t *testing.T) {
	id := strings.Repeat("a-", MaxTenantIDLength/2-1) + "ab"
	if len(id) != MaxTenantIDLength || ValidateTenantID(id) != nil {
		t.Fatalf("test id %q (%d) is not a valid id of the maximum length", id, len(id))
	}
	for _, n := range []struct {
		fn  string
		got string
	}{
		{"RoleName", RoleName(id)},
		{"OwnerRoleName", OwnerRoleName(id)},
		{"SchemaName", SchemaName(id)},
		{"DatabaseName", DatabaseName(id)},
		{"RedisUsername", RedisUsername(id)},
		{"Namespace", Namespace(id)},
	} {
		if len(n.got) > 63 {
			t.Errorf("%s of a %d-character id is %d bytes, over the limit of 63: %q", n.fn, len(id), len(n.got), n.got)
		}
	}
}

// Distinct tenants get distinct names: "-" maps to "_" in PostgreSQL names,
// which is safe only because ids cannot contain "_"; the prefix ends with ":"
// so one tenant's prefix is never the start of another's.
func TestNamesDoNotCollide(t *testing.T) {
	if ValidateTenantID("a_b") == nil {
		t.Fatal(`"a_b" is a valid id, so RoleName("a-b") and RoleName("a_b") would collide`)
	}
	if strings.HasPrefix(KeyPrefix("a-b"), KeyPrefix("a")) {
		t.Errorf("KeyPrefix(%q) = %q starts with KeyPrefix(%q) = %q", "a-b", KeyPrefix("a-b"), "a", KeyPrefix("a"))
	}
}
