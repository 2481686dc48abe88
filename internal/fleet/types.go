package fleet

import (
	"errors"
	"time"
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

// Spec is what a tenant should be: the input of create, update and apply,
// and one entry of a fleet file.
type Spec struct {
	Name            string            `json:"name" yaml:"name"`
	Tier            string            `json:"tier" yaml:"tier"`
	ConnectionLimit int               `json:"connection_limit,omitempty" yaml:"connection_limit,omitempty"`
	Quota           Quota             `json:"quota,omitzero" yaml:"quota,omitempty"`
	Flags           map[string]string `json:"flags,omitempty" yaml:"flags,omitempty"`
	Workload        *Workload         `json:"workload,omitempty" yaml:"workload,omitempty"`
}

// Quota bounds a tenant's Kubernetes namespace. Zero values take the
// component's defaults.
type Quota struct {
	CPU      string `json:"cpu,omitempty" yaml:"cpu,omitempty"`
	Memory   string `json:"memory,omitempty" yaml:"memory,omitempty"`
	Pods     int    `json:"pods,omitempty" yaml:"pods,omitempty"`
	Services int    `json:"services,omitempty" yaml:"services,omitempty"`
	PVCs     int    `json:"pvcs,omitempty" yaml:"pvcs,omitempty"`
	Storage  string `json:"storage,omitempty" yaml:"storage,omitempty"`
}

// Workload is an optional application deployment for the tenant.
type Workload struct {
	Image    string `json:"image" yaml:"image"`
	Replicas int    `json:"replicas,omitempty" yaml:"replicas,omitempty"`
	Host     string `json:"host,omitempty" yaml:"host,omitempty"`
	Port     int    `json:"port,omitempty" yaml:"port,omitempty"`
}

// Status is a tenant's lifecycle state.
type Status string

// Tenant statuses.
const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
	// StatusIncomplete: the last operation did not finish; run it again.
	StatusIncomplete Status = "incomplete"
)

// Tenant is a tenant as it is now.
type Tenant struct {
	Spec
	Status    Status    `json:"status" yaml:"status"`
	Created   time.Time `json:"created" yaml:"created"`
	Updated   time.Time `json:"updated" yaml:"updated"`
	Resources int       `json:"resources" yaml:"resources"`
}

// Credentials is what `tenantctl credentials NAME -o json` prints. Other
// tools depend on this shape: fields may be added, never renamed.
type Credentials struct {
	Tenant     string                `json:"tenant"`
	Tier       string                `json:"tier"`
	Postgres   PostgresCredentials   `json:"postgres"`
	Redis      RedisCredentials      `json:"redis"`
	Kubernetes KubernetesCredentials `json:"kubernetes"`
}

// PostgresCredentials is the tenant's own database login.
type PostgresCredentials struct {
	Host      string `json:"host"`
	Port      int    `json:"port"`
	Database  string `json:"database"`
	Schema    string `json:"schema"`
	User      string `json:"user"`
	Password  string `json:"password"`
	URL       string `json:"url"`
	PoolerURL string `json:"pooler_url"`
}

// RedisCredentials is the tenant's own Redis ACL user.
type RedisCredentials struct {
	Host          string `json:"host"`
	Port          int    `json:"port"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	KeyPrefix     string `json:"key_prefix"`
	ChannelPrefix string `json:"channel_prefix"`
}

// KubernetesCredentials names the tenant's namespace and service account.
type KubernetesCredentials struct {
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"service_account"`
}

// Probe is one live isolation check run by verify.
type Probe struct {
	Layer  string `json:"layer"`  // postgres, pgbouncer, redis or kubernetes
	Name   string `json:"name"`   // e.g. "read other tenant's rows"
	Target string `json:"target"` // the other tenant, or "" for a self check
	Passed bool   `json:"passed"`
	Detail string `json:"detail,omitempty"` // what happened, on failure what leaked
}

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
