package postgres

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	tenantstack "github.com/tenantstack/tenantstack/sdk"
	pg "github.com/tenantstack/tenantstack/sdk/postgres"
)

// Mode says where the platform's PostgreSQL runs.
type Mode string

// The modes of a Postgres component.
const (
	// External uses an existing server: a managed database or the local
	// platform's.
	External Mode = "external"
	// InCluster runs PostgreSQL as a StatefulSet and PgBouncer as a
	// Deployment in the cluster.
	InCluster Mode = "incluster"
)

// PlatformMigrationName is the migration set of platform tables that are
// not part of the shared-tier contract.
const PlatformMigrationName = "tenantstack-platform"

// platformSteps create the table that isolation probes use to prove RLS on
// a live platform: every tenant can write its own marker rows into it, and
// RLS must keep them from reading anyone else's.
var platformSteps = []pg.MigrationStep{{Version: 1, SQL: `
CREATE TABLE IF NOT EXISTS app.isolation_probe (
	tenant_id  text NOT NULL,
	marker     text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE app.isolation_probe OWNER TO app_owner;
SELECT app.enable_tenant_isolation('app.isolation_probe');
GRANT SELECT, INSERT, UPDATE, DELETE ON app.isolation_probe TO app_tenant;
`}, {Version: 2, SQL: `
-- Every role may connect to the maintenance databases by default: tenants
-- must reach their own database only.
REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC;
`}}

// PostgresArgs configures a Postgres component.
type PostgresArgs struct {
	// Mode is External (default) or InCluster.
	Mode Mode
	// AdminURL is the admin URL of the server, e.g.
	// postgres://admin:PW@127.0.0.1:5432/postgres. Required in External
	// mode; in InCluster mode, the URL this program reaches the in-cluster
	// server at (through a port-forward, say), and optional: without it
	// the contract is not installed. Stored as a secret.
	AdminURL pulumi.StringInput
	// PoolerURL is the admin URL through PgBouncer. Optional; defaults to
	// AdminURL (no pooler) in External mode.
	PoolerURL pulumi.StringInput
	// Database is the platform database that holds the shared tier.
	// Optional; default "platform".
	Database string
	// InCluster configures InCluster mode; required there, ignored in
	// External mode.
	InCluster *InClusterArgs
}

// Postgres is the platform's PostgreSQL: the platform database with the
// shared-tier contract (schema app, the registry, app.current_tenant(),
// app.enable_tenant_isolation(), role app_tenant) installed.
type Postgres struct {
	pulumi.ResourceState

	// Provider is our provider, configured with the admin connection, for
	// components that manage roles and schemas on this server.
	Provider *tenantstack.Provider
	// Host and Port reach PostgreSQL directly; PoolerHost and PoolerPort
	// reach it through PgBouncer.
	Host       pulumi.StringOutput
	Port       pulumi.IntOutput
	PoolerHost pulumi.StringOutput
	PoolerPort pulumi.IntOutput
	// Database is the platform database.
	Database pulumi.StringOutput
	// AdminURL and PoolerURL are the admin connection URLs (secrets).
	AdminURL  pulumi.StringOutput
	PoolerURL pulumi.StringOutput
}

