package tenant

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/sdk/postgres"
)

// Privileges of the login role on the tenant's tables and sequences: data
// only, nothing that changes or drops the objects themselves.
var (
	tablePrivileges    = []string{"SELECT", "INSERT", "UPDATE", "DELETE"}
	sequencePrivileges = []string{"USAGE", "SELECT"}
)

// postgresOut are the PostgreSQL values the component exports.
type postgresOut struct {
	user, database, schema pulumi.StringOutput
	// ready are the current login role and its grants: what the
	// credentials Secret waits for.
	ready []pulumi.Resource
}

// login is one of the tenant's login roles and the prefix of its
// resources' names. The first keeps the names it always had, so a tenant
// created before rotation existed changes nothing.
type login struct {
	role   *postgres.Role
	prefix string
	ready  []pulumi.Resource
}

// newPostgres creates the tenant's login role (two, once rotation needs
// them), its tier's objects and the grants, and its registration.
func newPostgres(ctx *pulumi.Context, name string, c *TenantStack, s *settings) (*postgresOut, error) {
	opts := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(s.pgProv)}
	platformDB := pulumi.String(s.platform.PlatformDatabase)

	slots := 1
	if s.altLogin {
		slots = 2
	}
	logins := make([]*login, slots)
	for slot := range logins {
		// No privileged attribute is set; the provider defaults them to
		// false and refuses them without allowPrivileged, which a tenant
		// role never has.
		roleArgs := &postgres.RoleArgs{
			Name:            pulumi.String(LoginRoleName(s.id, slot)),
			Login:           pulumi.Bool(!s.suspended),
			Password:        s.pgPass,
			ConnectionLimit: pulumi.Int(s.connLimit),
			// The same unqualified SQL ("SELECT * FROM accounts") reaches
			// the application's tables on every tier, through PgBouncer too.
			SearchPath: pulumi.StringArray{pulumi.String(s.schema())},
		}
		if len(s.roleSettings) > 0 {
			roleArgs.Settings = pulumi.ToStringMap(s.roleSettings)
		}
		if slot != s.login {
			// The standby role logs in only during a rotation; otherwise it
			// has no password at all.
			roleArgs.Login = pulumi.Bool(!s.suspended && s.hasStandbyPG)
			roleArgs.Password = pulumi.ToSecret(pulumi.String("")).(pulumi.StringOutput)
			if s.hasStandbyPG {
				roleArgs.Password = s.standbyPG
			}
		}
		if s.tier == TierShared {
			roleArgs.MemberOf = pulumi.StringArray{pulumi.String(SharedGroupRole)}
		}
		prefix := name + "-pg-"
		if slot == 1 {
			prefix = name + "-pg-alt-"
		}
		role, err := postgres.NewRole(ctx, prefix+"role", roleArgs, opts...)
		if err != nil {
			return nil, err
		}
		logins[slot] = &login{role: role, prefix: prefix, ready: []pulumi.Resource{role}}
	}
	cur := logins[s.login]
	out := &postgresOut{
		user:     cur.role.Name,
		database: platformDB.ToStringOutput(),
		schema:   pulumi.String(SharedSchema).ToStringOutput(),
	}

	// grant gives a login role privileges; kind is objectType. The grants
	// on existing objects matter beyond the first run: a refresh finds
	// objects created since without the privileges, and the next up fixes it.
	grant := func(l *login, suffix string, db, schema pulumi.StringPtrInput, kind string, privs []string, defaultsFor pulumi.StringPtrInput) error {
		args := &postgres.GrantArgs{
			Role:       l.role.Name,
			Database:   db,
			Schema:     schema,
			ObjectType: pulumi.String(kind),
			Privileges: pulumi.ToStringArray(privs),
		}
		if defaultsFor != nil {
			args.DefaultPrivileges = pulumi.Bool(true)
			args.ForRole = defaultsFor
		}
		g, err := postgres.NewGrant(ctx, l.prefix+suffix, args, opts...)
		if err == nil {
			l.ready = append(l.ready, g)
		}
		return err
	}
	// crud grants USAGE on schema and CRUD on its tables and sequences, now
	// and on those owner creates later.
	crud := func(l *login, db, schema, owner pulumi.StringOutput) error {
		steps := []struct {
			suffix, kind string
			privs        []string
			defaultsFor  pulumi.StringPtrInput
		}{
			{"schema-usage", "schema", []string{"USAGE"}, nil},
			{"tables", "table", tablePrivileges, nil},
			{"sequences", "sequence", sequencePrivileges, nil},
			{"default-tables", "table", tablePrivileges, owner},
			{"default-sequences", "sequence", sequencePrivileges, owner},
		}
		for _, st := range steps {
			if err := grant(l, st.suffix, db, schema, st.kind, st.privs, st.defaultsFor); err != nil {
				return err
			}
		}
		return nil
	}

	// storage makes the schema or database of tier and its owner role
	// (once, whichever tier asks first); the same resource names on either
	// side of a move, so a cutover changes no storage.
	var owner *postgres.Role
	storage := func(tier Tier) (pulumi.Resource, error) {
		if owner == nil && tier != TierShared {
			var err error
			if owner, err = newOwnerRole(ctx, name, s, opts); err != nil {
				return nil, err
			}
		}
		switch tier {
		case TierSchema:
			return postgres.NewSchema(ctx, name+"-pg-schema", &postgres.SchemaArgs{
				Name:     pulumi.String(SchemaName(s.id)),
				Owner:    owner.Name,
				Database: platformDB,
			}, opts...)
		case TierDatabase:
			// ForceDestroy: destroying the stack is offboarding, and the
			// tenant's pods may still hold connections while they are being
			// deleted.
			return postgres.NewDatabase(ctx, name+"-pg-database", &postgres.DatabaseArgs{
				Name:                pulumi.String(DatabaseName(s.id)),
				Owner:               owner.Name,
				RevokePublicConnect: pulumi.Bool(true),
				ForceDestroy:        pulumi.Bool(true),
			}, opts...)
		}
		return nil, nil
	}

	// ready is what the registration waits for: a registered tenant always
	// has its schema or database, so a rollout never meets one half made.
	var ready []pulumi.Resource
	own, err := storage(s.tier)
	if err != nil {
		return nil, err
	}
	if s.moving != "" {
		if _, err := storage(s.moving); err != nil {
			return nil, err
		}
	}
	// Both login roles get the same grants, so either reaches exactly what
	// the other does.
	for _, l := range logins {
		switch s.tier {
		case TierShared:
			// Everything else comes from membership of app_tenant.
			if err := grant(l, "connect", platformDB, nil, "database", []string{"CONNECT"}, nil); err != nil {
				return nil, err
			}
		case TierSchema:
			schema := own.(*postgres.Schema)
			if err := grant(l, "connect", platformDB, nil, "database", []string{"CONNECT"}, nil); err != nil {
				return nil, err
			}
			if err := crud(l, platformDB.ToStringOutput(), schema.Name, owner.Name); err != nil {
				return nil, err
			}
			out.schema = schema.Name
		case TierDatabase:
			db := own.(*postgres.Database)
			if err := grant(l, "connect", db.Name, nil, "database", []string{"CONNECT"}, nil); err != nil {
				return nil, err
			}
			if err := crud(l, db.Name, pulumi.String(PublicSchema).ToStringOutput(), owner.Name); err != nil {
				return nil, err
			}
			out.database = db.Name
			out.schema = pulumi.String(PublicSchema).ToStringOutput()
		}
	}
	if own != nil {
		ready = append(ready, own)
	}
	out.ready = cur.ready

	// The registry names the tenant's first login role; app.current_tenant()
	// gives the second the same tenant (contract step 9).
	if _, err := postgres.NewTenantRegistration(ctx, name+"-pg-registration", &postgres.TenantRegistrationArgs{
		TenantID: pulumi.String(s.id),
		RoleName: logins[0].role.Name,
		Tier:     pulumi.String(string(s.tier)),
		Database: platformDB,
	}, append(opts, pulumi.DependsOn(ready))...); err != nil {
		return nil, err
	}
	return out, nil
}

// newOwnerRole creates the NOLOGIN role owning the tenant's schema or
// database. Nobody logs in as it; migrations reach it through SET ROLE from
// the platform's admin.
func newOwnerRole(ctx *pulumi.Context, name string, s *settings, opts []pulumi.ResourceOption) (*postgres.Role, error) {
	return postgres.NewRole(ctx, name+"-pg-owner", &postgres.RoleArgs{
		Name:  pulumi.String(OwnerRoleName(s.id)),
		Login: pulumi.Bool(false),
	}, opts...)
}
