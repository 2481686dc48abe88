package provider

import (
	"sort"
	"strings"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
)

// kinds renders a diff as "prop=kind" pairs, sorted, plus "!dbr" for
// delete-before-replace.
func kinds(d p.DiffResponse) string {
	var out []string
	for k, v := range d.DetailedDiff {
		out = append(out, k+"="+string(v.Kind))
	}
	sort.Strings(out)
	if d.DeleteBeforeReplace {
		out = append(out, "!dbr")
	}
	if len(out) > 0 != d.HasChanges {
		out = append(out, "!inconsistent")
	}
	return strings.Join(out, " ")
}

func TestDiffDecisions(t *testing.T) {
	role := RoleArgs{Name: "r", Login: true, Password: "pw", MemberOf: []string{"a", "b"}}
	db := DatabaseArgs{Name: "d", Owner: "o"}
	schema := SchemaState{SchemaArgs: SchemaArgs{Name: "s"}}
	grant := GrantArgs{Role: "r", Schema: "s", ObjectType: "table", Objects: []string{"t1", "t2"}, Privileges: []string{"SELECT"}}
	reg := TenantRegistrationArgs{TenantID: "acme", RoleName: "t_acme", Tier: "shared"}
	iso := TableIsolationState{TableIsolationArgs: TableIsolationArgs{Table: "app.items"}}
	acl := ACLUserState{ACLUserArgs: ACLUserArgs{Username: "u", Password: "pw", KeyPatterns: []string{"t:u:*"}}, AppliedRules: "x", LiveRules: "x"}
	mig := MigrationState{MigrationArgs: MigrationArgs{Name: "m", Steps: []MigrationStep{{1, "a"}}}, AppliedVersions: []int{1}}

	for _, tc := range []struct {
		name string
		got  p.DiffResponse
		want string
	}{
		{"role unchanged", diffRole(role, role), ""},
		{"role rename replaces", diffRole(role, func() RoleArgs { r := role; r.Name = "r2"; return r }()), "name=update&replace"},
		{"role attributes update", diffRole(role, func() RoleArgs {
			r := role
			r.Login, r.Password, r.ConnectionLimit, r.Inherit = false, "new", ptr(5), ptr(false)
			return r
		}()), "connectionLimit=update inherit=update login=update password=update"},
		{"role defaults are not changes", diffRole(role, func() RoleArgs { r := role; r.ConnectionLimit, r.Inherit = ptr(-1), ptr(true); return r }()), ""},
		{"role membership order is not a change", diffRole(role, func() RoleArgs { r := role; r.MemberOf = []string{"b", "a"}; return r }()), ""},
		{"role membership change updates", diffRole(role, func() RoleArgs { r := role; r.MemberOf = []string{"a"}; return r }()), "memberOf=update"},

		{"database rename replaces", diffDatabase(db, DatabaseArgs{Name: "d2", Owner: "o"}), "name=update&replace"},
		{"database owner and public access update", diffDatabase(db, DatabaseArgs{Name: "d", Owner: "o2", RevokePublicConnect: ptr(false)}), "owner=update revokePublicConnect=update"},
		{"database default true is not a change", diffDatabase(db, DatabaseArgs{Name: "d", Owner: "o", RevokePublicConnect: ptr(true)}), ""},

		{"schema default database is not a change", diffSchema(schema, SchemaArgs{Name: "s", Database: "postgres"}, "postgres"), ""},
		{"schema other database replaces", diffSchema(schema, SchemaArgs{Name: "s", Database: "other"}, "postgres"), "database=update&replace"},
		{"schema rename replaces", diffSchema(schema, SchemaArgs{Name: "s2"}, "postgres"), "name=update&replace"},
		{"schema owner updates", diffSchema(schema, SchemaArgs{Name: "s", Owner: "o"}, "postgres"), "owner=update"},
		{"schema drift updates", diffSchema(SchemaState{SchemaArgs: schema.SchemaArgs, PublicPrivileges: []string{"USAGE"}}, schema.SchemaArgs, "postgres"), "publicPrivileges=update"},

		{"grant privileges update", diffGrant(grant, func() GrantArgs { g := grant; g.Privileges = []string{"SELECT", "INSERT"}; return g }(), "postgres"), "privileges=update"},
		{"grant ALL equals the full list", diffGrant(func() GrantArgs { g := grant; g.Privileges = []string{"ALL"}; return g }(),
			func() GrantArgs {
				g := grant
				g.Privileges = []string{"UPDATE", "TRUNCATE", "TRIGGER", "SELECT", "REFERENCES", "INSERT", "DELETE"}
				return g
			}(), "postgres"), ""},
		{"grant objects replace delete-first", diffGrant(grant, func() GrantArgs { g := grant; g.Objects = []string{"t1"}; return g }(), "postgres"), "objects=update&replace !dbr"},
		{"grant object order is not a change", diffGrant(grant, func() GrantArgs { g := grant; g.Objects = []string{"t2", "t1"}; return g }(), "postgres"), ""},
		{"grant role replaces", diffGrant(grant, func() GrantArgs { g := grant; g.Role = "r2"; return g }(), "postgres"), "role=update&replace !dbr"},
		{"grant default privileges replaces", diffGrant(grant, func() GrantArgs { g := grant; g.DefaultPrivileges = true; g.Objects = nil; return g }(), "postgres"),
			"defaultPrivileges=update&replace objects=update&replace !dbr"},

		{"registration tier updates", diffTenantRegistration(reg, TenantRegistrationArgs{TenantID: "acme", RoleName: "t_acme", Tier: "schema"}, "postgres"), "tier=update"},
		{"registration tenant replaces delete-first", diffTenantRegistration(reg, TenantRegistrationArgs{TenantID: "acme2", RoleName: "t_acme", Tier: "shared"}, "postgres"), "tenantId=update&replace !dbr"},

		{"isolation column updates", diffTableIsolation(iso, TableIsolationArgs{Table: "app.items", Column: ptr("org_id")}, "postgres"), "column=update"},
		{"isolation default column is not a change", diffTableIsolation(iso, TableIsolationArgs{Table: "app.items", Column: ptr("tenant_id")}, "postgres"), ""},
		{"isolation table replaces", diffTableIsolation(iso, TableIsolationArgs{Table: "app.other"}, "postgres"), "table=update&replace"},
		{"isolation public schema spelled out is not a change", diffTableIsolation(TableIsolationState{TableIsolationArgs: TableIsolationArgs{Table: "items"}}, TableIsolationArgs{Table: "public.items"}, "postgres"), ""},
		{"isolation drift updates", diffTableIsolation(TableIsolationState{TableIsolationArgs: iso.TableIsolationArgs, Drift: []string{"policy tenant_isolation is missing"}}, iso.TableIsolationArgs, "postgres"), "drift=update"},

		{"acl rename replaces delete-first", diffACLUser(acl, ACLUserArgs{Username: "u2", Password: "pw", KeyPatterns: []string{"t:u:*"}}), "username=update&replace !dbr"},
		{"acl rules update", diffACLUser(acl, ACLUserArgs{Username: "u", Password: "pw2", KeyPatterns: []string{"t:u:*"}, Commands: []string{"+get"}, Enabled: ptr(false)}),
			"commands=update enabled=update password=update"},
		{"acl drift updates", diffACLUser(ACLUserState{ACLUserArgs: acl.ACLUserArgs, AppliedRules: "x", LiveRules: "y"}, acl.ACLUserArgs), "liveRules=update"},
		{"acl enabled default is not a change", diffACLUser(acl, ACLUserArgs{Username: "u", Password: "pw", KeyPatterns: []string{"t:u:*"}, Enabled: ptr(true)}), ""},

		{"migration new step updates", mustDiffMigration(t, mig, MigrationArgs{Name: "m", Steps: []MigrationStep{{1, "a"}, {2, "b"}}}), "steps=update"},
		{"migration record lost updates", mustDiffMigration(t, MigrationState{MigrationArgs: mig.MigrationArgs}, mig.MigrationArgs), "appliedVersions=update"},
		{"migration rename replaces", mustDiffMigration(t, mig, MigrationArgs{Name: "m2", Steps: mig.Steps}), "name=update&replace"},
		{"migration unapplied step may change", mustDiffMigration(t,
			MigrationState{MigrationArgs: MigrationArgs{Name: "m", Steps: []MigrationStep{{1, "a"}, {2, "broken"}}}, AppliedVersions: []int{1}},
			MigrationArgs{Name: "m", Steps: []MigrationStep{{1, "a"}, {2, "fixed"}}}), "steps=update"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := kinds(tc.got); got != tc.want {
				t.Fatalf("diff = %q, want %q", got, tc.want)
			}
		})
	}

	if _, err := diffMigration(mig, MigrationArgs{Name: "m", Steps: []MigrationStep{{1, "changed"}}}, "postgres"); err == nil ||
		!strings.Contains(err.Error(), "already applied") {
		t.Fatalf("changing an applied step: err = %v", err)
	}
}

func mustDiffMigration(t *testing.T, old MigrationState, new MigrationArgs) p.DiffResponse {
	t.Helper()
	d, err := diffMigration(old, new, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	return d
}