// NewPostgres installs the platform database and the shared-tier contract.
func NewPostgres(ctx *pulumi.Context, name string, args *PostgresArgs, opts ...pulumi.ResourceOption) (*Postgres, error) {
	if args == nil {
		return nil, fmt.Errorf("postgres %q: args are required", name)
	}
	a := *args
	if a.Mode == "" {
		a.Mode = External
	}
	if a.Database == "" {
		a.Database = "platform"
	}
	switch a.Mode {
	case External:
		if a.AdminURL == nil {
			return nil, fmt.Errorf("postgres %q: AdminURL is required in external mode", name)
		}
	case InCluster:
		if a.InCluster == nil {
			return nil, fmt.Errorf("postgres %q: InCluster settings are required in incluster mode", name)
		}
		// Defaults go into a copy: the caller's InClusterArgs stay as given.
		ic := *a.InCluster
		if err := ic.check(name); err != nil {
			return nil, err
		}
		a.InCluster = &ic
	default:
		return nil, fmt.Errorf("postgres %q: unknown mode %q; use %q or %q", name, a.Mode, External, InCluster)
	}

	c := &Postgres{}
	if err := ctx.RegisterComponentResource("tenantstack:platform:Postgres", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)

	if a.Mode == InCluster {
		ep, err := deployInCluster(ctx, name, c, a.InCluster)
		if err != nil {
			return nil, err
		}
		c.Host, c.Port = pulumi.String(ep.host).ToStringOutput(), pulumi.Int(ep.port).ToIntOutput()
		c.PoolerHost, c.PoolerPort = pulumi.String(ep.poolerHost).ToStringOutput(), pulumi.Int(ep.poolerPort).ToIntOutput()
		internal := fmt.Sprintf("%s:%d", ep.host, ep.port)
		c.AdminURL = pulumi.ToSecret(a.InCluster.AdminPassword.ToStringOutput().ApplyT(func(pw string) string {
			return (&url.URL{Scheme: "postgres", User: url.UserPassword("postgres", pw), Host: internal, Path: "/postgres"}).String()
		})).(pulumi.StringOutput)
		c.PoolerURL = c.AdminURL
	} else {
		c.AdminURL = pulumi.ToSecret(a.AdminURL).(pulumi.StringOutput)
		pooler := a.PoolerURL
		if pooler == nil {
			pooler = a.AdminURL
		}
		c.PoolerURL = pulumi.ToSecret(pooler).(pulumi.StringOutput)
		c.Host, c.Port = hostPort(a.AdminURL)
		c.PoolerHost, c.PoolerPort = hostPort(pooler)
	}
	c.Database = pulumi.String(a.Database).ToStringOutput()

	// The contract is installed wherever this program can reach the server.
	if a.Mode == External || a.AdminURL != nil {
		prov, err := tenantstack.NewProvider(ctx, name+"-admin", &tenantstack.ProviderArgs{
			PostgresURL: pulumi.ToSecret(a.AdminURL).(pulumi.StringOutput).ToStringPtrOutput(),
		}, parent)
		if err != nil {
			return nil, err
		}
		c.Provider = prov
		if err := installContract(ctx, name, a.Database, prov, parent); err != nil {
			return nil, err
		}
	}

	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"host":       c.Host,
		"port":       c.Port,
		"poolerHost": c.PoolerHost,
		"poolerPort": c.PoolerPort,
		"database":   c.Database,
		"adminUrl":   c.AdminURL,
		"poolerUrl":  c.PoolerURL,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// installContract creates the platform database, the contract's group
// roles (as resources, so that destroy removes them), and applies the
// contract and platform migrations.
func installContract(ctx *pulumi.Context, name, database string, prov *tenantstack.Provider, parent pulumi.ResourceOption) error {
	opts := []pulumi.ResourceOption{parent, pulumi.Provider(prov)}
	var roles []pulumi.Resource
	for _, r := range []string{"app_owner", "app_tenant"} {
		args := &pg.RoleArgs{Name: pulumi.String(r)}
		if r == "app_owner" {
			// The application's migrations of the shared schema run as
			// app_owner and must see every tenant's rows (contract step 8).
			// Nobody logs in as it.
			args.BypassRLS, args.AllowPrivileged = pulumi.Bool(true), pulumi.Bool(true)
		}
		role, err := pg.NewRole(ctx, name+"-"+r, args, opts...)
		if err != nil {
			return err
		}
		roles = append(roles, role)
	}
	// The contract makes app_owner own schema app in the database and gives
	// app_tenant privileges there, and PostgreSQL refuses to drop a role
	// that still owns or holds anything: the database must go before the
	// roles on destroy, so it depends on them.
	db, err := pg.NewDatabase(ctx, name+"-database", &pg.DatabaseArgs{
		Name:                pulumi.String(database),
		RevokePublicConnect: pulumi.Bool(true),
	}, append(opts, pulumi.DependsOn(roles))...)
	if err != nil {
		return err
	}
	// Tenant logins must reach the platform database; CONNECT is revoked
	// from PUBLIC, so the tenant group gets it.
	if _, err := pg.NewGrant(ctx, name+"-tenant-connect", &pg.GrantArgs{
		Role:       pulumi.String("app_tenant"),
		Database:   pulumi.String(database),
		ObjectType: pulumi.String("database"),
		Privileges: pulumi.StringArray{pulumi.String("CONNECT")},
	}, append(opts, pulumi.DependsOn(append(roles, db)))...); err != nil {
		return err
	}
	contract, err := pg.NewMigration(ctx, name+"-contract", &pg.MigrationArgs{
		Name:     pulumi.String(pg.ContractMigrationName),
		Database: pulumi.StringPtr(database),
		Steps:    pg.Steps(pg.ContractSteps()...),
	}, append(opts, pulumi.DependsOn(append(roles, db)))...)
	if err != nil {
		return err
	}
	_, err = pg.NewMigration(ctx, name+"-platform", &pg.MigrationArgs{
		Name:     pulumi.String(PlatformMigrationName),
		Database: pulumi.StringPtr(database),
		Steps:    pg.Steps(platformSteps...),
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{contract}))...)
	return err
}

// hostPort parses the host and port out of a PostgreSQL URL. They are not
// secret even when the URL is.
func hostPort(u pulumi.StringInput) (pulumi.StringOutput, pulumi.IntOutput) {
	out := pulumi.Unsecret(u.ToStringOutput()).(pulumi.StringOutput)
	host := out.ApplyT(func(s string) (string, error) {
		p, err := url.Parse(s)
		if err != nil {
			return "", fmt.Errorf("invalid PostgreSQL URL: %w", err)
		}
		return p.Hostname(), nil
	}).(pulumi.StringOutput)
	port := out.ApplyT(func(s string) (int, error) {
		p, err := url.Parse(s)
		if err != nil {
			return 0, fmt.Errorf("invalid PostgreSQL URL: %w", err)
		}
		if p.Port() == "" {
			return 5432, nil
		}
		return strconv.Atoi(p.Port())
	}).(pulumi.IntOutput)
	return host, port
}
