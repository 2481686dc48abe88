//go:build integration

package provider_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// TestRoleLifecycle creates a login role with a nasty password and a group,
// reads it back unchanged, sees ALTER ROLE by hand as drift, repairs it in
// place, plans a rename as a replacement, imports it by name and deletes it.
func TestRoleLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	name, group := uniqueName("ts_role"), uniqueName("ts_group")
	teardown(t, "roles", func(ctx context.Context) error {
		if err := h.dropRole(name)(ctx); err != nil {
			return err
		}
		return h.dropRole(group)(ctx)
	})
	h.exec("", "CREATE ROLE "+pgx.Identifier{group}.Sanitize()+" NOLOGIN")

	inputs := props(map[string]any{
		"name": name, "login": true, "password": nastyPassword, "connectionLimit": 3, "memberOf": []string{group},
	}, "password")
	checked := h.mustCheck(roleToken, inputs)
	if got := checked.Get("inherit"); !got.IsBool() || !got.AsBool() {
		t.Fatalf("Check did not apply the inherit default: %v", got)
	}
	id, state, err := h.create(roleToken, checked)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if id != name {
		t.Fatalf("id = %q, want the role name %q", id, name)
	}
	if !state.Get("password").Secret() {
		t.Fatal("password output is not secret")
	}
	if !h.queryBool("", `SELECT rolcanlogin AND rolconnlimit = 3 AND rolinherit AND NOT rolsuper FROM pg_roles WHERE rolname = $1`, name) {
		t.Fatal("role attributes on the server do not match the inputs")
	}
	if !h.queryBool("", `SELECT pg_has_role($1, $2, 'MEMBER')`, name, group) {
		t.Fatal("role is not a member of its group")
	}
	if !h.queryBool("", `SELECT rolpassword LIKE 'SCRAM-SHA-256$4096:%' FROM pg_authid WHERE rolname = $1`, name) {
		t.Fatal("password is not stored as a SCRAM-SHA-256 verifier")
	}
	loginWorks(t, h, name, nastyPassword, true)
	loginWorks(t, h, name, nastyPassword+"x", false)

	h.expectNoDrift(roleToken, id, state, checked)

	// Changes by hand: no login, another limit, another password, group left.
	h.exec("", "ALTER ROLE "+pgx.Identifier{name}.Sanitize()+" NOLOGIN CONNECTION LIMIT 7 PASSWORD 'by-hand'",
		"REVOKE "+pgx.Identifier{group}.Sanitize()+" FROM "+pgx.Identifier{name}.Sanitize())
	read := h.read(roleToken, id, state, checked)
	if read.Properties.Get("login").AsBool() || read.Properties.Get("connectionLimit").AsNumber() != 7 {
		t.Fatalf("Read missed the ALTER ROLE by hand: %v", read.Properties)
	}
	if len(strs(read.Properties, "memberOf")) != 0 {
		t.Fatalf("Read missed the revoked membership: %v", read.Properties.Get("memberOf"))
	}
	if read.Properties.Get("password").AsString() == nastyPassword {
		t.Fatal("Read missed the password changed by hand")
	}
	d := h.diff(roleToken, id, read.Properties, checked)
	expectUpdateOnly(t, d, "login", "connectionLimit", "password", "memberOf")
	state = h.mustUpdate(roleToken, id, read.Properties, checked)
	loginWorks(t, h, name, nastyPassword, true)
	h.expectNoDrift(roleToken, id, state, checked)

	// An in-place change of attributes and the password.
	inputs2 := props(map[string]any{
		"name": name, "login": true, "password": unicodePassword, "connectionLimit": -1, "createDb": true, "inherit": false,
	}, "password")
	checked2 := h.mustCheck(roleToken, inputs2)
	expectUpdateOnly(t, h.diff(roleToken, id, state, checked2), "password", "connectionLimit", "createDb", "inherit", "memberOf")
	state = h.mustUpdate(roleToken, id, state, checked2)
	if !h.queryBool("", `SELECT rolcreatedb AND NOT rolinherit AND rolconnlimit = -1 FROM pg_roles WHERE rolname = $1`, name) {
		t.Fatal("update did not reach the server")
	}
	if h.queryBool("", `SELECT pg_has_role($1, $2, 'MEMBER')`, name, group) {
		t.Fatal("membership not listed any more was not revoked")
	}
	loginWorks(t, h, name, unicodePassword, true)
	loginWorks(t, h, name, nastyPassword, false)

	// A rename is a replacement.
	renamed := h.mustCheck(roleToken, props(map[string]any{"name": name + "x", "login": true}))
	expectReplace(t, h.diff(roleToken, id, state, renamed), "name")

	// Import by name: no recorded state, attributes from the server.
	imp := h.read(roleToken, name, property.Map{}, property.Map{})
	if imp.ID != name || str(imp.Inputs, "name") != name || !imp.Inputs.Get("createDb").AsBool() || !imp.Inputs.Get("login").AsBool() {
		t.Fatalf("import read: id %q inputs %v", imp.ID, imp.Inputs)
	}

	h.mustDeleteTwice(roleToken, id, state)
	if h.queryBool("", `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, name) {
		t.Fatal("role still exists after Delete")
	}
	if gone := h.read(roleToken, id, state, checked2); gone.ID != "" {
		t.Fatalf("Read of a deleted role returned id %q, want empty (gone)", gone.ID)
	}
}

// loginWorks requires a login as user with password to succeed (or fail).
func loginWorks(t *testing.T, h *harness, user, password string, want bool) {
	t.Helper()
	conn, err := h.connectAs(user, password, "postgres")
	if err == nil {
		defer conn.Close(context.Background())
		var who string
		if qerr := conn.QueryRow(context.Background(), "SELECT session_user").Scan(&who); qerr != nil || who != user {
			t.Fatalf("logged in as %q (%v), want %q", who, qerr, user)
		}
	}
	switch {
	case want && err != nil:
		t.Fatalf("login as %s with the password set by the provider failed: %v", user, err)
	case !want && err == nil:
		t.Fatalf("login as %s with a wrong password succeeded", user)
	}
}

// TestRolePasswords sets passwords holding every special character through
// the provider and logs in with each.
func TestRolePasswords(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var ascii strings.Builder
	for c := byte(0x20); c < 0x7f; c++ {
		ascii.WriteByte(c)
	}
	for _, tc := range []struct{ name, password string }{
		{"every printable ASCII character", ascii.String()},
		{"quotes and SQL", `'; DROP ROLE admin; --' " '' \' $$ $tag$`},
		{"backslashes", `\\\n\t\0\x00\`},
		{"spaces at both ends", "  padded password  "},
		{"unicode", unicodePassword},
		{"long", strings.Repeat("Zz9!", 250)},
		{"newline and tab", "line1\nline2\tend"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := uniqueName("ts_pw")
			teardown(t, "role "+name, h.dropRole(name))
			id, state := h.mustCreate(roleToken, props(map[string]any{"name": name, "login": true, "password": tc.password}, "password"))
			loginWorks(t, h, name, tc.password, true)
			loginWorks(t, h, name, tc.password+"!", false)
			h.expectNoDrift(roleToken, id, state, h.mustCheck(roleToken, props(map[string]any{"name": name, "login": true, "password": tc.password}, "password")))
			if err := h.delete(roleToken, id, state); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRoleBadInput proves bad input is refused with a clear reason, before
// or at create, and leaves nothing behind.
func TestRoleBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct {
		name      string
		inputs    map[string]any
		prop      string
		fragments []string
	}{
		{"quote in name", map[string]any{"name": `ts"x`}, "name", []string{"double quote", "allowed:"}},
		{"semicolon in name", map[string]any{"name": "ts;drop"}, "name", []string{"semicolon"}},
		{"space in name", map[string]any{"name": "ts x"}, "name", []string{"a space"}},
		{"unicode in name", map[string]any{"name": "tsé"}, "name", []string{"non-ASCII"}},
		{"64-byte name", map[string]any{"name": strings.Repeat("a", 64)}, "name", []string{"64 bytes", "63"}},
		{"reserved name", map[string]any{"name": "pg_monitor2"}, "name", []string{"pg_"}},
		{"superuser", map[string]any{"name": "ts_ok", "superuser": true}, "superuser", []string{"allowPrivileged"}},
		{"bypassrls", map[string]any{"name": "ts_ok", "bypassRls": true}, "bypassRls", []string{"allowPrivileged"}},
		{"createrole", map[string]any{"name": "ts_ok", "createRole": true}, "createRole", []string{"allowPrivileged"}},
		{"replication", map[string]any{"name": "ts_ok", "replication": true}, "replication", []string{"allowPrivileged"}},
		{"predefined group", map[string]any{"name": "ts_ok", "memberOf": []string{"pg_read_all_data"}}, "memberOf", []string{"allowPrivileged"}},
		{"bad group name", map[string]any{"name": "ts_ok", "memberOf": []string{"a'b"}}, "memberOf", []string{"single quote"}},
		{"connection limit", map[string]any{"name": "ts_ok", "connectionLimit": -5}, "connectionLimit", []string{"-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, failures := h.check(roleToken, props(tc.inputs))
			expectFailure(t, failures, tc.prop, tc.fragments...)
		})
	}

	// Privileged flags pass with allowPrivileged (a platform role).
	if _, failures := h.check(roleToken, props(map[string]any{"name": "ts_platform", "createRole": true, "allowPrivileged": true})); len(failures) > 0 {
		t.Fatalf("allowPrivileged role refused: %+v", failures)
	}

	// A membership in a missing role fails the create and rolls it back.
	name := uniqueName("ts_bad")
	teardown(t, "role "+name, h.dropRole(name))
	_, _, err := h.create(roleToken, h.mustCheck(roleToken, props(map[string]any{"name": name, "memberOf": []string{uniqueName("ts_missing")}})))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("create with a missing group: err = %v, want a clear \"does not exist\"", err)
	}
	if h.queryBool("", `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, name) {
		t.Fatal("a failed create left the role behind")
	}

	// Creating over an existing role refuses and changes nothing.
	h.exec("", "CREATE ROLE "+pgx.Identifier{name}.Sanitize()+" NOLOGIN CONNECTION LIMIT 2")
	_, _, err = h.create(roleToken, h.mustCheck(roleToken, props(map[string]any{"name": name, "login": true})))
	if err == nil || !strings.Contains(err.Error(), "already exists") || !strings.Contains(err.Error(), "pulumi import") {
		t.Fatalf("create over an existing role: err = %v", err)
	}
	if !h.queryBool("", `SELECT NOT rolcanlogin AND rolconnlimit = 2 FROM pg_roles WHERE rolname = $1`, name) {
		t.Fatal("a refused create changed the existing role")
	}
}
