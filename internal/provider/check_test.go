package provider

import (
	"context"
	"strings"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

func inputs(m map[string]any) property.Map {
	return resource.FromResourcePropertyValue(resource.NewProperty(resource.NewPropertyMapFromMap(m))).AsMap()
}

// checker is the Check method of any resource, reduced to its failures.
type checker func(property.Map) ([]p.CheckFailure, error)

func checkerOf[I any](r infer.CustomCheck[I]) checker {
	return func(m property.Map) ([]p.CheckFailure, error) {
		resp, err := r.Check(context.Background(), infer.CheckRequest{NewInputs: m})
		return resp.Failures, err
	}
}

type checkCase struct {
	name   string
	in     map[string]any
	prop   string // "" means the input must pass
	reason string // a fragment of the failure's reason
}

func runCheckCases(t *testing.T, check checker, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			failures, err := check(inputs(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if tc.prop == "" {
				if len(failures) > 0 {
					t.Fatalf("unexpected failures: %+v", failures)
				}
				return
			}
			for _, f := range failures {
				if f.Property == tc.prop && strings.Contains(f.Reason, tc.reason) {
					return
				}
			}
			t.Fatalf("want a failure on %s containing %q, got %+v", tc.prop, tc.reason, failures)
		})
	}
}

func TestRoleCheck(t *testing.T) {
	runCheckCases(t, checkerOf[RoleArgs](&Role{}), []checkCase{
		{"plain", map[string]any{"name": "t_acme"}, "", ""},
		{"hyphen and digits", map[string]any{"name": "t-acme-01"}, "", ""},
		{"plan settings", map[string]any{"name": "t_acme", "settings": map[string]any{"statement_timeout": "5s", "work_mem": "4MB", "auto_explain.log_min_duration": "1s"}}, "", ""},
		{"setting name with a quote", map[string]any{"name": "t_acme", "settings": map[string]any{"work_mem'; drop": "1"}}, "settings", "not a parameter name"},
		{"search_path as a setting", map[string]any{"name": "t_acme", "settings": map[string]any{"search_path": "public"}}, "settings", "use the searchPath input"},
		{"role as a setting", map[string]any{"name": "t_acme", "settings": map[string]any{"role": "postgres"}}, "settings", "must run as that role"},
		{"63 bytes", map[string]any{"name": strings.Repeat("r", 63)}, "", ""},
		{"missing name", map[string]any{}, "name", ""},
		{"empty name", map[string]any{"name": ""}, "name", "must not be empty"},
		{"single quote", map[string]any{"name": "a'b"}, "name", "single quote"},
		{"double quote", map[string]any{"name": `a"b`}, "name", "double quote"},
		{"semicolon", map[string]any{"name": "a;drop role x"}, "name", "semicolon"},
		{"space", map[string]any{"name": "a b"}, "name", "a space"},
		{"tab", map[string]any{"name": "a\tb"}, "name", "whitespace"},
		{"control", map[string]any{"name": "a\x01b"}, "name", "control character"},
		{"unicode", map[string]any{"name": "rôle"}, "name", "non-ASCII"},
		{"leading digit", map[string]any{"name": "1role"}, "name", "allowed:"},
		{"64 bytes", map[string]any{"name": strings.Repeat("r", 64)}, "name", "64 bytes"},
		{"reserved public", map[string]any{"name": "PUBLIC"}, "name", "reserved"},
		{"pg prefix", map[string]any{"name": "pg_x"}, "name", "pg_"},
		{"superuser", map[string]any{"name": "r", "superuser": true}, "superuser", "allowPrivileged"},
		{"bypassrls", map[string]any{"name": "r", "bypassRls": true}, "bypassRls", "allowPrivileged"},
		{"createrole", map[string]any{"name": "r", "createRole": true}, "createRole", "allowPrivileged"},
		{"replication", map[string]any{"name": "r", "replication": true}, "replication", "allowPrivileged"},
		{"privileged allowed", map[string]any{"name": "r", "superuser": true, "bypassRls": true, "createRole": true, "replication": true, "allowPrivileged": true}, "", ""},
		{"createdb is not privileged", map[string]any{"name": "r", "createDb": true}, "", ""},
		{"predefined role", map[string]any{"name": "r", "memberOf": []string{"pg_read_all_data"}}, "memberOf", "allowPrivileged"},
		{"predefined role allowed", map[string]any{"name": "r", "memberOf": []string{"pg_monitor"}, "allowPrivileged": true}, "", ""},
		{"self membership", map[string]any{"name": "r", "memberOf": []string{"r"}}, "memberOf", "itself"},
		{"bad group", map[string]any{"name": "r", "memberOf": []string{"ok", "x y"}}, "memberOf", "memberOf[1]"},
		{"connection limit", map[string]any{"name": "r", "connectionLimit": -2}, "connectionLimit", "-1"},
		{"password with every special character", map[string]any{"name": "r", "password": `'"\;$ --%`}, "", ""},
		{"password with NUL", map[string]any{"name": "r", "password": "a\x00b"}, "password", "NUL"},
	})
}

