//go:build integration

package provider_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// TestDatabaseLifecycle creates a database whose PUBLIC cannot connect,
// sees a GRANT to PUBLIC by hand as drift and revokes it again, changes the
// owner in place, refuses to drop while a session is connected unless
// forceDestroy, and then ends that session.
func TestDatabaseLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	db, owner, outsider := uniqueName("ts_db"), uniqueName("ts_owner"), uniqueName("ts_out")
	teardown(t, "database and roles", func(ctx context.Context) error {
		if err := h.dropDatabase(db)(ctx); err != nil {
			return err
		}
		if err := h.dropRole(owner)(ctx); err != nil {
			return err
		}
		return h.dropRole(outsider)(ctx)
	})
	h.exec("",
		"CREATE ROLE "+pgx.Identifier{owner}.Sanitize()+" NOLOGIN",
		"CREATE ROLE "+pgx.Identifier{outsider}.Sanitize()+" LOGIN PASSWORD 'outsider-pw'")

	inputs := props(map[string]any{"name": db})
	checked := h.mustCheck(databaseToken, inputs)
	id, state := h.mustCreate(databaseToken, inputs)
	if id != db || !state.Get("revokePublicConnect").AsBool() {
		t.Fatalf("id %q state %v", id, state)
	}
	if _, err := h.connectAs(outsider, "outsider-pw", db); pgCode(err) != "42501" {
		t.Fatalf("a role without CONNECT connected to the new database (or failed otherwise): %v", err)
	}
	h.expectNoDrift(databaseToken, id, state, checked)

	// PUBLIC given CONNECT by hand is drift, repaired in place.
	h.exec("", "GRANT CONNECT ON DATABASE "+pgx.Identifier{db}.Sanitize()+" TO PUBLIC")
	read := h.read(databaseToken, id, state, checked)
	if read.Properties.Get("revokePublicConnect").AsBool() {
		t.Fatal("Read missed CONNECT granted to PUBLIC by hand")
	}
	expectUpdateOnly(t, h.diff(databaseToken, id, read.Properties, checked), "revokePublicConnect")
	state = h.mustUpdate(databaseToken, id, read.Properties, checked)
	if _, err := h.connectAs(outsider, "outsider-pw", db); pgCode(err) != "42501" {
		t.Fatalf("update did not revoke CONNECT from PUBLIC: %v", err)
	}

	// New owner in place; a rename would replace.
	checked2 := h.mustCheck(databaseToken, props(map[string]any{"name": db, "owner": owner}))
	expectUpdateOnly(t, h.diff(databaseToken, id, state, checked2), "owner")
	state = h.mustUpdate(databaseToken, id, state, checked2)
	if !h.queryBool("", `SELECT pg_get_userbyid(datdba) = $2 FROM pg_database WHERE datname = $1`, db, owner) {
		t.Fatal("owner not changed")
	}
	h.expectNoDrift(databaseToken, id, state, checked2)
	expectReplace(t, h.diff(databaseToken, id, state, h.mustCheck(databaseToken, props(map[string]any{"name": db + "x"}))), "name")

	// Import by name.
	imp := h.read(databaseToken, db, property.Map{}, property.Map{})
	if imp.ID != db || str(imp.Inputs, "owner") != owner || !imp.Inputs.Get("revokePublicConnect").AsBool() {
		t.Fatalf("import read: %q %v", imp.ID, imp.Inputs)
	}

	// A connected session blocks the delete, which changes nothing.
	session, err := h.connectAs("", "", db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { session.Close(context.Background()) })
	err = h.delete(databaseToken, id, state)
	if err == nil || !strings.Contains(err.Error(), "forceDestroy") {
		t.Fatalf("delete with a session connected: err = %v, want a refusal naming forceDestroy", err)
	}
	if !h.queryBool("", `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, db) {
		t.Fatal("a refused delete dropped the database")
	}
	// With forceDestroy the session is ended and the database dropped.
	checked3 := h.mustCheck(databaseToken, props(map[string]any{"name": db, "owner": owner, "forceDestroy": true}))
	expectUpdateOnly(t, h.diff(databaseToken, id, state, checked3), "forceDestroy")
	state = h.mustUpdate(databaseToken, id, state, checked3)
	h.mustDeleteTwice(databaseToken, id, state)
	if h.queryBool("", `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, db) {
		t.Fatal("database still exists")
	}
	if err := session.Ping(context.Background()); err == nil {
		t.Fatal("the session connected to the dropped database is still alive")
	}

	// Bad names are refused at check.
	for name, frag := range map[string]string{`a"b`: "double quote", "a b": "a space", "template1": "template", strings.Repeat("d", 64): "64 bytes"} {
		_, failures := h.check(databaseToken, props(map[string]any{"name": name}))
		expectFailure(t, failures, "name", frag)
	}
}

