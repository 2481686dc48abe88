//go:build integration

// Package migrate_test rolls the application's schema out across a fleet
// of every tier through the built tenantctl, against the local platform
// `make test` starts: the same SQL on every tier, a failing tenant that
// stops the wave, contract migrations held back, drift, hostile migrations
// refused, two rollouts at once, a rollout killed half way, and tenants
// created during a rollout.
//
// The platform's shared schema is one target with one history, so the
// scenarios run in order in one test, each adding migrations to the one
// directory the platform stack names.
package migrate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/jackc/pgx/v5"

	"github.com/tenantstack/tenantstack/internal/audit"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/migrate"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

func bin(t *testing.T) string { return testenv.TenantctlPath(t) }

func tenantctl(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return testenv.Tenantctl(t, args...)
}

func must(t *testing.T, args ...string) string {
	t.Helper()
	return testenv.MustTenantctl(t, args...)
}

// refused runs a command that must fail with code, changing nothing, and
// whose stderr must say want.
func refused(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	out, errOut, got := tenantctl(t, args...)
	if got != code || !strings.Contains(errOut, want) {
		t.Fatalf("tenantctl %s: exit %d (want %d), stderr must say %q\nstdout: %s\nstderr: %s", strings.Join(args, " "), got, code, want, out, errOut)
	}
}

type fixture struct {
	t     *testing.T
	dir   string
	admin string // admin URL of the platform database
}

func (f *fixture) write(name, sql string) {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(sql), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) remove(name string) {
	f.t.Helper()
	if err := os.Remove(filepath.Join(f.dir, name)); err != nil {
		f.t.Fatal(err)
	}
}

