package source

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"
)

// lintSQL lints sql as the up migration migrations/0001_x.up.sql.
func lintSQL(t *testing.T, sql string) []Finding {
	t.Helper()
	set, err := LoadFS(fstest.MapFS{"migrations/0001_x.up.sql": {Data: []byte(sql)}}, "migrations")
	if err != nil {
		t.Fatalf("LoadFS: %v", err)
	}
	return Lint(set)
}

func rules(f []Finding) []string {
	var r []string
	for _, x := range f {
		if !slices.Contains(r, x.Rule) {
			r = append(r, x.Rule)
		}
	}
	return r
}

func TestLintRules(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want []string // the rules refusing it; none for a near miss that passes
	}{
		// alter-role
		{"ALTER ROLE app_user SET work_mem = '64MB'", []string{"alter-role"}},
		{"alter\n  user bob with password 'x'", []string{"alter-role"}},
		{"ALTER GROUP staff ADD USER bob", []string{"alter-role"}},
		{"CREATE ROLE reporting", []string{"alter-role"}},
		{"create user eve", []string{"alter-role"}},
		{"DROP ROLE IF EXISTS old", []string{"alter-role"}},
		{"DROP USER bob", []string{"alter-role"}},
		{"GRANT tenant_b_owner TO tenant_a", []string{"alter-role"}},
		{"REVOKE admin FROM bob", []string{"alter-role"}},
		{"DROP OWNED BY bob", []string{"alter-role"}},
		{"REASSIGN OWNED BY bob TO eve", []string{"alter-role"}},
		{`CREATE TABLE roles (role text, "user" text, "group" text)`, nil},
		{"ALTER TABLE users ADD COLUMN role text", nil},
		{"GRANT SELECT ON accounts TO tenant_app", nil},
		{"GRANT SELECT (id, role) ON roles TO tenant_app", nil},
		{"REVOKE SELECT ON accounts FROM tenant_app", nil},

		// grant-public
		{"GRANT SELECT ON accounts TO PUBLIC", []string{"grant-public"}},
		{"grant usage on schema app to app_a, public with grant option", []string{"grant-public"}},
		{"GRANT EXECUTE ON FUNCTION f() TO \"public\"", []string{"grant-public"}},
		{"GRANT SELECT ON public.accounts TO tenant_app", nil},
		{"GRANT SELECT ON ALL TABLES IN SCHEMA public TO tenant_app", nil},
		{"REVOKE ALL ON accounts FROM PUBLIC", nil},

		// disable-rls
		{"ALTER TABLE accounts DISABLE ROW LEVEL SECURITY", []string{"disable-rls"}},
		{"alter table only accounts\n  no force /* sic */ row level security", []string{"disable-rls"}},
		{"ALTER TABLE accounts ENABLE ROW LEVEL SECURITY", nil},
		{"ALTER TABLE accounts FORCE ROW LEVEL SECURITY", nil},
		{"COMMENT ON TABLE accounts IS 'we never disable row level security'", nil},

		// drop-policy
		{"DROP POLICY tenant_isolation ON accounts", []string{"drop-policy"}},
		{"CREATE POLICY open ON accounts USING (true)", []string{"drop-policy"}},
		{"alter policy p on accounts using (true)", []string{"drop-policy"}},
		{"CREATE TABLE policy (id int)", nil},
		{"INSERT INTO policies (name) VALUES ('DROP POLICY p ON t')", nil},

		// security-definer
		{"CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$", []string{"security-definer"}},
		{"create or replace procedure p() language plpgsql external security definer as $$ begin null; end $$", []string{"security-definer"}},
		{"ALTER FUNCTION f() SECURITY DEFINER", []string{"security-definer"}},
		{"CREATE FUNCTION f() RETURNS void LANGUAGE sql SECURITY DEFINER\nBEGIN ATOMIC\n  UPDATE settings SET search_path = 'x';\nEND", []string{"security-definer"}},
		{"CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ SELECT 1 $$", nil},
		{"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql SECURITY DEFINER SET \"search_path\" TO pg_catalog", nil},
		{"CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY INVOKER AS $$ SELECT 1 $$", nil},
		{"COMMENT ON FUNCTION f() IS 'SECURITY DEFINER'", nil},

		// create-extension
		{"CREATE EXTENSION IF NOT EXISTS pgcrypto", []string{"create-extension"}},
		{"ALTER EXTENSION pgcrypto UPDATE", []string{"create-extension"}},
		{"DROP EXTENSION pgcrypto", []string{"create-extension"}},
		{"CREATE TABLE extension (id int)", nil},
		{"SELECT extname FROM pg_extension", nil},

		// set-role
		{"SET ROLE tenant_b", []string{"set-role"}},
		{"set local\n  role postgres", []string{"set-role"}},
		{"SET SESSION ROLE tenant_b", []string{"set-role"}},
		{"RESET ROLE", []string{"set-role"}},
		{"SET SESSION AUTHORIZATION bob", []string{"set-role"}},
		{"SET LOCAL SESSION AUTHORIZATION DEFAULT", []string{"set-role"}},
		{"RESET SESSION AUTHORIZATION", []string{"set-role"}},
		{`SET "role" = 'tenant_b'`, []string{"set-role"}},
		{"SELECT set_config('role', 'tenant_b', true)", []string{"set-role"}},
		{"SELECT pg_catalog.set_config('Session_Authorization', 'bob', false)", []string{"set-role"}},
		{"ALTER FUNCTION f() SET role = 'admin'", []string{"set-role"}},
		{"CREATE FUNCTION f() RETURNS int LANGUAGE sql SET role TO admin AS $$ SELECT 1 $$", []string{"set-role"}},
		{"INSERT INTO notes VALUES ('SET ROLE admin')", nil},
		{"UPDATE users SET role = 'owner' WHERE id = 1", nil},
		{"SELECT set_config('app.tenant', 'acme', true)", nil},
		{"SET search_path = app", nil},
		{"SET LOCAL statement_timeout = '5s'", nil},
		{"CREATE TABLE t (set_role text, role text)", nil},

		// bypass
		{"ALTER ROLE app BYPASSRLS", []string{"alter-role", "bypass"}},
		{"ALTER TABLE accounts OWNER TO tenant_b", []string{"bypass"}},
		{"alter function f()\n  owner to postgres", []string{"bypass"}},
		{"ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC", []string{"bypass"}},
		{"SET row_security = off", []string{"bypass"}},
		{"SELECT set_config('row_security', 'off', false)", []string{"bypass"}},
		{"COPY accounts TO '/tmp/accounts.csv'", []string{"bypass"}},
		{"COPY accounts FROM PROGRAM 'curl http://example.com'", []string{"bypass"}},
		{"COPY (SELECT * FROM accounts) TO '/tmp/x'", []string{"bypass"}},
		{"CREATE SCHEMA other", []string{"bypass"}},
		{"DROP SCHEMA app CASCADE", []string{"bypass"}},
		{"ALTER SCHEMA app RENAME TO app2", []string{"bypass"}},
		{"CREATE DATABASE other", []string{"bypass"}},
		{"DROP DATABASE other", []string{"bypass"}},
		{"ALTER DATABASE app SET row_security = off", []string{"bypass"}},
		{"LOAD 'auto_explain'", []string{"bypass"}},
		{"ALTER SYSTEM SET work_mem = '1GB'", []string{"bypass"}},
		{"CREATE USER MAPPING FOR tenant_app SERVER other OPTIONS (user 'postgres')", []string{"bypass"}},
		{"ALTER TABLE accounts RENAME COLUMN owner TO holder", nil},
		{"ALTER TABLE accounts RENAME owner TO holder", nil},
		{"ALTER SEQUENCE accounts_id_seq OWNED BY accounts.id", nil},
		{"CREATE TABLE t (owner text, bypassrls_note text)", nil},
		{"INSERT INTO t VALUES ('bypassrls')", nil},
		{"COPY accounts FROM STDIN", nil},
		{"COPY accounts (program) TO STDOUT", nil},
		{"RESET row_security", nil},
		{"CREATE TABLE schema_versions (id int)", nil},

		// transaction-control
		{"BEGIN", []string{"transaction-control"}},
		{"COMMIT", []string{"transaction-control"}},
		{"ROLLBACK", []string{"transaction-control"}},
		{"ABORT", []string{"transaction-control"}},
		{"START TRANSACTION ISOLATION LEVEL SERIALIZABLE", []string{"transaction-control"}},
		{"SAVEPOINT a", []string{"transaction-control"}},
		{"RELEASE SAVEPOINT a", []string{"transaction-control"}},
		{"END", []string{"transaction-control"}},
		{"PREPARE TRANSACTION 'x'", []string{"transaction-control"}},
		{"CREATE INDEX CONCURRENTLY accounts_name ON accounts (name)", []string{"transaction-control"}},
		{"create unique index\n  concurrently accounts_name ON accounts (name)", []string{"transaction-control"}},
		{"DROP INDEX CONCURRENTLY accounts_name", []string{"transaction-control"}},
		{"REINDEX TABLE CONCURRENTLY accounts", []string{"transaction-control"}},
		{"ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY", []string{"transaction-control"}},
		{"VACUUM (ANALYZE) accounts", []string{"transaction-control"}},
		{"DISCARD ALL", []string{"transaction-control"}},
		{"CREATE INDEX accounts_name ON accounts (name)", nil},
		{"ANALYZE accounts", nil},
		{"CREATE TABLE periods (begin_at timestamptz, end_at timestamptz, commit text)", nil},
		{"SELECT 'COMMIT'", nil},
		{"PREPARE q AS SELECT 1", nil},
		{"DO $$ BEGIN PERFORM 1; END $$", nil},
		{"CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$", nil},

		// quoted code: DO blocks, function bodies, EXECUTE strings
		{"DO $$ BEGIN EXECUTE 'SET ROLE admin'; END $$", []string{"set-role"}},
		{"DO $$ BEGIN SET ROLE admin; END $$", []string{"set-role"}},
		{"DO 'BEGIN EXECUTE ''SET ROLE admin''; END'", []string{"set-role"}},
		{"DO $$ BEGIN IF true THEN ALTER TABLE t DISABLE ROW LEVEL SECURITY; END IF; END $$", []string{"disable-rls"}},
		{"CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM set_config('role', 'x', true); END $$", []string{"set-role"}},
		{"DO $$ BEGIN EXECUTE format('GRANT %I TO %I', 'a', 'b'); END $$", []string{"alter-role"}},
		{"DO $do$ BEGIN EXECUTE 'CREATE FUNCTION g() RETURNS int LANGUAGE sql SECURITY DEFINER AS $g$ SELECT 1 $g$'; END $do$", []string{"security-definer"}},
		{"CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f('SET ROLE x')", []string{"set-role"}},
		{"DO $$ BEGIN UPDATE users SET role = 'admin'; END $$", nil},
		{"CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'role %', current_user; END $$", nil},
		{"DO $$ DECLARE r text := 'x'; BEGIN INSERT INTO audit VALUES (r); END $$", nil},
		// The documented price of reading strings in quoted code as SQL.
		{"DO $$ BEGIN RAISE NOTICE 'create schema later'; END $$", []string{"bypass"}},
	} {
		got := rules(lintSQL(t, tc.sql))
		if !slices.Equal(got, tc.want) {
			t.Errorf("Lint(%q) rules = %q, want %q", tc.sql, got, tc.want)
		}
	}
}