// TestSchemaLifecycle creates a schema in a non-default database with
// nothing for PUBLIC, sees USAGE granted to PUBLIC by hand, repairs it,
// refuses to drop a non-empty schema and imports it by DATABASE/SCHEMA.
func TestSchemaLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	db := h.createDatabase("ts_sdb")
	owner := uniqueName("ts_sowner")
	teardown(t, "role "+owner, h.dropRole(owner))
	h.exec("", "CREATE ROLE "+pgx.Identifier{owner}.Sanitize()+" NOLOGIN")
	name := uniqueName("ts_schema")

	inputs := props(map[string]any{"name": name, "database": db})
	checked := h.mustCheck(schemaToken, inputs)
	id, state := h.mustCreate(schemaToken, inputs)
	if id != db+"/"+name {
		t.Fatalf("id = %q, want %s/%s", id, db, name)
	}
	if h.queryBool(db, `SELECT has_schema_privilege('public', $1, 'USAGE') OR has_schema_privilege('public', $1, 'CREATE')`, name) {
		t.Fatal("PUBLIC has privileges on the new schema")
	}
	h.expectNoDrift(schemaToken, id, state, checked)

	h.exec(db, "GRANT USAGE ON SCHEMA "+pgx.Identifier{name}.Sanitize()+" TO PUBLIC")
	read := h.read(schemaToken, id, state, checked)
	if got := strs(read.Properties, "publicPrivileges"); len(got) != 1 || got[0] != "USAGE" {
		t.Fatalf("Read publicPrivileges = %v, want [USAGE]", got)
	}
	expectUpdateOnly(t, h.diff(schemaToken, id, read.Properties, checked), "publicPrivileges")
	state = h.mustUpdate(schemaToken, id, read.Properties, checked)
	if h.queryBool(db, `SELECT has_schema_privilege('public', $1, 'USAGE')`, name) {
		t.Fatal("update did not revoke USAGE from PUBLIC")
	}

	checked2 := h.mustCheck(schemaToken, props(map[string]any{"name": name, "database": db, "owner": owner}))
	expectUpdateOnly(t, h.diff(schemaToken, id, state, checked2), "owner")
	state = h.mustUpdate(schemaToken, id, state, checked2)
	h.expectNoDrift(schemaToken, id, state, checked2)
	if !h.queryBool(db, `SELECT pg_get_userbyid(nspowner) = $2 FROM pg_namespace WHERE nspname = $1`, name, owner) {
		t.Fatal("owner not changed")
	}
	expectReplace(t, h.diff(schemaToken, id, state, h.mustCheck(schemaToken, props(map[string]any{"name": name, "owner": owner}))), "database")
	expectReplace(t, h.diff(schemaToken, id, state, h.mustCheck(schemaToken, props(map[string]any{"name": name + "x", "database": db, "owner": owner}))), "name")

	imp := h.read(schemaToken, id, property.Map{}, property.Map{})
	if imp.ID != id || str(imp.Inputs, "name") != name || str(imp.Inputs, "database") != db || str(imp.Inputs, "owner") != owner {
		t.Fatalf("import read: %q %v", imp.ID, imp.Inputs)
	}

	// Never cascades: a schema holding a table is not dropped.
	h.exec(db, "CREATE TABLE "+pgx.Identifier{name, "keep"}.Sanitize()+" (id int)")
	if err := h.delete(schemaToken, id, state); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("delete of a non-empty schema: err = %v", err)
	}
	if !h.queryBool(db, `SELECT to_regclass($1) IS NOT NULL`, name+".keep") {
		t.Fatal("a refused delete dropped the table")
	}
	h.exec(db, "DROP TABLE "+pgx.Identifier{name, "keep"}.Sanitize())
	h.mustDeleteTwice(schemaToken, id, state)
	if h.queryBool(db, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, name) {
		t.Fatal("schema still exists")
	}

	for name, frag := range map[string]string{"pg_x": "pg_", "a;b": "semicolon", "public": "creates itself", "ö": "non-ASCII"} {
		_, failures := h.check(schemaToken, props(map[string]any{"name": name}))
		expectFailure(t, failures, "name", frag)
	}
}
