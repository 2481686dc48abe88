package tenant

import "github.com/tenantstack/tenantstack/internal/tenantspec"

// The tenant's names, tiers and id rules are the tenant domain's
// (internal/tenantspec); they are repeated here so that a program using the
// component needs only this package.

// MaxTenantIDLength is the longest tenant id accepted.
const MaxTenantIDLength = tenantspec.MaxTenantIDLength

// Tier is a tenant's isolation tier in PostgreSQL.
type Tier = tenantspec.Tier

// The isolation tiers.
const (
	TierShared   = tenantspec.TierShared
	TierSchema   = tenantspec.TierSchema
	TierDatabase = tenantspec.TierDatabase
)

// Tiers returns every tier, from the least to the most isolated.
func Tiers() []Tier { return tenantspec.Tiers() }

// ParseTier returns the tier named s.
func ParseTier(s string) (Tier, error) { return tenantspec.ParseTier(s) }

// ValidateTenantID reports why id cannot be a tenant id, or nil when it can.
func ValidateTenantID(id string) error { return tenantspec.ValidateTenantID(id) }

// ReservedTenantIDs returns the tenant ids that are refused.
func ReservedTenantIDs() []string { return tenantspec.ReservedTenantIDs() }

// RoleName returns the tenant's PostgreSQL login role.
func RoleName(id string) string { return tenantspec.RoleName(id) }

// OwnerRoleName returns the NOLOGIN role that owns the tenant's schema or database.
func OwnerRoleName(id string) string { return tenantspec.OwnerRoleName(id) }

// SchemaName returns the tenant's schema in tier schema.
func SchemaName(id string) string { return tenantspec.SchemaName(id) }

// DatabaseName returns the tenant's database in tier database.
func DatabaseName(id string) string { return tenantspec.DatabaseName(id) }

// RedisUsername returns the tenant's Redis ACL user.
func RedisUsername(id string) string { return tenantspec.RedisUsername(id) }

// KeyPrefix returns the prefix of every Redis key the tenant may use.
func KeyPrefix(id string) string { return tenantspec.KeyPrefix(id) }

// ChannelPrefix returns the prefix of every Redis Pub/Sub channel the tenant may use.
func ChannelPrefix(id string) string { return tenantspec.ChannelPrefix(id) }

// Namespace returns the tenant's Kubernetes namespace.
func Namespace(id string) string { return tenantspec.Namespace(id) }

// AltRoleName returns the tenant's second login role, used by credential
// rotation.
func AltRoleName(id string) string { return tenantspec.AltRoleName(id) }

// LoginRoleName returns the login role of slot 0 (RoleName) or 1 (AltRoleName).
func LoginRoleName(id string, slot int) string { return tenantspec.LoginRoleName(id, slot) }
