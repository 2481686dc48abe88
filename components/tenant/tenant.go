package tenant

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// TypeToken is the Pulumi type of the TenantStack component.
const TypeToken = "tenantstack:tenant:TenantStack"

// Defaults applied by NewTenantStack to fields left at their zero value.
// The tenant's own defaults are the domain's (internal/tenantspec).
const (
	DefaultConnectionLimit  = tenantspec.DefaultConnectionLimit
	DefaultPostgresPort     = 5432
	DefaultPoolerPort       = 6432
	DefaultRedisPort        = 6379
	DefaultPlatformDatabase = "platform"
	DefaultQuotaCPU         = tenantspec.DefaultQuotaCPU
	DefaultQuotaMemory      = tenantspec.DefaultQuotaMemory
	DefaultQuotaPods        = tenantspec.DefaultQuotaPods
	DefaultQuotaServices    = tenantspec.DefaultQuotaServices
	DefaultQuotaPVCs        = tenantspec.DefaultQuotaPVCs
	DefaultQuotaStorage     = tenantspec.DefaultQuotaStorage
	DefaultCPURequest       = tenantspec.DefaultCPURequest
	DefaultCPULimit         = tenantspec.DefaultCPULimit
	DefaultMemoryRequest    = tenantspec.DefaultMemoryRequest
	DefaultMemoryLimit      = tenantspec.DefaultMemoryLimit
	DefaultWorkloadReplicas = tenantspec.DefaultWorkloadReplicas
	DefaultWorkloadPort     = tenantspec.DefaultWorkloadPort
)

// The shared-tier contract installed by the platform in its database.
const (
	// SharedSchema is the schema holding the shared tables.
	SharedSchema = "app"
	// SharedGroupRole is the NOLOGIN role holding CRUD on the shared tables,
	// which every shared-tier login role joins.
	SharedGroupRole = "app_tenant"
	// PublicSchema is the schema a tier-database tenant uses in its database.
	PublicSchema = "public"
)

// Names of the objects in a tenant's namespace. They are fixed, so a tenant's
// workloads and tools can rely on them.
const (
	ServiceAccountName = "app"
	// AppRoleName names the Kubernetes Role granted to ServiceAccountName,
	// and the RoleBinding that grants it.
	AppRoleName           = "tenant-app"
	CredentialsSecretName = "tenant-credentials"
	FlagsConfigMapName    = "flags"
	QuotaName             = "tenant-quota"
	LimitRangeName        = "tenant-limits"
	// WorkloadName names the optional Deployment, Service and Ingress.
	WorkloadName = "app"
)

// Labels on the tenant's namespace. TenantLabel and ManagedByLabel are also on
// every object in it.
const (
	TenantLabel    = tenantspec.TenantLabel
	TierLabel      = tenantspec.TierLabel
	ManagedByLabel = tenantspec.ManagedByLabel
	ManagedByValue = tenantspec.ManagedByValue
)

// PlatformEndpoints are where the platform's shared services are, for the
// tenant's credentials and NetworkPolicy. They are the addresses a tenant's
// pods use; the providers may reach the services by other routes.
type PlatformEndpoints struct {
	// PostgresHost is the host name or IP address of PostgreSQL. Required.
	PostgresHost string
	// PostgresPort is PostgreSQL's port. Optional; default 5432.
	PostgresPort int
	// PoolerHost is PgBouncer's host (transaction mode). Optional; default
	// PostgresHost.
	PoolerHost string
	// PoolerPort is PgBouncer's port. Optional; default 6432.
	PoolerPort int
	// PlatformDatabase is the platform database, which holds the registry
	// tenantstack.tenants, the shared tables and the tier-schema schemas.
	// Optional; default "platform".
	PlatformDatabase string
	// RedisHost is the host name or IP address of Redis. Required.
	RedisHost string
	// RedisPort is Redis's port. Optional; default 6379.
	RedisPort int
	// OTelEndpoint is the OpenTelemetry collector's OTLP endpoint given to the
	// workload as OTEL_EXPORTER_OTLP_ENDPOINT, as a URL with an explicit port
	// (for example "http://otel-collector.observability:4318"). Optional;
	// default none (no exporter endpoint, no egress allowance for it).
	OTelEndpoint string
	// EgressCIDRs are the address ranges of the platform's services that the
	// tenant's pods may reach, on EgressPorts. Required, at least one; a
	// range covering every address (0.0.0.0/0, ::/0) is refused.
	EgressCIDRs []string
	// EgressPorts are the TCP ports allowed to EgressCIDRs. Optional; default
	// PostgresPort, PoolerPort, RedisPort and the port of OTelEndpoint.
	EgressPorts []int
}

