package guardrails

import (
	"fmt"
	"slices"
)

// roleAttribute is a role attribute a tenant login role must not have, and
// why.
type roleAttribute struct {
	prop   string
	reason string
}

var privilegedAttributes = []roleAttribute{
	{"superuser", "a superuser bypasses every permission check and row-level security"},
	{"bypassRls", "it would skip row-level security and read every tenant's rows"},
	{"createRole", "it could create roles and grant them to itself"},
	{"createDb", "it could create databases outside its tenant's isolation"},
	{"replication", "it could stream every database's changes"},
}

// privilegedMemberships are predefined roles whose membership reaches beyond
// the tenant: reading or writing every table, the server's files, other
// sessions and their queries.
var privilegedMemberships = []string{
	"pg_read_all_data", "pg_write_all_data",
	"pg_read_server_files", "pg_write_server_files", "pg_execute_server_program",
	"pg_signal_backend", "pg_monitor", "pg_read_all_stats",
}

// isTenantPostgresRole reports whether r is a tenant's login role: login is
// true and allowPrivileged is not.
func isTenantPostgresRole(r Resource) bool {
	return r.Type == TypePostgresRole && isTrue(r.Props.Get("login")) && !isTrue(r.Props.Get("allowPrivileged"))
}

// PostgresRoleLeastPrivilege keeps a tenant Postgres login role unprivileged:
// none of superuser, bypassRls, createRole, createDb or replication, no
// membership of the predefined roles that read or act across tenants, and a
// connectionLimit of 0 or more so one tenant cannot take every connection.
func PostgresRoleLeastPrivilege(r Resource) []string {
	if !isTenantPostgresRole(r) {
		return nil
	}
	name := displayName(r, "name")
	var msgs []string
	for _, a := range privilegedAttributes {
		if isTrue(r.Props.Get(a.prop)) {
			msgs = append(msgs, fmt.Sprintf(
				"Postgres role %q is a tenant login role and must not set %s: true, because %s; remove it "+
					"(only roles with allowPrivileged: true may hold it)",
				name, a.prop, a.reason))
		}
	}
	for _, m := range stringList(r.Props.Get("memberOf")) {
		if slices.Contains(privilegedMemberships, m) {
			msgs = append(msgs, fmt.Sprintf(
				"Postgres role %q is a tenant login role and must not be a member of %q, which reaches beyond the "+
					"tenant's own data; grant privileges on the tenant's schema or tables instead",
				name, m))
		}
	}
	limit := r.Props.Get("connectionLimit")
	switch {
	case limit.IsComputed():
	case limit.IsNumber() && limit.AsNumber() >= 0:
	case limit.IsNumber():
		msgs = append(msgs, fmt.Sprintf(
			"Postgres role %q has connectionLimit %v, which means unlimited; set it to 0 or more so one tenant "+
				"cannot exhaust the server's connections",
			name, limit.AsNumber()))
	default:
		msgs = append(msgs, fmt.Sprintf(
			"Postgres role %q must set connectionLimit to 0 or more; unset means unlimited, and one tenant could "+
				"exhaust the server's connections",
			name))
	}
	return msgs
}

// PostgresDatabaseRevokesPublicConnect refuses a Database with
// revokePublicConnect: false: PUBLIC keeps CONNECT on a new database, so
// every role on the server could connect to the tenant's.
func PostgresDatabaseRevokesPublicConnect(r Resource) []string {
	if r.Type != TypePostgresDatabase || !isFalse(r.Props.Get("revokePublicConnect")) {
		return nil
	}
	return []string{fmt.Sprintf(
		"Postgres database %q sets revokePublicConnect: false, so every role on the server can connect to it; "+
			"remove the setting (it defaults to true) so only the tenant's own role connects",
		displayName(r, "name"))}
}

// CredentialsAreSecrets requires the password of a Postgres role or Redis ACL
// user, when set, to be a Pulumi secret, so it is encrypted in state and never
// printed.
func CredentialsAreSecrets(r Resource) []string {
	var kind, name string
	switch r.Type {
	case TypePostgresRole:
		kind, name = "Postgres role", displayName(r, "name")
	case TypeRedisACLUser:
		kind, name = "Redis ACL user", displayName(r, "username")
	default:
		return nil
	}
	v := r.Props.Get("password")
	if !isSet(v) || isSecretOrUnknown(v) {
		return nil
	}
	return []string{fmt.Sprintf(
		"%s %q has a password that is not a Pulumi secret; pass it through pulumi.ToSecret (or generate it as a "+
			"secret) so it is encrypted in state and masked in output",
		kind, name)}
}
