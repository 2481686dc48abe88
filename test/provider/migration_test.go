//go:build integration

package provider_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// TestMigrationLifecycle applies steps once each, appends a step, refuses a
// changed applied step, keeps what succeeded when a later step fails,
// imports by DATABASE/NAME and on delete forgets the record but keeps the
// objects.
func TestMigrationLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	db := h.createDatabase("ts_mig")
	set := uniqueName("ts_set")
	step := func(v int, sql string) map[string]any { return map[string]any{"version": v, "sql": sql} }
	s1 := step(1, `CREATE TABLE counter (n int NOT NULL); INSERT INTO counter VALUES (0);`)
	s2 := step(2, `UPDATE counter SET n = n + 1;`)
	s3 := step(3, `UPDATE counter SET n = n + 10; CREATE TABLE "quoted ; name" (x text DEFAULT 'it''s');`)
	count := func() int {
		t.Helper()
		var n int
		if err := h.admin(db).QueryRow(t.Context(), `SELECT n FROM counter`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	in := props(map[string]any{"name": set, "database": db, "steps": []any{s1, s2}})
	checked := h.mustCheck(migrationToken, in)
	id, state := h.mustCreate(migrationToken, in)
	if id != db+"/"+set || count() != 1 {
		t.Fatalf("id %q, counter %d after two steps, want 1", id, count())
	}
	h.expectNoDrift(migrationToken, id, state, checked)

	// Appending a step applies only that step.
	checked3 := h.mustCheck(migrationToken, props(map[string]any{"name": set, "database": db, "steps": []any{s1, s2, s3}}))
	expectUpdateOnly(t, h.diff(migrationToken, id, state, checked3), "steps")
	state = h.mustUpdate(migrationToken, id, state, checked3)
	if count() != 11 {
		t.Fatalf("counter %d, want 11: a step ran twice or not at all", count())
	}
	if !h.queryBool(db, `SELECT to_regclass('"quoted ; name"') IS NOT NULL`) {
		t.Fatal("step 3 did not create its table")
	}

	// The SQL of an applied step cannot change.
	changed := h.mustCheck(migrationToken, props(map[string]any{"name": set, "database": db, "steps": []any{s1, step(2, `UPDATE counter SET n = 100;`), s3}}))
	_, err := h.server.Diff(diffReq(h, migrationToken, id, state, changed))
	if err == nil || !strings.Contains(err.Error(), "already applied") {
		t.Fatalf("diff with a changed applied step: err = %v", err)
	}
	if _, err := h.update(migrationToken, id, state, changed); err == nil || !strings.Contains(err.Error(), "different SQL") {
		t.Fatalf("update with a changed applied step: err = %v", err)
	}
	if count() != 11 {
		t.Fatal("a refused update changed the database")
	}

	// A failing step: the ones before it stay applied and recorded, it rolls back.
	s4 := step(4, `UPDATE counter SET n = n + 100;`)
	s5 := step(5, `UPDATE counter SET n = n + 1000; SELECT no_such_function();`)
	failing := h.mustCheck(migrationToken, props(map[string]any{"name": set, "database": db, "steps": []any{s1, s2, s3, s4, s5}}))
	if _, err := h.update(migrationToken, id, state, failing); err == nil {
		t.Fatal("update with a failing step succeeded")
	}
	if count() != 111 {
		t.Fatalf("counter %d, want 111: step 4 applied, step 5 rolled back", count())
	}
	read := h.read(migrationToken, id, state, failing)
	if got := read.Properties.Get("appliedVersions").AsArray().Len(); got != 4 {
		t.Fatalf("%d versions recorded, want 4", got)
	}
	// Fixing the failed (never applied) step is allowed.
	fixed := h.mustCheck(migrationToken, props(map[string]any{"name": set, "database": db, "steps": []any{s1, s2, s3, s4, step(5, `UPDATE counter SET n = n + 1000;`)}}))
	state = h.mustUpdate(migrationToken, id, read.Properties, fixed)
	if count() != 1111 {
		t.Fatalf("counter %d, want 1111", count())
	}

	imp := h.read(migrationToken, id, property.Map{}, property.Map{})
	if imp.ID != id || str(imp.Inputs, "name") != set || imp.Properties.Get("appliedVersions").AsArray().Len() != 5 {
		t.Fatalf("import read: %q %v", imp.ID, imp.Properties)
	}
	expectReplace(t, h.diff(migrationToken, id, state, h.mustCheck(migrationToken, props(map[string]any{"name": set + "x", "database": db, "steps": []any{s1}}))), "name")

	h.mustDeleteTwice(migrationToken, id, state)
	if h.queryBool(db, `SELECT EXISTS (SELECT 1 FROM tenantstack_migrations WHERE set_name = $1)`, set) {
		t.Fatal("delete kept the records")
	}
	if count() != 1111 {
		t.Fatal("delete touched the migrated objects")
	}

	for _, tc := range []struct {
		steps     []any
		fragments []string
	}{
		{[]any{s2, s1}, []string{"ascending"}},
		{[]any{s1, step(1, "SELECT 1")}, []string{"unique and ascending"}},
		{[]any{step(0, "SELECT 1")}, []string{"positive"}},
		{[]any{step(1, "  ")}, []string{"no SQL"}},
		{[]any{}, []string{"at least one"}},
	} {
		_, failures := h.check(migrationToken, props(map[string]any{"name": set, "steps": tc.steps}))
		expectFailure(t, failures, "steps", tc.fragments...)
	}
}
