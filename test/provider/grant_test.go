//go:build integration

package provider_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// TestGrantLifecycle exercises grants on a database, a schema, listed
// tables, all tables, sequences, a function and default privileges: each is
// created, read back unchanged, revoked by hand and repaired, changed in
// place, imported by id and revoked on delete.
func TestGrantLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	db := h.createDatabase("ts_gdb")
	role := uniqueName("ts_grantee")
	teardown(t, "role "+role, func(ctx context.Context) error {
		// The role holds privileges in db, dropped first by its own teardown.
		if err := h.dropDatabase(db)(ctx); err != nil {
			return err
		}
		return h.dropRole(role)(ctx)
	})
	r := pgx.Identifier{role}.Sanitize()
	h.exec("", "CREATE ROLE "+r+" LOGIN PASSWORD 'grantee-pw'")
	h.exec(db,
		"CREATE SCHEMA s",
		"CREATE TABLE s.t1 (id int)", "CREATE TABLE s.t2 (id int)",
		"CREATE SEQUENCE s.q1",
		"CREATE FUNCTION s.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
		"REVOKE ALL ON FUNCTION s.f() FROM PUBLIC")
	has := func(query string, args ...any) bool { t.Helper(); return h.queryBool(db, query, args...) }

	t.Run("schema usage", func(t *testing.T) {
		in := props(map[string]any{"role": role, "database": db, "schema": "s", "objectType": "schema", "privileges": []string{"usage"}})
		checked := h.mustCheck(grantToken, in)
		if got := strs(checked, "privileges"); !slices.Equal(got, []string{"USAGE"}) {
			t.Fatalf("Check did not normalise privileges: %v", got)
		}
		id, state := h.mustCreate(grantToken, in)
		if id != db+"/"+role+"/schema/s//" {
			t.Fatalf("id = %q", id)
		}
		if !has(`SELECT has_schema_privilege($1, 's', 'USAGE')`, role) {
			t.Fatal("USAGE not granted")
		}
		h.expectNoDrift(grantToken, id, state, checked)
		h.mustDeleteTwice(grantToken, id, state)
		if has(`SELECT has_schema_privilege($1, 's', 'USAGE')`, role) {
			t.Fatal("USAGE not revoked")
		}
	})

	t.Run("listed tables", func(t *testing.T) {
		in := props(map[string]any{"role": role, "database": db, "schema": "s", "objectType": "table", "objects": []string{"t1", "t2"}, "privileges": []string{"SELECT"}})
		checked := h.mustCheck(grantToken, in)
		id, state := h.mustCreate(grantToken, in)
		if !has(`SELECT has_table_privilege($1, 's.t1', 'SELECT') AND has_table_privilege($1, 's.t2', 'SELECT') AND NOT has_table_privilege($1, 's.t1', 'INSERT')`, role) {
			t.Fatal("SELECT not granted on both tables")
		}
		h.expectNoDrift(grantToken, id, state, checked)

		// Revoked by hand on one table: drift, repaired in place.
		h.exec(db, "REVOKE SELECT ON s.t2 FROM "+r)
		read := h.read(grantToken, id, state, checked)
		if slices.Contains(strs(read.Properties, "privileges"), "SELECT") {
			t.Fatalf("Read missed SELECT revoked by hand: %v", read.Properties.Get("privileges"))
		}
		expectUpdateOnly(t, h.diff(grantToken, id, read.Properties, checked), "privileges")
		state = h.mustUpdate(grantToken, id, read.Properties, checked)
		if !has(`SELECT has_table_privilege($1, 's.t2', 'SELECT')`, role) {
			t.Fatal("update did not restore SELECT")
		}

		// More privileges in place, then fewer: the dropped one is revoked.
		more := h.mustCheck(grantToken, props(map[string]any{"role": role, "database": db, "schema": "s", "objectType": "table", "objects": []string{"t2", "t1"}, "privileges": []string{"SELECT", "INSERT"}}))
		expectUpdateOnly(t, h.diff(grantToken, id, state, more), "privileges")
		state = h.mustUpdate(grantToken, id, state, more)
		if !has(`SELECT has_table_privilege($1, 's.t1', 'INSERT')`, role) {
			t.Fatal("INSERT not granted")
		}
		state = h.mustUpdate(grantToken, id, state, checked)
		if has(`SELECT has_table_privilege($1, 's.t1', 'INSERT')`, role) || !has(`SELECT has_table_privilege($1, 's.t1', 'SELECT')`, role) {
			t.Fatal("going back to SELECT did not revoke INSERT only")
		}

		// Other objects are another grant: replaced, delete first.
		other := h.mustCheck(grantToken, props(map[string]any{"role": role, "database": db, "schema": "s", "objectType": "table", "objects": []string{"t1"}, "privileges": []string{"SELECT"}}))
		d := h.diff(grantToken, id, state, other)
		expectReplace(t, d, "objects")
		if !d.DeleteBeforeReplace {
			t.Fatal("a grant replacement must delete first, or the old revoke undoes the new grant")
		}

		imp := h.read(grantToken, id, property.Map{}, property.Map{})
		if imp.ID != id || !slices.Equal(strs(imp.Inputs, "objects"), []string{"t1", "t2"}) || !slices.Equal(strs(imp.Inputs, "privileges"), []string{"SELECT"}) {
			t.Fatalf("import read: %q %v", imp.ID, imp.Inputs)
		}
		h.mustDeleteTwice(grantToken, id, state)
		if has(`SELECT has_table_privilege($1, 's.t1', 'SELECT') OR has_table_privilege($1, 's.t2', 'SELECT')`, role) {
			t.Fatal("delete did not revoke")
		}
	})

	t.Run("all tables", func(t *testing.T) {
		in := props(map[string]any{"role": role, "database": db, "schema": "s", "objectType": "table", "privileges": []string{"ALL"}})
		checked := h.mustCheck(grantToken, in)
		id, state := h.mustCreate(grantToken, in)
		if !has(`SELECT has_table_privilege($1, 's.t1', 'TRUNCATE') AND has_table_privilege($1, 's.t2', 'DELETE')`, role) {
			t.Fatal("ALL not granted on all tables")
		}
		h.expectNoDrift(grantToken, id, state, checked)
		// A table created since is not covered yet: Read reports it, update grants it.
		h.exec(db, "CREATE TABLE s.t3 (id int)")
		read := h.read(grantToken, id, state, checked)
		if got := strs(read.Properties, "privileges"); len(got) != 0 {
			t.Fatalf("Read with an uncovered table: privileges %v, want none held on every table", got)
		}
		state = h.mustUpdate(grantToken, id, read.Properties, checked)
		if !has(`SELECT has_table_privilege($1, 's.t3', 'SELECT')`, role) {
			t.Fatal("update did not cover the new table")
		}
		h.mustDeleteTwice(grantToken, id, state)
		if has(`SELECT has_table_privilege($1, 's.t3', 'SELECT')`, role) {
			t.Fatal("delete did not revoke")
		}
	})

	t.Run("default privileges", func(t *testing.T) {
		in := props(map[string]any{"role": role, "database": db, "schema": "s", "objectType": "table", "privileges": []string{"SELECT", "UPDATE"}, "defaultPrivileges": true})
		checked := h.mustCheck(grantToken, in)
		id, state := h.mustCreate(grantToken, in)
		if id != db+"/"+role+"/default-table/s//" {
			t.Fatalf("id = %q", id)
		}
		h.exec(db, "CREATE TABLE s.future1 (id int)")
		if !has(`SELECT has_table_privilege($1, 's.future1', 'SELECT') AND has_table_privilege($1, 's.future1', 'UPDATE')`, role) {
			t.Fatal("default privileges did not apply to a new table")
		}
		h.expectNoDrift(grantToken, id, state, checked)
		h.exec(db, "ALTER DEFAULT PRIVILEGES IN SCHEMA s REVOKE UPDATE ON TABLES FROM "+r)
		read := h.read(grantToken, id, state, checked)
		if got := strs(read.Properties, "privileges"); !slices.Equal(got, []string{"SELECT"}) {
			t.Fatalf("Read of default privileges revoked by hand: %v, want [SELECT]", got)
		}
		state = h.mustUpdate(grantToken, id, read.Properties, checked)
		imp := h.read(grantToken, id, property.Map{}, property.Map{})
		if imp.ID != id || !imp.Inputs.Get("defaultPrivileges").AsBool() || len(strs(imp.Inputs, "privileges")) != 2 {
			t.Fatalf("import read: %q %v", imp.ID, imp.Inputs)
		}
		h.mustDeleteTwice(grantToken, id, state)
		h.exec(db, "CREATE TABLE s.future2 (id int)")
		if has(`SELECT has_table_privilege($1, 's.future2', 'SELECT')`, role) {
			t.Fatal("default privileges still apply after delete")
		}
	})

	t.Run("database sequence function", func(t *testing.T) {
		for _, tc := range []struct {
			in    map[string]any
			check string
		}{
			{map[string]any{"role": role, "database": db, "objectType": "database", "privileges": []string{"CONNECT", "TEMP"}},
				`SELECT EXISTS (SELECT 1 FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = current_database() AND a.grantee = $1::regrole AND a.privilege_type = 'TEMPORARY')`},
			{map[string]any{"role": role, "database": db, "schema": "s", "objectType": "sequence", "privileges": []string{"USAGE"}},
				`SELECT has_sequence_privilege($1, 's.q1', 'USAGE')`},
			{map[string]any{"role": role, "database": db, "schema": "s", "objectType": "function", "objects": []string{"f"}, "privileges": []string{"EXECUTE"}},
				`SELECT has_function_privilege($1, 's.f()', 'EXECUTE')`},
		} {
			in := props(tc.in)
			checked := h.mustCheck(grantToken, in)
			id, state := h.mustCreate(grantToken, in)
			if !has(tc.check, role) {
				t.Fatalf("%s: not granted", id)
			}
			h.expectNoDrift(grantToken, id, state, checked)
			imp := h.read(grantToken, id, property.Map{}, property.Map{})
			if imp.ID != id || !slices.Equal(strs(imp.Inputs, "privileges"), strs(checked, "privileges")) || str(imp.Inputs, "objectType") != str(checked, "objectType") {
				t.Fatalf("%s: import read %v, want %v", id, imp.Inputs, checked)
			}
			h.mustDeleteTwice(grantToken, id, state)
			if has(tc.check, role) {
				t.Fatalf("%s: not revoked", id)
			}
		}
	})

	t.Run("bad input", func(t *testing.T) {
		for _, tc := range []struct {
			in        map[string]any
			prop      string
			fragments []string
		}{
			{map[string]any{"role": role, "schema": "s", "objectType": "table", "privileges": []string{"EXECUTE"}}, "privileges", []string{"EXECUTE", "does not apply", "SELECT"}},
			{map[string]any{"role": role, "schema": "s", "objectType": "table", "privileges": []string{"ALL", "SELECT"}}, "privileges", []string{"ALL already includes"}},
			{map[string]any{"role": role, "objectType": "table", "privileges": []string{"SELECT"}}, "schema", []string{"schema"}},
			{map[string]any{"role": role, "objectType": "database", "objects": []string{"x"}, "privileges": []string{"CONNECT"}}, "objects", []string{"must be empty"}},
			{map[string]any{"role": role, "schema": "s", "objectType": "schema", "privileges": []string{"USAGE"}, "defaultPrivileges": true}, "defaultPrivileges", []string{"table, sequence or function"}},
			{map[string]any{"role": role, "schema": "s", "objectType": "table", "privileges": []string{"SELECT"}, "forRole": "x"}, "forRole", []string{"defaultPrivileges"}},
			{map[string]any{"role": role, "schema": "s", "objectType": "view", "privileges": []string{"SELECT"}}, "objectType", []string{"not one of"}},
			{map[string]any{"role": "a b", "schema": "s", "objectType": "table", "privileges": []string{"SELECT"}}, "role", []string{"a space"}},
			{map[string]any{"role": role, "schema": "s", "objectType": "table", "objects": []string{"t1; DROP TABLE s.t1"}, "privileges": []string{"SELECT"}}, "objects", []string{"semicolon"}},
		} {
			_, failures := h.check(grantToken, props(tc.in))
			expectFailure(t, failures, tc.prop, tc.fragments...)
		}
		// A grant on a missing table fails and grants nothing.
		_, _, err := h.create(grantToken, h.mustCheck(grantToken, props(map[string]any{"role": role, "database": db, "schema": "s", "objectType": "table", "objects": []string{"t1", "nope"}, "privileges": []string{"DELETE"}})))
		if err == nil {
			t.Fatal("grant on a missing table succeeded")
		}
		if has(`SELECT has_table_privilege($1, 's.t1', 'DELETE')`, role) {
			t.Fatal("a failed grant granted on the existing table")
		}
	})
}
