//go:build integration

// Package move_test moves a live tenant between every pair of tiers while
// its application writes and reads through PgBouncer, and checks after
// each move that no write was lost or doubled, no read failed or saw
// another tenant's rows, the other tenants' rows were not touched, and the
// old copy is gone. It also kills moves half way, aborts one, and checks
// the refusals.
package move_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/jackc/pgx/v5"

	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

func must(t *testing.T, args ...string) string {
	t.Helper()
	return testenv.MustTenantctl(t, args...)
}

func credentials(t *testing.T, name string) (tenantspec.Credentials, error) {
	out, errOut, code := testenv.Tenantctl(t, "credentials", name, "-o", "json")
	if code != 0 {
		return tenantspec.Credentials{}, fmt.Errorf("tenantctl credentials %s: exit %d: %s", name, code, errOut)
	}
	var c tenantspec.Credentials
	return c, json.Unmarshal([]byte(out), &c)
}

// fixture is the platform database, as the admin.
type fixture struct {
	t     *testing.T
	admin string // the admin URL of the platform database
}

func (f *fixture) conn(db string) *pgx.Conn {
	f.t.Helper()
	cfg, err := pgx.ParseConfig(f.admin)
	if err != nil {
		f.t.Fatal(err)
	}
	if db != "" {
		cfg.Database = db
	}
	c, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) scalar(db, sql string, args ...any) string {
	f.t.Helper()
	c := f.conn(db)
	defer c.Close(context.Background())
	var s string
	if err := c.QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// rowsOf is a digest of a tenant's rows of the shared tables.
func (f *fixture) sharedRowsOf(tenant string) string {
	return f.scalar("", `SELECT (SELECT count(*) || ':' || coalesce(sum(hashtextextended(a::text, 0)), 0) FROM app.accounts a WHERE tenant_id = $1)
		|| '/' || (SELECT count(*) || ':' || coalesce(sum(hashtextextended(x::text, 0)), 0) FROM app.transactions x WHERE tenant_id = $1)`, tenant)
}

// tenantView is what the tenant itself reads of its tables.
type tenantView struct {
	Accounts, Foreign, Transactions int64
	Names                           map[string]int
	Balance                         int64 // of the application's accounts
}

func view(t *testing.T, name string) tenantView {
	t.Helper()
	c, err := credentials(t, name)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.Postgres.URL)
	if err != nil {
		t.Fatalf("%s logs in with its credentials after the move: %v", name, err)
	}
	defer conn.Close(ctx)
	v := tenantView{Names: map[string]int{}}
	if err := conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE tenant_id <> $1), (SELECT count(*) FROM transactions),
		coalesce(sum(balance_minor) FILTER (WHERE name LIKE 'app-%'), 0) FROM accounts`, name).Scan(&v.Accounts, &v.Foreign, &v.Transactions, &v.Balance); err != nil {
		t.Fatalf("%s reads its tables after the move: %v", name, err)
	}
	rows, err := conn.Query(ctx, `SELECT name, count(*) FROM accounts WHERE name LIKE 'app-%' GROUP BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		var k int
		if err := rows.Scan(&n, &k); err != nil {
			t.Fatal(err)
		}
		v.Names[n] = k
	}
	return v
}