func TestLintFindings(t *testing.T) {
	set, err := LoadFS(fstest.MapFS{
		"db/migrations/0001_a.up.sql": {Data: []byte("CREATE TABLE a (id int);\n\nGRANT SELECT ON a TO PUBLIC;\n")},
		"db/migrations/0002_b.sql": {Data: []byte("-- +goose Up\n" +
			"-- +goose StatementBegin\n" +
			"CREATE TABLE b (id int);\n" +
			"ALTER TABLE b OWNER TO other;\n" +
			"-- +goose StatementEnd\n" +
			"DO $$\n" +
			"BEGIN\n" +
			"  EXECUTE 'SET ROLE admin';\n" +
			"END\n" +
			"$$;\n")},
	}, "db/migrations")
	if err != nil {
		t.Fatal(err)
	}
	got := Lint(set)
	want := []Finding{
		{File: "db/migrations/0001_a.up.sql", Line: 3, Statement: "GRANT SELECT ON a TO PUBLIC", Rule: "grant-public"},
		{File: "db/migrations/0002_b.sql", Line: 4, Statement: "ALTER TABLE b OWNER TO other", Rule: "bypass"},
		{File: "db/migrations/0002_b.sql", Line: 8, Statement: "SET ROLE admin", Rule: "set-role"},
	}
	if len(got) != len(want) {
		t.Fatalf("Lint = %+v, want %d findings", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.File != w.File || g.Line != w.Line || g.Statement != w.Statement || g.Rule != w.Rule {
			t.Errorf("finding %d = %s:%d %s %q, want %s:%d %s %q", i, g.File, g.Line, g.Rule, g.Statement, w.File, w.Line, w.Rule, w.Statement)
		}
		if g.Reason == "" {
			t.Errorf("finding %d has no reason", i)
		}
	}
	if !strings.HasPrefix(got[2].Reason, nestedPrefix) {
		t.Errorf("a finding in quoted code does not say so: %q", got[2].Reason)
	}

	err = FindingsError(got)
	wantErr := "migrations refused, nothing was run:\n" +
		"  db/migrations/0001_a.up.sql:3: grant-public: " + got[0].Reason + "\n" +
		"    GRANT SELECT ON a TO PUBLIC\n" +
		"  db/migrations/0002_b.sql:4: bypass: " + got[1].Reason + "\n" +
		"    ALTER TABLE b OWNER TO other\n" +
		"  db/migrations/0002_b.sql:8: set-role: " + got[2].Reason + "\n" +
		"    SET ROLE admin"
	if err == nil || err.Error() != wantErr {
		t.Errorf("FindingsError =\n%v\nwant\n%s", err, wantErr)
	}
	if FindingsError(nil) != nil {
		t.Error("FindingsError(nil) is not nil")
	}
	if Lint(nil) != nil || Lint(&Set{}) != nil {
		t.Error("Lint of an empty set has findings")
	}
}

func TestLintStatementExcerpt(t *testing.T) {
	long := "GRANT SELECT ON " + strings.Repeat("très_long_nom, ", 20) + "z TO PUBLIC"
	f := lintSQL(t, long)
	if len(f) != 1 {
		t.Fatalf("findings = %+v", f)
	}
	if n := utf8.RuneCountInString(f[0].Statement); n != 120 || !strings.HasSuffix(f[0].Statement, "…") ||
		!strings.HasPrefix(f[0].Statement, "GRANT SELECT ON très_long_nom,") {
		t.Errorf("Statement = %q (%d characters)", f[0].Statement, n)
	}
	f = lintSQL(t, "ALTER TABLE t\n\t  DISABLE ROW LEVEL SECURITY")
	if len(f) != 1 || f[0].Statement != "ALTER TABLE t DISABLE ROW LEVEL SECURITY" {
		t.Errorf("findings = %+v", f)
	}
}