// Quota bounds what the tenant's namespace may consume (a ResourceQuota);
// see tenantspec.Quota for the fields and defaults.
type Quota = tenantspec.Quota

// Limits are the default container requests and limits in the tenant's
// namespace (a LimitRange), so that no container runs unbounded and every
// pod counts against the Quota.
type Limits struct {
	// CPURequest is the default CPU request. Optional; default "100m".
	CPURequest string
	// CPULimit is the default CPU limit. Optional; default "500m".
	CPULimit string
	// MemoryRequest is the default memory request. Optional; default "128Mi".
	MemoryRequest string
	// MemoryLimit is the default memory limit. Optional; default "512Mi".
	MemoryLimit string
}

// WorkloadArgs describe the tenant's application; see tenantspec.Workload.
type WorkloadArgs = tenantspec.Workload

// TenantStackArgs configures a TenantStack.
type TenantStackArgs struct {
	// TenantID is the tenant's id. Required; see ValidateTenantID.
	TenantID string
	// Tier is the PostgreSQL isolation tier. Required; see Tiers.
	Tier Tier

	// PostgresProvider is a tenantstack provider (pulumi:providers:tenantstack)
	// connected to the platform's PostgreSQL. Required.
	PostgresProvider pulumi.ProviderResource
	// RedisProvider is a tenantstack provider connected to the platform's
	// Redis. Required; may be the same provider as PostgresProvider.
	RedisProvider pulumi.ProviderResource
	// KubernetesProvider is the Kubernetes provider of the platform's cluster.
	// Required.
	KubernetesProvider pulumi.ProviderResource

	// Platform says where the platform's services are. Required.
	Platform PlatformEndpoints

	// PostgresPassword is the login role's password. Required; generate it
	// with crypto/rand and keep it in stack config, so a re-run converges. It
	// is treated as a secret whether or not it is one.
	PostgresPassword pulumi.StringInput
	// RedisPassword is the Redis ACL user's password. Required; same rules as
	// PostgresPassword.
	RedisPassword pulumi.StringInput

	// ConnectionLimit is the login role's CONNECTION LIMIT. Optional; default
	// 20. Must not be negative (which would mean unlimited).
	ConnectionLimit int
	// RoleSettings are session defaults of the login roles (ALTER ROLE
	// ... SET), a plan's limits such as statement_timeout, work_mem,
	// temp_file_limit and idle_in_transaction_session_timeout. The server
	// enforces them on every session that starts after they are set.
	// Optional; default none. search_path and role are refused.
	RoleSettings map[string]string
	// Quota bounds the namespace. Optional; see Quota for the defaults.
	Quota Quota
	// Limits are the default container resources. Optional; see Limits for
	// the defaults.
	Limits Limits
	// Flags are per-tenant feature flags, written to ConfigMap "flags" and
	// given to the workload as environment variables prefixed "FLAG_".
	// Optional; default none (no ConfigMap). Keys are ConfigMap keys
	// (letters, digits, "-", "_", ".").
	Flags map[string]string
	// Workload is the tenant's application. Optional; default none.
	Workload *WorkloadArgs

	// Suspended disables the tenant without deleting anything: the login role
	// cannot log in, the Redis user is off and the workload has 0 replicas.
	// Sessions already open are not ended. Optional; default false.
	Suspended bool

	// AlternateLogin makes the tenant's second login role (AltRoleName)
	// beside the first, with the same membership, search_path, connection
	// limit and grants on every tier, and the same identity for row-level
	// security. Credential rotation alternates between the two, since a
	// PostgreSQL role holds one password. Optional; default false (once a
	// tenant has been rotated it stays true).
	AlternateLogin bool
	// PostgresLogin is the login role the credentials (outputs and Secret)
	// name: 0 for RoleName, 1 for AltRoleName, which needs AlternateLogin.
	// Optional; default 0.
	PostgresLogin int
	// StandbyPostgresPassword, when set, lets the login role that
	// PostgresLogin does not name log in with it: a rotation puts the new
	// password there before the switch and keeps the old one there during
	// the grace. When nil that role cannot log in and has no password.
	// Optional; needs AlternateLogin.
	StandbyPostgresPassword pulumi.StringInput
	// StandbyRedisPassword also authenticates the Redis ACL user, beside
	// RedisPassword, during a rotation. Optional; default none.
	StandbyRedisPassword pulumi.StringInput
	// CredentialsRevision is written on the workload's pod template
	// (annotation tenantstack.io/credentials-revision), so that a new value
	// rolls the pods onto the credentials Secret as it is now. Optional;
	// default none (no annotation).
	CredentialsRevision string

	// MovingTier is the other tier of a tier move in progress (tenantctl
	// move): its schema or database and their owner role are kept, or
	// made, beside Tier's, without any access of the login role. Before the
	// cutover it is the tier the tenant moves to, after it the tier it
	// left, until the move is finalized. Optional; default none. The shared
	// tier has no objects of its own, so moving to or from it keeps none.
	MovingTier Tier
}