// exec runs sql as the admin in database db ("" for the platform's).
func (f *fixture) exec(db, sql string, args ...any) {
	f.t.Helper()
	if err := f.tryExec(db, sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

func (f *fixture) tryExec(db, sql string, args ...any) error {
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(f.admin)
	if err != nil {
		return err
	}
	if db != "" {
		cfg.Database = db
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

func (f *fixture) status() migrate.Status {
	f.t.Helper()
	var st migrate.Status
	if err := json.Unmarshal([]byte(must(f.t, "migrate", "status", "-o", "json")), &st); err != nil {
		f.t.Fatal(err)
	}
	return st
}

// versions maps every target to its version.
func (f *fixture) versions() map[string]int64 {
	out := map[string]int64{}
	for _, t := range f.status().Targets {
		out[t.Target] = t.Version
	}
	return out
}

func (f *fixture) expectAll(v int64) {
	f.t.Helper()
	for target, got := range f.versions() {
		if got != v {
			f.t.Fatalf("target %s at version %d, want %d: %v", target, got, v, f.versions())
		}
	}
}

// login connects as a tenant through PgBouncer, the way applications do.
func login(t *testing.T, c fleet.Credentials) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(c.Postgres.PoolerURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("%s logs in through PgBouncer: %v", c.Tenant, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func credentials(t *testing.T, name string) fleet.Credentials {
	t.Helper()
	var c fleet.Credentials
	if err := json.Unmarshal([]byte(must(t, "credentials", name, "-o", "json")), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func copyLedger(t *testing.T, dir string, files ...string) {
	t.Helper()
	testenv.CopyLedger(t, dir, files...)
}

func TestFleetMigrations(t *testing.T) {
	env := testenv.Platform(t)
	f := &fixture{t: t, dir: t.TempDir(), admin: strings.TrimSuffix(env.Postgres.AdminURL, "/postgres") + "/platform"}
	copyLedger(t, f.dir, "0001_currencies.up.sql", "0001_currencies.down.sql", "0002_accounts.sql", "0003_transactions.sql")

	// A directory that would weaken isolation is refused before the
	// platform changes.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "0001_open.up.sql"), []byte("GRANT SELECT ON ALL TABLES IN SCHEMA app TO PUBLIC;"), 0o644); err != nil {
		t.Fatal(err)
	}
	refused(t, 2, "grant-public", "platform", "up", "--migrations", bad)
	must(t, "platform", "up", "--migrations", f.dir)
	must(t, "migrate", "up", "--yes")
	f.expectAll(3)
	var log []audit.Record
	if err := json.Unmarshal([]byte(must(t, "audit", "--since", "1h", "-o", "json")), &log); err != nil {
		t.Fatal(err)
	}
	if n := len(log); n == 0 || log[n-1].Command != "migrate up" || log[n-1].ExitCode != 0 {
		t.Fatalf("the rollout left no audit record: %+v", log)
	}

	suffix := strings.ToLower(random.UniqueId())
	tenants := map[string]string{"sha-" + suffix: "shared", "shb-" + suffix: "shared", "sch-" + suffix: "schema", "db-" + suffix: "database"}
	names := make([]string, 0, len(tenants))
	for name, tier := range tenants {
		must(t, "create", name, "--tier", tier)
		names = append(names, name)
	}
	slices.Sort(names)
	t.Cleanup(func() {
		for _, n := range names {
			tenantctl(t, "delete", n, "--yes")
		}
	})
	sch, db, sha := "sch-"+suffix, "db-"+suffix, "sha-"+suffix
	// Every later tenant needs the role migration 0010 counts (see below).
	t.Cleanup(func() { _ = f.tryExec("", `DROP ROLE IF EXISTS mig_gate_`+suffix) })

	t.Run("the same SQL works for a tenant of every tier", func(t *testing.T) {
		ctx := context.Background()
		for _, n := range names {
			c := login(t, credentials(t, n))
			if _, err := c.Exec(ctx, `INSERT INTO accounts (name, currency) VALUES ('operating', 'EUR')`); err != nil {
				t.Fatalf("%s (%s): %v", n, tenants[n], err)
			}
			if _, err := c.Exec(ctx, `INSERT INTO transactions (account_id, amount_minor) SELECT id, 250 FROM accounts`); err != nil {
				t.Fatalf("%s (%s): %v", n, tenants[n], err)
			}
			var owners []string
			rows, err := c.Query(ctx, `SELECT DISTINCT tenant_id FROM accounts`)
			if err == nil {
				owners, err = pgx.CollectRows(rows, pgx.RowTo[string])
			}
			if err != nil || !slices.Equal(owners, []string{n}) {
				t.Fatalf("%s sees the accounts of %v (%v); want only its own", n, owners, err)
			}
			var balance int64
			if err := c.QueryRow(ctx, `SELECT balance_minor FROM accounts`).Scan(&balance); err != nil || balance != 250 {
				t.Fatalf("%s: balance %d (%v); the trigger books the transaction", n, balance, err)
			}
			var currencies int
			if err := c.QueryRow(ctx, `SELECT count(*) FROM currencies`).Scan(&currencies); err != nil || currencies != 4 {
				t.Fatalf("%s reads %d currencies (%v)", n, currencies, err)
			}
			if _, err := c.Exec(ctx, `INSERT INTO currencies VALUES ('XXX', 'forged', 2)`); err == nil || !strings.Contains(err.Error(), "permission denied") {
				t.Fatalf("%s wrote reference data: %v", n, err)
			}
			if _, err := c.Exec(ctx, `INSERT INTO accounts (tenant_id, name, currency) VALUES ('someone-else', 'x', 'EUR')`); err == nil {
				t.Fatalf("%s wrote a row for another tenant", n)
			}
		}
	})

	t.Run("migrations that would weaken isolation are refused and nothing changes", func(t *testing.T) {
		for _, h := range []struct{ rule, sql string }{
			{"alter-role", "ALTER ROLE app_tenant BYPASSRLS;"},
			{"grant-public", "GRANT SELECT ON accounts TO PUBLIC;"},
			{"disable-rls", "ALTER TABLE accounts DISABLE ROW LEVEL SECURITY;"},
			{"disable-rls", "ALTER TABLE accounts NO FORCE ROW LEVEL SECURITY;"},
			{"drop-policy", "DROP POLICY tenant_isolation ON accounts;"},
			{"security-definer", "CREATE FUNCTION all_accounts() RETURNS SETOF accounts LANGUAGE sql SECURITY DEFINER AS 'SELECT * FROM accounts';"},
			{"create-extension", "CREATE EXTENSION pgcrypto;"},
			{"set-role", "SET ROLE postgres;"},
			{"set-role", "DO $$ BEGIN EXECUTE 'RESET ROLE'; END $$;"},
		} {
			f.write("0004_hostile.up.sql", "CREATE TABLE innocent (id int);\n"+h.sql+"\n")
			refused(t, 2, h.rule, "migrate", "up", "--yes")
			refused(t, 2, h.rule, "migrate", "plan")
		}
		f.remove("0004_hostile.up.sql")
		f.write("0005_gap.up.sql", "CREATE TABLE gap (id int);")
		refused(t, 2, "version 4 is missing", "migrate", "up", "--yes")
		f.remove("0005_gap.up.sql")
		f.write("0004_empty.up.sql", "-- nothing\n")
		refused(t, 2, "0004_empty.up.sql", "migrate", "up", "--yes")
		f.remove("0004_empty.up.sql")
		// An applied file edited.
		orig, err := os.ReadFile(filepath.Join(f.dir, "0002_accounts.sql"))
		if err != nil {
			t.Fatal(err)
		}
		f.write("0002_accounts.sql", strings.Replace(string(orig), "balance_minor bigint", "balance_minor numeric", 1))
		refused(t, 2, "0002_accounts.sql was edited after target", "migrate", "up", "--yes")
		f.write("0002_accounts.sql", string(orig))
		f.expectAll(3)
		if f.tryExec("", `SELECT 'app.innocent'::regclass`) == nil {
			t.Fatal("a refused migration created a table")
		}
	})

	t.Run("a failing tenant stops the wave, the others are untouched, a re-run completes", func(t *testing.T) {
		// The schema-tier tenant's data violates the new constraint.
		f.exec("", `UPDATE `+pgx.Identifier{tenantspec.SchemaName(sch), "accounts"}.Sanitize()+` SET balance_minor = -5`)
		f.write("0004_no_overdraft.up.sql", "ALTER TABLE accounts ADD CONSTRAINT no_overdraft CHECK (balance_minor >= 0);\n")
		out, errOut, code := tenantctl(t, "migrate", "up", "--canary", db, "--parallel", "1", "--yes")
		if code != 1 || !strings.Contains(errOut, "target "+sch+": 0004_no_overdraft.up.sql:1") || !strings.Contains(errOut, "SQLSTATE 23514") ||
			!strings.Contains(errOut, "ALTER TABLE accounts ADD CONSTRAINT no_overdraft") {
			t.Fatalf("exit %d; the error must name the tenant, file, line, statement and SQLSTATE\nstdout: %s\nstderr: %s", code, out, errOut)
		}
		st := f.status()
		for _, ts := range st.Targets {
			switch ts.Target {
			case db:
				if ts.Version != 4 {
					t.Fatalf("the canary %s is at %d", db, ts.Version)
				}
			case sch:
				if ts.Version != 3 || ts.Failure == nil || ts.Failure.SQLState != "23514" {
					t.Fatalf("the failed tenant: %+v", ts)
				}
			default:
				if ts.Version != 3 {
					t.Fatalf("%s was started after the failure: version %d", ts.Target, ts.Version)
				}
			}
		}
		list := must(t, "list")
		if !strings.Contains(list, "3 (failed)") {
			t.Fatalf("list does not show the failure:\n%s", list)
		}
		f.exec("", `UPDATE `+pgx.Identifier{tenantspec.SchemaName(sch), "accounts"}.Sanitize()+` SET balance_minor = 0`)
		must(t, "migrate", "up", "--parallel", "4", "--yes")
		f.expectAll(4)
		if st := f.status(); st.Failed != 0 {
			t.Fatalf("failures left after the re-run: %+v", st)
		}
	})

	t.Run("a contract migration is held back until asked", func(t *testing.T) {
		expand, _ := os.ReadFile("../../examples/ledger/migrations/0004_accounts_display_name_expand.up.sql")
		contract, _ := os.ReadFile("../../examples/ledger/migrations/0005_accounts_display_name_contract.up.sql")
		f.write("0005_display_name_expand.up.sql", string(expand))
		f.write("0006_display_name_contract.up.sql", string(contract))
		var plan migrate.Plan
		if err := json.Unmarshal([]byte(must(t, "migrate", "plan", "-o", "json")), &plan); err != nil {
			t.Fatal(err)
		}
		if plan.Goal != 5 || !slices.Equal(plan.Held, []int64{6}) {
			t.Fatalf("plan: goal %d held %v", plan.Goal, plan.Held)
		}
		must(t, "migrate", "up", "--yes")
		f.expectAll(5)
		// Old code writes name, new code display_name: both work.
		c := login(t, credentials(t, sha))
		if _, err := c.Exec(context.Background(), `INSERT INTO accounts (display_name, currency) VALUES ('new code', 'USD')`); err != nil {
			t.Fatal(err)
		}
		var name string
		if err := c.QueryRow(context.Background(), `SELECT name FROM accounts WHERE display_name = 'new code'`).Scan(&name); err != nil || name != "new code" {
			t.Fatalf("dual write: name %q, %v", name, err)
		}
		must(t, "migrate", "up", "--contract", "--yes")
		f.expectAll(6)
		if _, err := c.Exec(context.Background(), `SELECT name FROM accounts`); err == nil {
			t.Fatal("the contract migration did not drop accounts.name")
		}
	})

	t.Run("a table altered by hand is drift", func(t *testing.T) {
		tbl := pgx.Identifier{tenantspec.SchemaName(sch), "accounts"}.Sanitize()
		f.exec("", `ALTER TABLE `+tbl+` ADD COLUMN by_hand integer`)
		st := f.status()
		var drift []string
		for _, ts := range st.Targets {
			if ts.Target == sch {
				drift = ts.Drift
			} else if len(ts.Drift) > 0 {
				t.Fatalf("%s reported drift it does not have: %v", ts.Target, ts.Drift)
			}
		}
		if !slices.Contains(drift, "+ column accounts.by_hand integer") {
			t.Fatalf("drift of %s = %v", sch, drift)
		}
		f.exec("", `ALTER TABLE `+tbl+` DROP COLUMN by_hand`)
		if st := f.status(); st.Drifted != 0 {
			t.Fatalf("drift after the repair: %+v", st)
		}
	})

	t.Run("two rollouts at once: the second is refused", func(t *testing.T) {
		f.write("0007_slow.up.sql", "SELECT pg_sleep(1);\n")
		first := exec.Command(bin(t), "migrate", "up", "--canary", "0", "--parallel", "1", "--yes")
		var firstErr syncBuffer
		first.Stderr = &firstErr
		if err := first.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return strings.Contains(firstErr.String(), "wave rest") })
		refused(t, 4, "another rollout is running", "migrate", "up", "--yes")
		if err := first.Wait(); err != nil {
			t.Fatalf("the first rollout: %v\n%s", err, firstErr.String())
		}
		f.expectAll(7)
	})

	t.Run("a rollout killed half way is completed by a re-run", func(t *testing.T) {
		f.write("0008_slow.up.sql", "CREATE TABLE audit_note (tenant_id text NOT NULL, note text);\nSELECT pg_sleep(1.5);\n")
		run := exec.Command(bin(t), "migrate", "up", "--canary", "0", "--parallel", "1", "--yes")
		var stderr syncBuffer
		run.Stderr = &stderr
		if err := run.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return strings.Contains(stderr.String(), "[1/") })
		if err := run.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = run.Wait()
		v := f.versions()
		done, left := 0, 0
		for _, x := range v {
			switch x {
			case 8:
				done++
			case 7:
				left++
			default:
				t.Fatalf("a target at %d after the kill: %v", x, v)
			}
		}
		if done == 0 || left == 0 {
			t.Fatalf("the kill was not half way: %v", v)
		}
		// The killed run's lock went with its connection.
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, errOut, code := tenantctl(t, "migrate", "up", "--parallel", "4", "--yes")
			if code == 0 {
				break
			}
			if code != 4 || time.Now().After(deadline) {
				t.Fatalf("the re-run: exit %d: %s", code, errOut)
			}
			time.Sleep(500 * time.Millisecond)
		}
		f.expectAll(8)
	})

	t.Run("a tenant created during a rollout ends at the fleet's version", func(t *testing.T) {
		f.write("0009_slow.up.sql", "ALTER TABLE audit_note ADD COLUMN at timestamptz;\nSELECT pg_sleep(1);\n")
		run := exec.Command(bin(t), "migrate", "up", "--canary", "0", "--parallel", "1", "--yes")
		var stderr syncBuffer
		run.Stderr = &stderr
		if err := run.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return strings.Contains(stderr.String(), "wave rest") })
		late := "late-" + suffix
		names = append(names, late)
		must(t, "create", late, "--tier", "schema")
		if err := run.Wait(); err != nil {
			t.Fatalf("the rollout: %v\n%s", err, stderr.String())
		}
		f.expectAll(9)
		if st := f.status(); st.Drifted != 0 || st.Behind != 0 {
			t.Fatalf("after a create during a rollout: %+v", st)
		}
	})

	t.Run("a create whose migration fails is incomplete until run again", func(t *testing.T) {
		// The migration needs a role that exists now and is dropped before
		// the next create.
		f.exec("", `CREATE ROLE mig_gate_`+suffix+` NOLOGIN`)
		f.write("0010_gated.up.sql", fmt.Sprintf("SELECT 1 / count(*) FROM pg_catalog.pg_roles WHERE rolname = 'mig_gate_%s';\n", suffix))
		must(t, "migrate", "up", "--yes")
		f.exec("", `DROP ROLE mig_gate_`+suffix)
		gated := "gated-" + suffix
		names = append(names, gated)
		refused(t, 1, "is created but not ready", "create", gated, "--tier", "database")
		got := must(t, "get", gated)
		if !strings.Contains(got, "(failed)") && !strings.Contains(got, "(behind)") {
			t.Fatalf("get does not show the incomplete schema:\n%s", got)
		}
		f.exec("", `CREATE ROLE mig_gate_`+suffix+` NOLOGIN`)
		must(t, "create", gated, "--tier", "database")
		f.expectAll(10)
	})

	t.Run("a tenant deleted and created again gets its tables anew", func(t *testing.T) {
		c := login(t, credentials(t, sch))
		if _, err := c.Exec(context.Background(), `INSERT INTO transactions (account_id, amount_minor) SELECT id, 5 FROM accounts`); err != nil {
			t.Fatal(err)
		}
		c.Close(context.Background())
		// Rows in app referencing each other go too (transactions before accounts).
		out := must(t, "delete", sha, "--yes", "-o", "json")
		if !strings.Contains(out, "rows in shared tables") {
			t.Fatalf("delete of %s removed no shared rows: %s", sha, out)
		}
		must(t, "create", sha, "--tier", "shared")
		must(t, "delete", sch, "--yes")
		must(t, "create", sch, "--tier", "schema")
		f.expectAll(10)
		var n int
		if err := login(t, credentials(t, sch)).QueryRow(context.Background(), `SELECT count(*) FROM accounts`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the new %s has its tables (%v) and none of the old rows (%d)", sch, err, n)
		}
	})

	shb := "shb-" + suffix
	t.Run("verify attacks the application's tables", func(t *testing.T) {
		out := must(t, "verify", sha, "--against", shb, "--against", sch, "--against", db)
		for _, probe := range []string{"reach other tenant's rows in application tables", "alter the application's tables", "read the schema version tables"} {
			if !strings.Contains(out, probe) {
				t.Fatalf("verify did not run %q:\n%s", probe, out)
			}
		}
	})

	// Each weakening must make verify fail (exit 6) with the probe that
	// sees it, and verify pass again once it is undone.
	roleA := tenantspec.RoleName(sha)
	for _, w := range []struct {
		name, do, undo, probe, detail string
	}{
		{"a tenant table added by hand without row-level security",
			`CREATE TABLE app.by_hand (tenant_id text NOT NULL, secret text); GRANT SELECT ON app.by_hand TO app_tenant;
			 INSERT INTO app.by_hand VALUES ('` + shb + `', 'b''s secret')`,
			`DROP TABLE app.by_hand`,
			"row-level security on shared tables", "app.by_hand: row-level security is disabled"},
		{"the schema version table readable by a tenant",
			`GRANT USAGE ON SCHEMA tenantstack TO ` + roleA + `; GRANT SELECT ON tenantstack.schema_versions TO ` + roleA,
			`REVOKE SELECT ON tenantstack.schema_versions FROM ` + roleA + `; REVOKE USAGE ON SCHEMA tenantstack FROM ` + roleA,
			"read the schema version tables", "read tenantstack.schema_versions"},
		{"a tenant made owner of the shared tables",
			`GRANT app_owner TO ` + roleA,
			`REVOKE app_owner FROM ` + roleA,
			"alter the application's tables", "can change the application's tables"},
	} {
		t.Run("verify fails: "+w.name, func(t *testing.T) {
			f.exec("", w.do)
			undone := false
			undo := func() {
				if !undone {
					f.exec("", w.undo)
					undone = true
				}
			}
			t.Cleanup(undo)
			out, errOut, code := tenantctl(t, "verify", sha, "--against", shb)
			if code != 6 || !strings.Contains(out, w.probe) || !strings.Contains(out, w.detail) {
				t.Fatalf("verify after %q: exit %d (want 6); its output must name %q with %q\nstdout: %s\nstderr: %s", w.name, code, w.probe, w.detail, out, errOut)
			}
			undo()
			must(t, "verify", sha, "--against", shb)
		})
	}
}

// syncBuffer is a buffer a child process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
