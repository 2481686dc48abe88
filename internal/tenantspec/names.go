package tenantspec

import (
	"fmt"
	"slices"
	"strings"
)

// MaxTenantIDLength is the longest tenant id accepted. It keeps every name
// derived from the id within its system's limit: Postgres identifiers (63
// bytes, "tenant_<id>_owner" is the longest) and Kubernetes namespace names
// (63, "tenant-<id>").
const MaxTenantIDLength = 40

// tenantIDRule is quoted in every refusal so the user knows what is allowed.
const tenantIDRule = `allowed: 1 to 40 characters, lowercase letters a-z, digits 0-9 and "-", starting and ending with a letter or digit`

// reservedTenantIDs are refused as tenant ids: they are, or would collide with,
// names the platform, PostgreSQL or Kubernetes use themselves.
var reservedTenantIDs = []string{
	"admin", "app", "default", "kube-node-lease", "kube-public", "kube-system",
	"platform", "postgres", "public", "system", "template0", "template1",
}

// ReservedTenantIDs returns the tenant ids that are refused because the
// platform, PostgreSQL or Kubernetes use the names themselves, sorted.
func ReservedTenantIDs() []string { return slices.Clone(reservedTenantIDs) }

// ValidateTenantID reports why id cannot be a tenant id, or nil when it can.
// A tenant id is a DNS label of at most MaxTenantIDLength characters (lowercase
// a-z, 0-9 and "-", not starting or ending with "-") that is not reserved.
func ValidateTenantID(id string) error {
	if id == "" {
		return fmt.Errorf("tenant id is empty; %s", tenantIDRule)
	}
	if len(id) > MaxTenantIDLength {
		return fmt.Errorf("tenant id %q is %d characters long; %s", id, len(id), tenantIDRule)
	}
	for i, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r == '-' && (i == 0 || i == len(id)-1):
			return fmt.Errorf("tenant id %q starts or ends with \"-\"; %s", id, tenantIDRule)
		case r == '-':
		case r >= 'A' && r <= 'Z':
			return fmt.Errorf("tenant id %q contains the uppercase letter %q; use %q instead; %s",
				id, r, strings.ToLower(id), tenantIDRule)
		default:
			return fmt.Errorf("tenant id %q contains %s at position %d; %s", id, describeRune(r), i, tenantIDRule)
		}
	}
	if slices.Contains(reservedTenantIDs, id) {
		return fmt.Errorf("tenant id %q is reserved; choose another name (reserved: %s)",
			id, strings.Join(reservedTenantIDs, ", "))
	}
	return nil
}

// describeRune names a character for an error message without echoing
// invisible or confusing bytes as they are.
func describeRune(r rune) string {
	switch {
	case r == ' ':
		return "a space"
	case r < 0x20 || r == 0x7f:
		return fmt.Sprintf("a control character (%U)", r)
	case r == 0xfffd:
		return "an invalid or replacement character (U+FFFD)"
	case r > 0x7f:
		return fmt.Sprintf("the non-ASCII character %q (%U)", r, r)
	default:
		return fmt.Sprintf("%q", r)
	}
}

// Tier is a tenant's isolation tier in PostgreSQL. Redis and Kubernetes
// isolation is the same in every tier.
type Tier string

// The isolation tiers.
const (
	// TierShared keeps the tenant's rows in the platform's shared tables in
	// schema app, separated by row-level security.
	TierShared Tier = "shared"
	// TierSchema gives the tenant a schema of its own in the platform database.
	TierSchema Tier = "schema"
	// TierDatabase gives the tenant a database of its own.
	TierDatabase Tier = "database"
)

// Tiers returns every tier, from the least to the most isolated.
func Tiers() []Tier { return []Tier{TierShared, TierSchema, TierDatabase} }

// tierList is "shared, schema, database", for messages.
func tierList() string {
	names := make([]string, 0, 3)
	for _, t := range Tiers() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}

// ParseTier returns the tier named s, which must be one of the Tiers exactly.
func ParseTier(s string) (Tier, error) {
	t := Tier(s)
	if !t.Valid() {
		if s == "" {
			return "", fmt.Errorf("tier is empty; allowed: %s", tierList())
		}
		return "", fmt.Errorf("tier %q is unknown; allowed: %s", s, tierList())
	}
	return t, nil
}

// Valid reports whether t is one of the Tiers.
func (t Tier) Valid() bool { return slices.Contains(Tiers(), t) }

// String returns the tier's name.
func (t Tier) String() string { return string(t) }

// pgIdent is the id in the form used inside PostgreSQL names: "-" becomes "_"
// so the names never need quoting. Tenant ids hold no "_", so the mapping is
// one-to-one.
func pgIdent(id string) string { return strings.ReplaceAll(id, "-", "_") }

// RoleName returns the tenant's PostgreSQL login role: "tenant_<id>" with "-"
// replaced by "_".
func RoleName(id string) string { return "tenant_" + pgIdent(id) }

// OwnerRoleName returns the NOLOGIN role that owns the tenant's schema (tier
// schema) or database (tier database): RoleName(id) + "_owner".
func OwnerRoleName(id string) string { return RoleName(id) + "_owner" }

// SchemaName returns the tenant's schema in tier schema. It equals
// RoleName(id) on purpose: PostgreSQL's default search_path starts with
// "$user", so the tenant's unqualified names resolve to its own schema without
// any session setting (which PgBouncer in transaction mode would not keep).
func SchemaName(id string) string { return RoleName(id) }

// DatabaseName returns the tenant's database in tier database: "tenant_<id>"
// with "-" replaced by "_".
func DatabaseName(id string) string { return "tenant_" + pgIdent(id) }

// RedisUsername returns the tenant's Redis ACL user: "tenant-<id>".
func RedisUsername(id string) string { return "tenant-" + id }

// KeyPrefix returns the prefix of every Redis key the tenant may use:
// "t:<id>:". The trailing ":" keeps tenant "a" out of tenant "a-b"'s keys.
func KeyPrefix(id string) string { return "t:" + id + ":" }

// ChannelPrefix returns the prefix of every Redis Pub/Sub channel the tenant
// may use; it is the same as KeyPrefix.
func ChannelPrefix(id string) string { return KeyPrefix(id) }

// NamespacePrefix starts the name of every tenant namespace; the policy pack
// recognises tenant namespaces by it.
const NamespacePrefix = "tenant-"

// Namespace returns the tenant's Kubernetes namespace: "tenant-<id>".
func Namespace(id string) string { return NamespacePrefix + id }