// TenantStack is everything one tenant owns on the platform.
type TenantStack struct {
	pulumi.ResourceState

	// Namespace is the tenant's Kubernetes namespace.
	Namespace pulumi.StringOutput `pulumi:"namespace"`
	// ServiceAccount is the ServiceAccount the tenant's workloads run as.
	ServiceAccount pulumi.StringOutput `pulumi:"serviceAccount"`
	// PostgresUser is the tenant's login role.
	PostgresUser pulumi.StringOutput `pulumi:"postgresUser"`
	// PostgresDatabase is the database the tenant connects to.
	PostgresDatabase pulumi.StringOutput `pulumi:"postgresDatabase"`
	// PostgresSchema is the schema holding the tenant's tables: "app"
	// (shared), the tenant's schema (schema) or "public" (database).
	PostgresSchema pulumi.StringOutput `pulumi:"postgresSchema"`
	// RedisUsername is the tenant's Redis ACL user.
	RedisUsername pulumi.StringOutput `pulumi:"redisUsername"`
	// KeyPrefix starts every Redis key the tenant may use.
	KeyPrefix pulumi.StringOutput `pulumi:"keyPrefix"`
	// ChannelPrefix starts every Redis Pub/Sub channel the tenant may use.
	ChannelPrefix pulumi.StringOutput `pulumi:"channelPrefix"`
	// PostgresURL connects straight to PostgreSQL (secret).
	PostgresURL pulumi.StringOutput `pulumi:"postgresUrl"`
	// PoolerURL connects through PgBouncer in transaction mode (secret). It
	// is the DATABASE_URL of the workload.
	PoolerURL pulumi.StringOutput `pulumi:"poolerUrl"`
	// RedisURL connects to Redis as the tenant's ACL user (secret).
	RedisURL pulumi.StringOutput `pulumi:"redisUrl"`
}

// settings are the validated arguments with the defaults applied.
type settings struct {
	id        string
	tier      Tier
	pgProv    pulumi.ProviderResource
	redisProv pulumi.ProviderResource
	k8sProv   pulumi.ProviderResource
	platform  PlatformEndpoints
	pgPass    pulumi.StringOutput
	redisPass pulumi.StringOutput
	connLimit int
	quota     Quota
	limits    Limits
	flags     map[string]string
	workload  *WorkloadArgs
	suspended bool
	moving    Tier

	roleSettings map[string]string
	altLogin     bool
	login        int
	standbyPG    pulumi.StringOutput
	hasStandbyPG bool
	standbyRedis pulumi.StringOutput
	hasStandbyR  bool
	credRevision string
}