func TestCheckSkipsUnknownInputs(t *testing.T) {
	m := inputs(map[string]any{"login": true}).Set("name", property.New(property.Computed))
	failures, err := checkerOf[RoleArgs](&Role{})(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range failures {
		if f.Property == "name" {
			t.Fatalf("an unknown name (computed in preview) was refused: %+v", f)
		}
	}
}

func TestDatabaseSchemaCheck(t *testing.T) {
	runCheckCases(t, checkerOf[DatabaseArgs](&Database{}), []checkCase{
		{"plain", map[string]any{"name": "tenant_acme", "owner": "t_acme"}, "", ""},
		{"quote", map[string]any{"name": `d"`}, "name", "double quote"},
		{"template", map[string]any{"name": "template0"}, "name", "template"},
		{"bad owner", map[string]any{"name": "d", "owner": "o;o"}, "owner", "semicolon"},
		{"64 bytes", map[string]any{"name": strings.Repeat("d", 64)}, "name", "64 bytes"},
	})
	runCheckCases(t, checkerOf[SchemaArgs](&Schema{}), []checkCase{
		{"plain", map[string]any{"name": "tenant_acme", "database": "app"}, "", ""},
		{"pg prefix", map[string]any{"name": "pg_temp_9"}, "name", "pg_"},
		{"public", map[string]any{"name": "public"}, "name", "creates itself"},
		{"bad database", map[string]any{"name": "s", "database": "a b"}, "database", "a space"},
		{"unicode", map[string]any{"name": "schéma"}, "name", "non-ASCII"},
	})
}

func TestGrantCheck(t *testing.T) {
	check := checkerOf[GrantArgs](&Grant{})
	runCheckCases(t, check, []checkCase{
		{"table select", map[string]any{"role": "r", "schema": "s", "objectType": "table", "privileges": []string{"select", "Insert"}}, "", ""},
		{"database temp", map[string]any{"role": "r", "objectType": "database", "privileges": []string{"CONNECT", "TEMP"}}, "", ""},
		{"default privileges", map[string]any{"role": "r", "schema": "s", "objectType": "sequence", "privileges": []string{"USAGE"}, "defaultPrivileges": true, "forRole": "owner"}, "", ""},
		{"wrong privilege for type", map[string]any{"role": "r", "schema": "s", "objectType": "function", "privileges": []string{"SELECT"}}, "privileges", "does not apply"},
		{"no privileges", map[string]any{"role": "r", "schema": "s", "objectType": "table", "privileges": []string{}}, "privileges", "at least one"},
		{"all with others", map[string]any{"role": "r", "schema": "s", "objectType": "table", "privileges": []string{"ALL", "SELECT"}}, "privileges", "ALL already"},
		{"unknown type", map[string]any{"role": "r", "objectType": "tablespace", "privileges": []string{"CREATE"}}, "objectType", "not one of"},
		{"schema needed", map[string]any{"role": "r", "objectType": "sequence", "privileges": []string{"USAGE"}}, "schema", "must not be empty"},
		{"schema on database", map[string]any{"role": "r", "schema": "s", "objectType": "database", "privileges": []string{"CONNECT"}}, "schema", "must be empty"},
		{"objects on schema", map[string]any{"role": "r", "schema": "s", "objectType": "schema", "objects": []string{"s"}, "privileges": []string{"USAGE"}}, "objects", "must be empty"},
		{"objects with defaults", map[string]any{"role": "r", "schema": "s", "objectType": "table", "objects": []string{"t"}, "privileges": []string{"SELECT"}, "defaultPrivileges": true}, "objects", "future"},
		{"injection in object", map[string]any{"role": "r", "schema": "s", "objectType": "table", "objects": []string{"t;drop"}, "privileges": []string{"SELECT"}}, "objects", "semicolon"},
		{"forRole without defaults", map[string]any{"role": "r", "schema": "s", "objectType": "table", "privileges": []string{"SELECT"}, "forRole": "o"}, "forRole", "defaultPrivileges"},
		{"defaults on schema", map[string]any{"role": "r", "schema": "s", "objectType": "schema", "privileges": []string{"USAGE"}, "defaultPrivileges": true}, "defaultPrivileges", "table, sequence or function"},
	})
	resp, err := (&Grant{}).Check(context.Background(), infer.CheckRequest{NewInputs: inputs(map[string]any{
		"role": "r", "objectType": "Database", "privileges": []string{"temp", "connect", "TEMPORARY"}})})
	if err != nil || len(resp.Failures) > 0 {
		t.Fatal(err, resp.Failures)
	}
	if got := strings.Join(resp.Inputs.Privileges, ","); got != "TEMPORARY,CONNECT" || resp.Inputs.ObjectType != "database" {
		t.Fatalf("normalised privileges %q, objectType %q", got, resp.Inputs.ObjectType)
	}
}

func TestSharedTierChecks(t *testing.T) {
	runCheckCases(t, checkerOf[TenantRegistrationArgs](&TenantRegistration{}), []checkCase{
		{"plain", map[string]any{"tenantId": "acme-01", "roleName": "tenant_acme_01", "tier": "shared"}, "", ""},
		{"uppercase id", map[string]any{"tenantId": "Acme", "roleName": "t", "tier": "shared"}, "tenantId", "uppercase"},
		{"trailing hyphen", map[string]any{"tenantId": "acme-", "roleName": "t", "tier": "shared"}, "tenantId", "allowed"},
		{"longer than the domain allows", map[string]any{"tenantId": strings.Repeat("a", 41), "roleName": "t", "tier": "shared"}, "tenantId", "41 characters long"},
		{"reserved", map[string]any{"tenantId": "postgres", "roleName": "t", "tier": "shared"}, "tenantId", "reserved"},
		{"tier", map[string]any{"tenantId": "acme", "roleName": "t", "tier": "dedicated"}, "tier", "is unknown; allowed"},
		{"role", map[string]any{"tenantId": "acme", "roleName": "t'", "tier": "schema"}, "roleName", "single quote"},
		{"another tenant's role", map[string]any{"tenantId": "acme", "roleName": "tenant_beta", "tier": "shared"}, "roleName", `use "tenant_acme"`},
	})
	runCheckCases(t, checkerOf[TableIsolationArgs](&TableIsolation{}), []checkCase{
		{"qualified", map[string]any{"table": "app.items"}, "", ""},
		{"unqualified", map[string]any{"table": "items", "column": "org"}, "", ""},
		{"three parts", map[string]any{"table": "db.app.items"}, "table", "more than one"},
		{"injection", map[string]any{"table": "app.items; drop table x"}, "table", "semicolon"},
		{"bad column", map[string]any{"table": "app.items", "column": "tenant id"}, "column", "a space"},
	})
	runCheckCases(t, checkerOf[MigrationArgs](&Migration{}), []checkCase{
		{"ordered", map[string]any{"name": "m", "steps": []any{map[string]any{"version": 1, "sql": "SELECT 1"}, map[string]any{"version": 3, "sql": "SELECT 3"}}}, "", ""},
		{"descending", map[string]any{"name": "m", "steps": []any{map[string]any{"version": 2, "sql": "x"}, map[string]any{"version": 1, "sql": "y"}}}, "steps", "ascending"},
		{"duplicate", map[string]any{"name": "m", "steps": []any{map[string]any{"version": 1, "sql": "x"}, map[string]any{"version": 1, "sql": "y"}}}, "steps", "unique"},
		{"empty sql", map[string]any{"name": "m", "steps": []any{map[string]any{"version": 1, "sql": ""}}}, "steps", "no SQL"},
		{"no steps", map[string]any{"name": "m", "steps": []any{}}, "steps", "at least one"},
		{"bad name", map[string]any{"name": "m m", "steps": []any{map[string]any{"version": 1, "sql": "x"}}}, "name", "a space"},
	})
}

func TestACLUserCheck(t *testing.T) {
	runCheckCases(t, checkerOf[ACLUserArgs](&ACLUser{}), []checkCase{
		{"tenant", map[string]any{"username": "t-acme", "password": `p w'"\;`, "keyPatterns": []string{"t:acme:*"}, "channelPatterns": []string{"t:acme:*"},
			"commands": []string{"+get", "+SET", "+@read", "-del", "+client|setname", "nocommands"}}, "", ""},
		{"platform", map[string]any{"username": "platform", "keyPatterns": []string{"*"}, "channelPatterns": []string{"*"}, "commands": []string{"+@all", "allkeys", "allchannels"}, "allowPrivileged": true}, "", ""},
		{"+@all", map[string]any{"username": "u", "commands": []string{"+@all"}}, "commands", "allowPrivileged"},
		{"+@admin", map[string]any{"username": "u", "commands": []string{"+@admin"}}, "commands", "allowPrivileged"},
		{"+@dangerous", map[string]any{"username": "u", "commands": []string{"+@dangerous"}}, "commands", "allowPrivileged"},
		{"allcommands", map[string]any{"username": "u", "commands": []string{"allcommands"}}, "commands", "allowPrivileged"},
		{"allkeys", map[string]any{"username": "u", "commands": []string{"allkeys"}}, "commands", "allowPrivileged"},
		{"allchannels", map[string]any{"username": "u", "commands": []string{"allchannels"}}, "commands", "allowPrivileged"},
		{"keys", map[string]any{"username": "u", "commands": []string{"+KEYS"}}, "commands", "allowPrivileged"},
		{"scan", map[string]any{"username": "u", "commands": []string{"+scan"}}, "commands", "allowPrivileged"},
		{"config subcommand", map[string]any{"username": "u", "commands": []string{"+config|get"}}, "commands", "allowPrivileged"},
		{"client kill", map[string]any{"username": "u", "commands": []string{"+client|kill"}}, "commands", "allowPrivileged"},
		{"removal is fine", map[string]any{"username": "u", "commands": []string{"-flushall", "-@dangerous"}}, "", ""},
		{"key rule in commands", map[string]any{"username": "u", "commands": []string{"~*"}}, "commands", "not a command rule"},
		{"password rule in commands", map[string]any{"username": "u", "commands": []string{">pw"}}, "commands", "not a command rule"},
		{"reset in commands", map[string]any{"username": "u", "commands": []string{"reset"}}, "commands", "not a command rule"},
		{"unknown category", map[string]any{"username": "u", "commands": []string{"+@everything"}}, "commands", "category"},
		{"~*", map[string]any{"username": "u", "keyPatterns": []string{"*"}}, "keyPatterns", "literal prefix"},
		{"glob first", map[string]any{"username": "u", "keyPatterns": []string{"*:acme:*"}}, "keyPatterns", "literal prefix"},
		{"&*", map[string]any{"username": "u", "channelPatterns": []string{"*"}}, "channelPatterns", "literal prefix"},
		{"tilde given", map[string]any{"username": "u", "keyPatterns": []string{"~t:*"}}, "keyPatterns", "bare pattern"},
		{"selector given", map[string]any{"username": "u", "keyPatterns": []string{"%R~t:*"}}, "keyPatterns", "bare pattern"},
		{"space in pattern", map[string]any{"username": "u", "keyPatterns": []string{"t: *"}}, "keyPatterns", "a space"},
		{"username space", map[string]any{"username": "u u"}, "username", "a space"},
		{"username unicode", map[string]any{"username": "ü"}, "username", "non-ASCII"},
		{"username 64", map[string]any{"username": strings.Repeat("u", 64)}, "username", "64 bytes"},
		{"default", map[string]any{"username": "default"}, "username", "built-in"},
	})
}