func TestMoveEveryDirection(t *testing.T) {
	env := testenv.Platform(t)
	f := &fixture{t: t, admin: strings.TrimSuffix(env.Postgres.AdminURL, "/postgres") + "/platform"}
	dir := t.TempDir()
	testenv.CopyLedger(t, dir, "0001_currencies.up.sql", "0001_currencies.down.sql", "0002_accounts.sql", "0003_transactions.sql")
	must(t, "platform", "up", "--migrations", dir)
	must(t, "migrate", "up", "--yes")

	suffix := strings.ToLower(random.UniqueId())
	mover, other, third := "mv-"+suffix, "ot-"+suffix, "th-"+suffix
	must(t, "create", mover, "--tier", "shared")
	must(t, "create", other, "--tier", "shared")
	must(t, "create", third, "--tier", "schema")
	t.Cleanup(func() {
		for _, n := range []string{mover, other, third} {
			testenv.Tenantctl(t, "delete", n, "--yes")
		}
	})
	// Seed rows: the mover's are moved, the others' must not be touched.
	ctx := context.Background()
	for _, n := range []string{mover, other, third} {
		c, err := credentials(t, n)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, c.Postgres.URL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO accounts (name, currency) SELECT 'seed-' || g, 'EUR' FROM generate_series(1, 300) g`); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO transactions (account_id, amount_minor) SELECT id, 7 FROM accounts`); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
	}
	otherRows, moverRows := f.sharedRowsOf(other), f.sharedRowsOf(mover)
	thirdRows := f.scalar("", `SELECT count(*) || ':' || sum(hashtextextended(a::text, 0)) FROM `+pgx.Identifier{tenantspec.SchemaName(third)}.Sanitize()+`.accounts a`)

	t.Run("refusals change nothing", func(t *testing.T) {
		out := must(t, "move", mover, "--tier", "shared", "--yes")
		if !strings.Contains(out, "nothing to do") {
			t.Errorf("a move to the current tier: %q; want it to say there is nothing to do", out)
		}
		for _, tc := range []struct {
			args []string
			code int
			says string
		}{
			{[]string{"move", mover, "--tier", "gold", "--yes"}, 2, "shared"},
			{[]string{"move", mover, "--yes"}, 2, "--tier"},
			{[]string{"move", mover, "--tier", "schema"}, 2, "--yes"},
			{[]string{"move", mover, "--abort", "--yes"}, 2, "not moving"},
			{[]string{"move", mover, "--phase", "finalize", "--yes"}, 2, "after the cutover"},
			{[]string{"move", mover, "--tier", "schema", "--phase", "cutover", "--yes"}, 2, "prepare"},
			{[]string{"move", mover, "--tier", "schema", "--finalize", "--retain", "1d", "--yes"}, 2, "choose one"},
			{[]string{"move", "no-such-tenant", "--tier", "schema", "--yes"}, 3, "no-such-tenant"},
			{[]string{"move", mover, "--tier", "database", "--yes"}, 2, "not available yet"},
			{[]string{"move", third, "--tier", "database", "--yes"}, 2, "not available yet"},
		} {
			_, errOut, code := testenv.Tenantctl(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.says) {
				t.Errorf("tenantctl %s: exit %d, %q; want exit %d saying %q", strings.Join(tc.args, " "), code, errOut, tc.code, tc.says)
			}
		}
		// Another tenantctl moving the tenant holds the move's lock.
		c := f.conn("")
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, 0x74736d63, mover); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := testenv.Tenantctl(t, "move", mover, "--tier", "schema", "--yes")
		if code == 0 || !strings.Contains(errOut, "another tenantctl is moving") {
			t.Errorf("a second move of the tenant: exit %d, %q; want it refused", code, errOut)
		}
		if _, err := c.Exec(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, 0x74736d63, mover); err != nil {
			t.Fatal(err)
		}
		if got := f.sharedRowsOf(mover); got != moverRows {
			t.Errorf("the refusals changed the mover's rows: %s, were %s", got, moverRows)
		}
		if n := f.scalar("", `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, tenantspec.SchemaName(mover)); n != "0" {
			t.Errorf("a refused move made a schema")
		}
	})

	t.Run("a prepared move is aborted with nothing lost, and a rollout waits for a move", func(t *testing.T) {
		must(t, "move", mover, "--tier", "schema", "--phase", "prepare", "--yes")
		if n := f.scalar("", `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, tenantspec.SchemaName(mover)); n != "1" {
			t.Fatalf("prepare made no schema for the mover")
		}
		_, errOut, code := testenv.Tenantctl(t, "migrate", "up", "--yes")
		if code == 0 || !strings.Contains(errOut, "moving between tiers") {
			t.Errorf("a rollout during a move: exit %d, %q; want it refused", code, errOut)
		}
		must(t, "move", mover, "--abort", "--yes")
		if n := f.scalar("", `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, tenantspec.SchemaName(mover)); n != "0" {
			t.Errorf("abort left the mover's new schema")
		}
		if n := f.scalar("", `SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'tsmv%'`); n != "0" {
			t.Errorf("abort left %s capture triggers", n)
		}
		if v := view(t, mover); v.Accounts != 300 || v.Foreign != 0 {
			t.Errorf("after the abort the mover reads %d accounts (%d foreign); want its 300", v.Accounts, v.Foreign)
		}
	})

	// Every direction, in a ring that visits each pair once each way.
	// Moves to or from the database tier are refused for now (see the
	// refusals above).
	ring := []tenantspec.Tier{tenantspec.TierSchema, tenantspec.TierShared}
	from := tenantspec.TierShared
	written := map[string]bool{}
	for i, to := range ring {
		t.Run(fmt.Sprintf("%d %s to %s under load", i+1, from, to), func(t *testing.T) {
			app := &testenv.App{Tenant: mover, Amount: 5, Prefix: fmt.Sprintf("%d-", i), Credentials: func() (tenantspec.Credentials, error) { return credentials(t, mover) }}
			if err := app.Start(ctx); err != nil {
				t.Fatal(err)
			}
			time.Sleep(500 * time.Millisecond)
			began := time.Now()
			args := []string{"move", mover, "--tier", string(to), "--finalize", "--yes", "-o", "json"}
			if i == 0 {
				args = append(args, "--verify")
			}
			out, errOut, code := testenv.Tenantctl(t, args...)
			time.Sleep(500 * time.Millisecond)
			st := app.Stop()
			if code != 0 {
				t.Fatalf("tenantctl %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
			}
			var rep fleet.MoveReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Cutover == nil {
				t.Fatalf("the move's report %q: %v", out, err)
			}
			t.Logf("pause %s, %d rows compared, phases %v; app: %d writes (%d retried after 40001), %d reads, %d refused logins, %d reconnects, longest write %s at +%s",
				rep.Cutover.Pause, rep.Cutover.RowsCompared, rep.Timings, len(st.Written), st.Retries, st.Reads, st.Refused, st.Reconnects, st.LongestWrite, st.LongestWriteAt.Sub(began).Round(time.Millisecond))
			if len(st.WriteErrors) > 0 || len(st.ReadErrors) > 0 {
				t.Errorf("the application failed: writes %v, reads %v", st.WriteErrors, st.ReadErrors)
			}
			if st.ForeignRows != 0 {
				t.Errorf("a read saw %d rows of other tenants", st.ForeignRows)
			}
			if len(st.Written) == 0 || st.Reads == 0 {
				t.Errorf("the application did not run: %d writes, %d reads", len(st.Written), st.Reads)
			}
			sameDB := from != tenantspec.TierDatabase && to != tenantspec.TierDatabase
			if sameDB && st.Refused > 0 {
				t.Errorf("a move within one database refused %d logins; the URL and password must keep working", st.Refused)
			}
			for _, n := range st.Written {
				written[n] = true
			}
			v := view(t, mover)
			for n := range written {
				if v.Names[n] != 1 {
					t.Errorf("write %s is there %d times after the move; want once", n, v.Names[n])
				}
			}
			if len(v.Names) != len(written) {
				t.Errorf("the mover holds %d application accounts; the application committed %d", len(v.Names), len(written))
			}
			if v.Accounts != 300+int64(len(written)) || v.Transactions != 300+int64(len(written)) || v.Foreign != 0 {
				t.Errorf("the mover reads %d accounts, %d transactions, %d foreign; want %d, %d, 0",
					v.Accounts, v.Transactions, v.Foreign, 300+len(written), 300+len(written))
			}
			// Copies are written without the application's triggers: the
			// balances are booked once.
			if v.Balance != 5*int64(len(written)) {
				t.Errorf("the application's accounts hold a balance of %d; want %d (one booking per write)", v.Balance, 5*len(written))
			}
			var got fleet.Tenant
			if err := json.Unmarshal([]byte(must(t, "get", mover, "-o", "json")), &got); err != nil || got.Tier != string(to) || got.Moving != "" {
				t.Errorf("get after the move: tier %q moving %q (%v); want %s", got.Tier, got.Moving, err, to)
			}
			if c, err := credentials(t, mover); err != nil || c.Tier != string(to) {
				t.Errorf("the credentials say tier %q (%v); want %s", c.Tier, err, to)
			}
			// The stack describes the new tier: its preview changes nothing.
			var plans []fleet.Plan
			if err := json.Unmarshal([]byte(must(t, "update", mover, "--reconcile", "--dry-run", "-o", "json")), &plans); err != nil || len(plans) != 1 {
				t.Errorf("update --reconcile --dry-run after the move: %v", err)
			} else if len(plans[0].Changes) != 0 {
				t.Errorf("a preview of the tenant's stack after the move would change %+v; want nothing", plans[0].Changes)
			}
			// The old copy is gone.
			switch from {
			case tenantspec.TierShared:
				if got := f.sharedRowsOf(mover); got != "0:0/0:0" {
					t.Errorf("the mover's rows are still in the shared tables: %s", got)
				}
			case tenantspec.TierSchema:
				if n := f.scalar("", `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, tenantspec.SchemaName(mover)); n != "0" {
					t.Errorf("the mover's old schema is still there")
				}
			case tenantspec.TierDatabase:
				if n := f.scalar("", `SELECT count(*) FROM pg_database WHERE datname = $1`, tenantspec.DatabaseName(mover)); n != "0" {
					t.Errorf("the mover's old database is still there")
				}
			}
			if n := f.scalar("", `SELECT count(*) FROM tenantstack.moves`); n != "0" {
				t.Errorf("%s moves are still recorded after the finalize", n)
			}
			if got := f.sharedRowsOf(other); got != otherRows {
				t.Errorf("the other tenant's shared rows changed: %s, were %s", got, otherRows)
			}
			if got := f.scalar("", `SELECT count(*) || ':' || sum(hashtextextended(a::text, 0)) FROM `+pgx.Identifier{tenantspec.SchemaName(third)}.Sanitize()+`.accounts a`); got != thirdRows {
				t.Errorf("the schema-tier tenant's rows changed: %s, were %s", got, thirdRows)
			}
			if rep.Verify != nil && !rep.Verify.Passed {
				t.Errorf("--verify: the isolation probes failed on the new tier")
			}
		})
		from = to
	}
	must(t, "verify", mover)
	must(t, "verify", other)

	t.Run("a move killed in any phase completes when run again", func(t *testing.T) {
		for _, step := range []struct {
			to   tenantspec.Tier
			when string // kill once stderr has this
		}{
			{tenantspec.TierSchema, "capturing the tenant's writes"},
			{tenantspec.TierShared, "prepared:"},
			{tenantspec.TierSchema, "switched to the"},
		} {
			var stderr bytes.Buffer
			cmd := exec.Command(testenv.TenantctlPath(t), "move", mover, "--tier", string(step.to), "--yes")
			cmd.Stderr = &stderr
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			for !strings.Contains(stderr.String(), step.when) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
			if !strings.Contains(stderr.String(), step.when) {
				t.Fatalf("the move never got to %q:\n%s", step.when, stderr.String())
			}
			must(t, "move", mover, "--tier", string(step.to), "--finalize", "--yes")
			v := view(t, mover)
			if v.Accounts != 300+int64(len(written)) || v.Foreign != 0 {
				t.Errorf("after a move to %s killed at %q and run again the mover reads %d accounts (%d foreign); want %d",
					step.to, step.when, v.Accounts, v.Foreign, 300+len(written))
			}
		}
		must(t, "verify", mover)
	})

	t.Run("a tenant deleted during a move leaves nothing of it", func(t *testing.T) {
		gone := "dl-" + suffix
		must(t, "create", gone, "--tier", "shared")
		must(t, "move", gone, "--tier", "schema", "--phase", "prepare", "--yes")
		if n := f.scalar("", `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, tenantspec.SchemaName(gone)); n != "1" {
			t.Fatalf("prepare made no schema for the tenant")
		}
		must(t, "delete", gone, "--yes")
		for what, q := range map[string]string{
			"capture triggers": `SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'tsmv%'`,
			"move records":     `SELECT count(*) FROM tenantstack.moves WHERE tenant_id = '` + gone + `'`,
			"schemas":          `SELECT count(*) FROM pg_namespace WHERE nspname = '` + tenantspec.SchemaName(gone) + `'`,
			"roles":            `SELECT count(*) FROM pg_roles WHERE rolname IN ('` + tenantspec.RoleName(gone) + `', '` + tenantspec.OwnerRoleName(gone) + `')`,
		} {
			if n := f.scalar("", q); n != "0" {
				t.Errorf("the delete left %s %s", n, what)
			}
		}
		if got := f.sharedRowsOf(other); got != otherRows {
			t.Errorf("the other tenant's shared rows changed: %s, were %s", got, otherRows)
		}
	})
}
