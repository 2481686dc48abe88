package guardrails

import "testing"

func TestPostgresRoleLeastPrivilege(t *testing.T) {
	tenant := m{"name": "t_acme", "login": true, "password": secret{"pw"}, "connectionLimit": 20, "inherit": true}
	role := func(props m) Resource { return res(TypePostgresRole, "acme-role", props) }
	attr := func(prop, reason string) string {
		return `Postgres role "t_acme" is a tenant login role and must not set ` + prop + `: true, because ` +
			reason + `; remove it (only roles with allowPrivileged: true may hold it)`
	}
	tests := []struct {
		name string
		r    Resource
		want []string
	}{
		{name: "unprivileged tenant role", r: role(tenant)},
		{name: "connection limit zero", r: role(with(tenant, m{"connectionLimit": 0}))},
		{name: "attributes explicitly false", r: role(with(tenant, m{
			"superuser": false, "bypassRls": false, "createRole": false, "createDb": false, "replication": false,
		}))},
		{
			name: "superuser",
			r:    role(with(tenant, m{"superuser": true})),
			want: []string{attr("superuser", "a superuser bypasses every permission check and row-level security")},
		},
		{
			name: "bypassRls",
			r:    role(with(tenant, m{"bypassRls": true})),
			want: []string{attr("bypassRls", "it would skip row-level security and read every tenant's rows")},
		},
		{
			name: "createRole",
			r:    role(with(tenant, m{"createRole": true})),
			want: []string{attr("createRole", "it could create roles and grant them to itself")},
		},
		{
			name: "createDb",
			r:    role(with(tenant, m{"createDb": true})),
			want: []string{attr("createDb", "it could create databases outside its tenant's isolation")},
		},
		{
			name: "replication",
			r:    role(with(tenant, m{"replication": true})),
			want: []string{attr("replication", "it could stream every database's changes")},
		},
		{
			name: "connection limit unset",
			r:    role(with(tenant, m{"connectionLimit": nil})),
			want: []string{`Postgres role "t_acme" must set connectionLimit to 0 or more; unset means unlimited, ` +
				`and one tenant could exhaust the server's connections`},
		},
		{
			name: "connection limit -1",
			r:    role(with(tenant, m{"connectionLimit": -1})),
			want: []string{`Postgres role "t_acme" has connectionLimit -1, which means unlimited; set it to 0 or ` +
				`more so one tenant cannot exhaust the server's connections`},
		},
		{name: "connection limit unknown during preview", r: role(with(tenant, m{"connectionLimit": unknown}))},
		{
			name: "member of pg_read_all_data",
			r:    role(with(tenant, m{"memberOf": l{"app_owner_readers", "pg_read_all_data"}})),
			want: []string{`Postgres role "t_acme" is a tenant login role and must not be a member of ` +
				`"pg_read_all_data", which reaches beyond the tenant's own data; grant privileges on the tenant's ` +
				`schema or tables instead`},
		},
		{
			name: "several faults, named by the Pulumi name when the role name is unknown",
			r:    role(with(tenant, m{"name": unknown, "superuser": true, "connectionLimit": -1})),
			want: []string{
				`Postgres role "acme-role" is a tenant login role and must not set superuser: true, because a ` +
					`superuser bypasses every permission check and row-level security; remove it (only roles with ` +
					`allowPrivileged: true may hold it)`,
				`Postgres role "acme-role" has connectionLimit -1, which means unlimited; set it to 0 or more so ` +
					`one tenant cannot exhaust the server's connections`,
			},
		},
		{name: "privileged role allowed explicitly", r: role(with(tenant, m{
			"allowPrivileged": true, "superuser": true, "connectionLimit": -1,
		}))},
		{name: "NOLOGIN owner role", r: role(m{"name": "app_owner", "login": false, "createRole": true})},
		{name: "login unset means NOLOGIN", r: role(m{"name": "app_owner", "bypassRls": true})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertMessages(t, PostgresRoleLeastPrivilege(tt.r), tt.want)
		})
	}
}

func TestPostgresDatabaseRevokesPublicConnect(t *testing.T) {
	db := func(props m) Resource { return res(TypePostgresDatabase, "acme-db", props) }
	tests := []struct {
		name string
		r    Resource
		want []string
	}{
		{name: "default", r: db(m{"name": "t_acme", "owner": "t_acme"})},
		{name: "explicitly true", r: db(m{"name": "t_acme", "revokePublicConnect": true})},
		{name: "unknown during preview", r: db(m{"name": "t_acme", "revokePublicConnect": unknown})},
		{
			name: "false",
			r:    db(m{"name": "t_acme", "revokePublicConnect": false}),
			want: []string{`Postgres database "t_acme" sets revokePublicConnect: false, so every role on the ` +
				`server can connect to it; remove the setting (it defaults to true) so only the tenant's own ` +
				`role connects`},
		},
		{name: "other type", r: res(TypePostgresRole, "r", m{"revokePublicConnect": false})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertMessages(t, PostgresDatabaseRevokesPublicConnect(tt.r), tt.want)
		})
	}
}

func TestCredentialsAreSecrets(t *testing.T) {
	tests := []struct {
		name string
		r    Resource
		want []string
	}{
		{name: "secret role password", r: res(TypePostgresRole, "r", m{"name": "t_acme", "password": secret{"pw"}})},
		{name: "role without password", r: res(TypePostgresRole, "r", m{"name": "app_owner"})},
		{name: "empty role password", r: res(TypePostgresRole, "r", m{"name": "app_owner", "password": ""})},
		{name: "role password unknown during preview", r: res(TypePostgresRole, "r", m{"name": "t_acme", "password": unknown})},
		{
			name: "plain role password",
			r:    res(TypePostgresRole, "r", m{"name": "t_acme", "password": "pw"}),
			want: []string{`Postgres role "t_acme" has a password that is not a Pulumi secret; pass it through ` +
				`pulumi.ToSecret (or generate it as a secret) so it is encrypted in state and masked in output`},
		},
		{name: "secret ACL user password", r: res(TypeRedisACLUser, "u", m{"username": "t:acme", "password": secret{"pw"}})},
		{
			name: "plain ACL user password",
			r:    res(TypeRedisACLUser, "u", m{"username": "t:acme", "password": "pw"}),
			want: []string{`Redis ACL user "t:acme" has a password that is not a Pulumi secret; pass it through ` +
				`pulumi.ToSecret (or generate it as a secret) so it is encrypted in state and masked in output`},
		},
		{name: "other type with a password", r: res("tenantstack:postgres:Schema", "s", m{"password": "pw"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertMessages(t, CredentialsAreSecrets(tt.r), tt.want)
		})
	}
}