// database is the database the tenant's login role connects to.
func (s *settings) database() string {
	if s.tier == TierDatabase {
		return DatabaseName(s.id)
	}
	return s.platform.PlatformDatabase
}

// schema is the schema holding the tenant's tables.
func (s *settings) schema() string {
	switch s.tier {
	case TierShared:
		return SharedSchema
	case TierSchema:
		return SchemaName(s.id)
	}
	return PublicSchema
}

// NewTenantStack creates a tenant's resources in PostgreSQL, Redis and
// Kubernetes.
func NewTenantStack(ctx *pulumi.Context, name string, args *TenantStackArgs, opts ...pulumi.ResourceOption) (*TenantStack, error) {
	s, err := resolve(name, args)
	if err != nil {
		return nil, err
	}
	c := &TenantStack{}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, err
	}
	pg, err := newPostgres(ctx, name, c, s)
	if err != nil {
		return nil, err
	}
	redisUser, err := newRedisUser(ctx, name, c, s)
	if err != nil {
		return nil, err
	}

	c.PostgresUser = pg.user
	c.PostgresDatabase = pg.database
	c.PostgresSchema = pg.schema
	c.RedisUsername = redisUser
	c.KeyPrefix = pulumi.String(KeyPrefix(s.id)).ToStringOutput()
	c.ChannelPrefix = pulumi.String(ChannelPrefix(s.id)).ToStringOutput()
	c.PostgresURL = postgresURL(s.platform.PostgresHost, s.platform.PostgresPort, pg.user, s.pgPass, pg.database)
	// The Secret names the login only once it can reach the tenant's
	// objects: a rotation's new role has its grants before any pod reads it.
	c.PoolerURL = postgresURL(s.platform.PoolerHost, s.platform.PoolerPort, pg.user, s.pgPass, pg.database)
	c.RedisURL = redisURL(s.platform.RedisHost, s.platform.RedisPort, redisUser, s.redisPass)

	// The workload talks to PgBouncer: DATABASE_URL and the PG* variables
	// name the same endpoint.
	creds := pulumi.ToSecret(pulumi.StringMap{
		"DATABASE_URL":     c.PoolerURL,
		"PGHOST":           pulumi.String(s.platform.PoolerHost),
		"PGPORT":           pulumi.String(strconv.Itoa(s.platform.PoolerPort)),
		"PGDATABASE":       c.PostgresDatabase,
		"PGUSER":           c.PostgresUser,
		"PGPASSWORD":       s.pgPass,
		"REDIS_URL":        c.RedisURL,
		"REDIS_USERNAME":   c.RedisUsername,
		"REDIS_PASSWORD":   s.redisPass,
		"REDIS_KEY_PREFIX": c.KeyPrefix,
	}).(pulumi.StringMapOutput)
	k, err := newKubernetes(ctx, name, c, s, creds, pg.ready)
	if err != nil {
		return nil, err
	}
	c.Namespace = k.namespace
	c.ServiceAccount = k.serviceAccount

	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"namespace":        c.Namespace,
		"serviceAccount":   c.ServiceAccount,
		"postgresUser":     c.PostgresUser,
		"postgresDatabase": c.PostgresDatabase,
		"postgresSchema":   c.PostgresSchema,
		"redisUsername":    c.RedisUsername,
		"keyPrefix":        c.KeyPrefix,
		"channelPrefix":    c.ChannelPrefix,
		"postgresUrl":      c.PostgresURL,
		"poolerUrl":        c.PoolerURL,
		"redisUrl":         c.RedisURL,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// resolve checks args and applies the defaults. It reports every problem
