package fleet

import (
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/tenantstack/tenantstack/components/tenant"
)

// validateName checks a tenant name before anything is touched.
func validateName(name string) error {
	if err := tenant.ValidateTenantID(name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// ValidateSpec checks spec and fills in defaults. It has no side effects.
func ValidateSpec(spec *Spec) error {
	if err := validateName(spec.Name); err != nil {
		return err
	}
	tier, err := tenant.ParseTier(spec.Tier)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	spec.Tier = string(tier)
	if spec.ConnectionLimit < 0 {
		return fmt.Errorf("%w: connection limit of %q must be positive, got %d", ErrInvalid, spec.Name, spec.ConnectionLimit)
	}
	if spec.ConnectionLimit == 0 {
		spec.ConnectionLimit = 20
	}
	if len(spec.Flags) == 0 {
		spec.Flags = nil
	}
	q := spec.Quota
	if q.Pods < 0 || q.Services < 0 || q.PVCs < 0 {
		return fmt.Errorf("%w: quota counts of %q must not be negative", ErrInvalid, spec.Name)
	}
	if w := spec.Workload; w != nil {
		if w.Image == "" {
			return fmt.Errorf("%w: the workload of %q needs an image", ErrInvalid, spec.Name)
		}
		if w.Replicas < 0 {
			return fmt.Errorf("%w: workload replicas of %q must not be negative", ErrInvalid, spec.Name)
		}
	}
	return nil
}

// credentialsFor computes the tenant's logins from its names, which are a
// pure function of its id and tier, and the platform's endpoints.
func credentialsFor(spec Spec, p *Platform, pgPass, redisPass string) Credentials {
	id := spec.Name
	user := tenant.RoleName(id)
	db, schema := p.Database, "app"
	switch tenant.Tier(spec.Tier) {
	case tenant.TierSchema:
		schema = tenant.SchemaName(id)
	case tenant.TierDatabase:
		db, schema = tenant.DatabaseName(id), "public"
	}
	pgURL := func(host string, port int) string {
		u := url.URL{Scheme: "postgres", User: url.UserPassword(user, pgPass),
			Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: "/" + db}
		return u.String()
	}
	return Credentials{
		Tenant: id,
		Tier:   spec.Tier,
		Postgres: PostgresCredentials{
			Host: p.PostgresHost, Port: p.PostgresPort, Database: db, Schema: schema,
			User: user, Password: pgPass,
			URL:       pgURL(p.PostgresHost, p.PostgresPort),
			PoolerURL: pgURL(p.PoolerHost, p.PoolerPort),
		},
		Redis: RedisCredentials{
			Host: p.RedisHost, Port: p.RedisPort,
			Username: tenant.RedisUsername(id), Password: redisPass,
			KeyPrefix: tenant.KeyPrefix(id), ChannelPrefix: tenant.ChannelPrefix(id),
		},
		Kubernetes: KubernetesCredentials{Namespace: tenant.Namespace(id), ServiceAccount: "app"},
	}
}
