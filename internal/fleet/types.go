package fleet

import (
	"errors"
	"time"

	"github.com/tenantstack/tenantstack/internal/probe"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// Errors the CLI maps to exit codes. Wrap them with %w and a sentence that
// says what to do.
var (
	// ErrNotFound: the named tenant does not exist.
	ErrNotFound = errors.New("tenant not found")
	// ErrExists: a tenant with that name already exists.
	ErrExists = errors.New("tenant already exists")
	// ErrInvalid: bad input; nothing was changed.
	ErrInvalid = errors.New("invalid input")
	// ErrNoPlatform: the platform stack is not up.
	ErrNoPlatform = errors.New("platform not found")
	// ErrIsolation: a verify probe found data reachable across tenants.
	ErrIsolation = errors.New("isolation check failed")
)

// The tenant domain's types (internal/tenantspec), named here so that
// callers of fleet need one import.
type (
	Spec     = tenantspec.Spec
	Quota    = tenantspec.Quota
	Workload = tenantspec.Workload
	Status   = tenantspec.Status
)

// Tenant statuses.
const (
	StatusActive     = tenantspec.StatusActive
	StatusSuspended  = tenantspec.StatusSuspended
	StatusIncomplete = tenantspec.StatusIncomplete
)

// Tenant is a tenant as it is now.
type Tenant struct {
	Spec
	Status    Status    `json:"status" yaml:"status"`
	Created   time.Time `json:"created" yaml:"created"`
	Updated   time.Time `json:"updated" yaml:"updated"`
	Resources int       `json:"resources" yaml:"resources"`
	// SchemaVersion is the version of the application's schema the
	// tenant's tables are at, and SchemaState "current", "behind" or
	// "failed"; empty when the platform has no application schema.
	SchemaVersion int64  `json:"schemaVersion,omitempty" yaml:"schemaVersion,omitempty"`
	SchemaState   string `json:"schemaState,omitempty" yaml:"schemaState,omitempty"`
	// Moving is the other tier of a tier move under way: where the tenant
	// goes before the cutover, the copy it left after it.
	Moving tenantspec.Tier `json:"moving,omitempty" yaml:"moving,omitempty"`
	// Rotation says when the tenant's credentials were last rotated and
	// whether a rotation is under way; nil before the first.
	Rotation *RotationInfo `json:"rotation,omitempty" yaml:"rotation,omitempty"`
}

// Credentials are the tenant's own logins (tenantspec.Credentials).
type (
	Credentials           = tenantspec.Credentials
	PostgresCredentials   = tenantspec.PostgresCredentials
	RedisCredentials      = tenantspec.RedisCredentials
	KubernetesCredentials = tenantspec.KubernetesCredentials
)

// Probe is one live isolation check run by verify.
type Probe = probe.Result

// VerifyReport is the result of verify: Passed only if every probe passed.
type VerifyReport struct {
	Tenant  string   `json:"tenant"`
	Against []string `json:"against"`
	Passed  bool     `json:"passed"`
	Probes  []Probe  `json:"probes"`
}

// DeleteReport says what delete removed and what it checked was gone.
type DeleteReport struct {
	Tenant     string   `json:"tenant"`
	ExportedTo string   `json:"exported_to,omitempty"`
	Removed    []string `json:"removed"`
	Leftovers  []string `json:"leftovers"`
}

// FleetFile is the declarative fleet that `tenantctl apply -f` reads.
type FleetFile struct {
	Tenants []Spec `json:"tenants" yaml:"tenants"`
}

// ApplyReport says what apply did to each tenant.
type ApplyReport struct {
	Created   []string          `json:"created"`
	Updated   []string          `json:"updated"`
	Deleted   []string          `json:"deleted"`
	Unchanged []string          `json:"unchanged"`
	Failed    map[string]string `json:"failed,omitempty"`
}