// at once, so one run shows everything to fix.
func resolve(name string, args *TenantStackArgs) (*settings, error) {
	if args == nil {
		return nil, fmt.Errorf("tenant stack %q: args are required", name)
	}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if err := ValidateTenantID(args.TenantID); err != nil {
		errs = append(errs, err)
	}
	if _, err := ParseTier(string(args.Tier)); err != nil {
		errs = append(errs, err)
	}
	if isNil(args.PostgresProvider) {
		bad("PostgresProvider is required: a tenantstack provider connected to the platform's PostgreSQL")
	}
	if isNil(args.RedisProvider) {
		bad("RedisProvider is required: a tenantstack provider connected to the platform's Redis (it may be the PostgresProvider)")
	}
	if isNil(args.KubernetesProvider) {
		bad("KubernetesProvider is required: the Kubernetes provider of the platform's cluster")
	}
	errs = append(errs, checkPassword("PostgresPassword", args.PostgresPassword)...)
	errs = append(errs, checkPassword("RedisPassword", args.RedisPassword)...)

	s := &settings{
		id:        args.TenantID,
		tier:      args.Tier,
		pgProv:    args.PostgresProvider,
		redisProv: args.RedisProvider,
		k8sProv:   args.KubernetesProvider,
		platform:  resolvePlatform(args.Platform, bad),
		connLimit: orDefault(args.ConnectionLimit, DefaultConnectionLimit),
		quota:     resolveQuota(args.Quota, bad),
		limits:    resolveLimits(args.Limits, bad),
		flags:     maps.Clone(args.Flags),
		suspended: args.Suspended,
		moving:    args.MovingTier,

		roleSettings: maps.Clone(args.RoleSettings),
		altLogin:     args.AlternateLogin,
		login:        args.PostgresLogin,
		credRevision: args.CredentialsRevision,
	}
	switch {
	case args.PostgresLogin != 0 && args.PostgresLogin != 1:
		bad("PostgresLogin %d is not a login role; use 0 (%s) or 1 (%s)", args.PostgresLogin, RoleName(args.TenantID), AltRoleName(args.TenantID))
	case args.PostgresLogin == 1 && !args.AlternateLogin:
		bad("PostgresLogin 1 names the second login role %s, which needs AlternateLogin", AltRoleName(args.TenantID))
	}
	if !isNil(args.StandbyPostgresPassword) {
		if !args.AlternateLogin {
			bad("StandbyPostgresPassword is the password of the second login role, which needs AlternateLogin")
		}
		errs = append(errs, checkPassword("StandbyPostgresPassword", args.StandbyPostgresPassword)...)
		s.standbyPG, s.hasStandbyPG = pulumi.ToSecret(args.StandbyPostgresPassword).(pulumi.StringOutput), true
	}
	if !isNil(args.StandbyRedisPassword) {
		errs = append(errs, checkPassword("StandbyRedisPassword", args.StandbyRedisPassword)...)
		s.standbyRedis, s.hasStandbyR = pulumi.ToSecret(args.StandbyRedisPassword).(pulumi.StringOutput), true
	}
	if args.MovingTier != "" {
		if _, err := ParseTier(string(args.MovingTier)); err != nil {
			errs = append(errs, fmt.Errorf("MovingTier: %w", err))
		} else if args.MovingTier == args.Tier {
			bad("MovingTier %q is the tenant's Tier; a move goes to another tier", args.MovingTier)
		}
	}
	if args.ConnectionLimit < 0 {
		bad("ConnectionLimit %d is negative, which PostgreSQL reads as unlimited; use a limit of 1 or more (default %d)",
			args.ConnectionLimit, DefaultConnectionLimit)
	}
	if args.PostgresPassword != nil {
		s.pgPass = pulumi.ToSecret(args.PostgresPassword).(pulumi.StringOutput)
	}
	if args.RedisPassword != nil {
		s.redisPass = pulumi.ToSecret(args.RedisPassword).(pulumi.StringOutput)
	}

	for _, k := range slices.Sorted(maps.Keys(args.RoleSettings)) {
		if k == "search_path" || k == "role" || k == "session_authorization" || !pgIdentifier.MatchString(k) {
			bad("RoleSettings key %q is not a setting a login role may have; use a parameter name such as statement_timeout", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(args.Flags)) {
		if err := tenantspec.ValidateFlag(k, args.Flags[k]); err != nil {
			bad("Flags: %v", err)
		}
	}
	if args.Workload != nil {
		w := *args.Workload
		if err := tenantspec.ValidateImage(w.Image); err != nil {
			bad("Workload.Image is required when Workload is set: %v", err)
		}
		if w.Replicas < 0 {
			bad("Workload.Replicas %d is negative; use 1 or more, or set Suspended to stop the workload", w.Replicas)
		}
		w = tenantspec.WorkloadWithDefaults(w)
		if !validPort(w.Port) {
			bad("Workload.Port %d is not a port; use 1-65535 (default %d)", w.Port, DefaultWorkloadPort)
		}
		if w.Host != "" {
			if err := tenantspec.ValidateHost(w.Host); err != nil {
				bad("Workload.Host: %v", err)
			}
		}
		s.workload = &w
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("tenant stack %q: invalid arguments:\n%w", name, errors.Join(errs...))
	}
	return s, nil
}

// resolvePlatform checks the endpoints and applies their defaults; the
// slices are copied so later changes by the caller do not leak in.
func resolvePlatform(p PlatformEndpoints, bad func(string, ...any)) PlatformEndpoints {
	if p.PostgresHost == "" {
		bad("Platform.PostgresHost is required: the host of the platform's PostgreSQL")
	}
	if p.RedisHost == "" {
		bad("Platform.RedisHost is required: the host of the platform's Redis")
	}
	p.PostgresPort = orDefault(p.PostgresPort, DefaultPostgresPort)
	p.PoolerHost = orDefault(p.PoolerHost, p.PostgresHost)
	p.PoolerPort = orDefault(p.PoolerPort, DefaultPoolerPort)
	p.RedisPort = orDefault(p.RedisPort, DefaultRedisPort)
	if p.PlatformDatabase == "" {
		p.PlatformDatabase = DefaultPlatformDatabase
	}
	for _, f := range []struct {
		field string
		port  int
	}{{"PostgresPort", p.PostgresPort}, {"PoolerPort", p.PoolerPort}, {"RedisPort", p.RedisPort}} {
		if !validPort(f.port) {
			bad("Platform.%s %d is not a port; use 1-65535", f.field, f.port)
		}
	}
	if !pgIdentifier.MatchString(p.PlatformDatabase) {
		bad("Platform.PlatformDatabase %q is not a plain PostgreSQL name; allowed: letters, digits and \"_\", starting with a letter or \"_\", at most 63 characters", p.PlatformDatabase)
	}
	var otelPort int
	if p.OTelEndpoint != "" {
		u, err := url.Parse(p.OTelEndpoint)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			bad("Platform.OTelEndpoint %q is not an http or https URL with a host, such as http://otel-collector:4318", p.OTelEndpoint)
		case u.Port() == "":
			bad("Platform.OTelEndpoint %q has no port; give it explicitly (4317 for OTLP/gRPC, 4318 for OTLP/HTTP) so the NetworkPolicy can allow it", p.OTelEndpoint)
		default:
			otelPort, _ = strconv.Atoi(u.Port())
			if !validPort(otelPort) {
				bad("Platform.OTelEndpoint %q has port %s; use 1-65535", p.OTelEndpoint, u.Port())
			}
		}
	}
	if len(p.EgressCIDRs) == 0 {
		bad("Platform.EgressCIDRs is required: the address ranges of the platform's PostgreSQL, PgBouncer, Redis and OTel collector (an allowance without addresses would reach every address)")
	}
	for _, c := range p.EgressCIDRs {
		pfx, err := netip.ParsePrefix(c)
		switch {
		case err != nil:
			bad("Platform.EgressCIDRs entry %q is not a CIDR such as 10.0.0.0/16 or 10.0.0.5/32", c)
		case pfx.Bits() == 0:
			bad("Platform.EgressCIDRs entry %q covers every address; list the platform services' ranges only", c)
		}
	}
	if len(p.EgressPorts) == 0 {
		p.EgressPorts = []int{p.PostgresPort, p.PoolerPort, p.RedisPort}
		if otelPort != 0 {
			p.EgressPorts = append(p.EgressPorts, otelPort)
		}
	}
	seen := map[int]bool{}
	var ports []int
	for _, port := range p.EgressPorts {
		if !validPort(port) {
			bad("Platform.EgressPorts entry %d is not a port; use 1-65535", port)
		}
		if !seen[port] {
			seen[port] = true
			ports = append(ports, port)
		}
	}
	p.EgressPorts = ports
	p.EgressCIDRs = slices.Clone(p.EgressCIDRs)
	return p
}

func resolveQuota(q Quota, bad func(string, ...any)) Quota {
	q = tenantspec.QuotaWithDefaults(q)
	checkQuantity(bad, "Quota.CPU", q.CPU)
	checkQuantity(bad, "Quota.Memory", q.Memory)
	checkQuantity(bad, "Quota.Storage", q.Storage)
	for _, f := range []struct {
		field string
		n     int
	}{{"Quota.Pods", q.Pods}, {"Quota.Services", q.Services}, {"Quota.PVCs", q.PVCs}} {
		if f.n < 0 {
			bad("%s %d is negative; use 1 or more, or leave it 0 for the default", f.field, f.n)
		}
	}
	return q
}

func resolveLimits(l Limits, bad func(string, ...any)) Limits {
	l.CPURequest = orDefault(l.CPURequest, DefaultCPURequest)
	l.CPULimit = orDefault(l.CPULimit, DefaultCPULimit)
	l.MemoryRequest = orDefault(l.MemoryRequest, DefaultMemoryRequest)
	l.MemoryLimit = orDefault(l.MemoryLimit, DefaultMemoryLimit)
	checkQuantity(bad, "Limits.CPURequest", l.CPURequest)
	checkQuantity(bad, "Limits.CPULimit", l.CPULimit)
	checkQuantity(bad, "Limits.MemoryRequest", l.MemoryRequest)
	checkQuantity(bad, "Limits.MemoryLimit", l.MemoryLimit)
	return l
}

var pgIdentifier = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{0,62}$`)

// checkQuantity applies the domain's rule for quantities (positive, as
// Kubernetes parses them) with the component's field name.
func checkQuantity(bad func(string, ...any), field, v string) {
	if err := tenantspec.ValidateQuantity(v, `"500m", "2", "512Mi" or "20Gi"`); err != nil {
		bad("%s %v", field, err)
	}
}

// minPasswordLength refuses passwords a person typed; the caller is meant to
// generate them.
const minPasswordLength = 16

// checkPassword requires the input and, when its value is known now, a
// generated-looking length.
func checkPassword(field string, in pulumi.StringInput) []error {
	if isNil(in) {
		return []error{fmt.Errorf("%s is required: generate it with crypto/rand and keep it in stack config (as a secret) so re-runs converge", field)}
	}
	if v, ok := in.(pulumi.String); ok && len(v) < minPasswordLength {
		return []error{fmt.Errorf("%s is %d characters long; use at least %d random characters from crypto/rand", field, len(v), minPasswordLength)}
	}
	return nil
}

// isNil reports whether v is nil or a typed nil pointer, which an interface
// comparison with nil misses.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func validPort(p int) bool { return p >= 1 && p <= 65535 }

// postgresURL is postgres://user:password@host:port/db, the password
// percent-encoded, as a secret.
func postgresURL(host string, port int, user, password, db pulumi.StringOutput) pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.All(user, password, db).ApplyT(func(v []any) string {
		u := url.URL{
			Scheme: "postgres",
			User:   url.UserPassword(v[0].(string), v[1].(string)),
			Host:   net.JoinHostPort(host, strconv.Itoa(port)),
			Path:   "/" + v[2].(string),
		}
		return u.String()
	})).(pulumi.StringOutput)
}

// redisURL is redis://user:password@host:port/0, the password
// percent-encoded, as a secret.
func redisURL(host string, port int, user, password pulumi.StringOutput) pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.All(user, password).ApplyT(func(v []any) string {
		u := url.URL{
			Scheme: "redis",
			User:   url.UserPassword(v[0].(string), v[1].(string)),
			Host:   net.JoinHostPort(host, strconv.Itoa(port)),
			Path:   "/0",
		}
		return u.String()
	})).(pulumi.StringOutput)
}
