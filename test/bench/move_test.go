//go:build integration

package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantstack/tenantstack/internal/devplatform"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

// eventsMigration is the bench's third tenant table, next to the ledger
// example's accounts and transactions.
const eventsMigration = `-- +goose Up
CREATE TABLE events (
	tenant_id  text        NOT NULL,
	id         bigint      GENERATED ALWAYS AS IDENTITY,
	kind       text        NOT NULL,
	payload    jsonb       NOT NULL DEFAULT '{}',
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id)
);
-- +goose Down
DROP TABLE events;
`

// BenchmarkMove moves a tenant holding BENCH_ROWS rows (default
// 1,000,000: a fifth in accounts, three fifths in transactions, a fifth in
// events) from BENCH_MOVE_FROM (shared) to BENCH_MOVE_TO (schema) while
// the tenant's application writes and reads through PgBouncer, and a
// neighbour on the shared tier holds rows of its own. It prints the time
// per phase, the longest write pause the writer saw, the reads and writes
// that failed, and the rows compared. It prints figures and asserts none.
// Run it with `make bench-move`.
func BenchmarkMove(b *testing.B) {
	env := testenv.Platform(b)
	ctx := context.Background()
	rows := 1_000_000
	if v := os.Getenv("BENCH_ROWS"); v != "" {
		var err error
		if rows, err = strconv.Atoi(v); err != nil || rows < 5 {
			b.Fatalf("BENCH_ROWS=%q: want a number of at least 5", v)
		}
	}
	from, to := benchTier(b, "BENCH_MOVE_FROM", tenantspec.TierShared), benchTier(b, "BENCH_MOVE_TO", tenantspec.TierSchema)
	if from == to {
		b.Fatalf("BENCH_MOVE_FROM and BENCH_MOVE_TO are both %s", from)
	}

	dir := b.TempDir()
	testenv.CopyLedger(b, dir, "0001_currencies.up.sql", "0001_currencies.down.sql", "0002_accounts.sql", "0003_transactions.sql")
	if err := os.WriteFile(filepath.Join(dir, "0004_events.sql"), []byte(eventsMigration), 0o644); err != nil {
		b.Fatal(err)
	}
	testenv.MustTenantctl(b, "platform", "up", "--migrations", dir)
	testenv.MustTenantctl(b, "migrate", "up", "--yes")
	name, neighbour := "bmove", "bneighbour"
	testenv.MustTenantctl(b, "create", name, "--tier", string(from))
	testenv.MustTenantctl(b, "create", neighbour, "--tier", "shared")

	// Seed as the admin, in the tenant's storage, with the application's
	// triggers off (the balances are not the point here).
	t0 := time.Now()
	seed(b, env, name, from, rows)
	seed(b, env, neighbour, tenantspec.TierShared, 10_000)
	fmt.Printf("move-bench: seeded %d rows of %s on the %s tier in %.1fs\n", rows, name, from, time.Since(t0).Seconds())

	credentials := func() (tenantspec.Credentials, error) {
		out, errOut, code := testenv.Tenantctl(b, "credentials", name, "-o", "json")
		if code != 0 {
			return tenantspec.Credentials{}, fmt.Errorf("tenantctl credentials %s: exit %d: %s", name, code, errOut)
		}
		var c tenantspec.Credentials
		return c, json.Unmarshal([]byte(out), &c)
	}
	app := &testenv.App{Tenant: name, Amount: 3, Prefix: "bench-", Credentials: credentials}
	if err := app.Start(ctx); err != nil {
		b.Fatal(err)
	}
	time.Sleep(time.Second)
	began := time.Now()
	out := testenv.MustTenantctl(b, "move", name, "--tier", string(to), "--yes", "-o", "json")
	moved := time.Since(began)
	time.Sleep(time.Second)
	st := app.Stop()
	var rep fleet.MoveReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Cutover == nil || rep.Prepare == nil {
		b.Fatalf("the move's report %q: %v", out, err)
	}
	f0 := time.Now()
	testenv.MustTenantctl(b, "move", name, "--tier", string(to), "--phase", "finalize", "--yes")
	finalized := time.Since(f0)

	fmt.Printf("move-bench: %s -> %s, %d rows in 3 tables, under a writer and a reader through PgBouncer\n", from, to, rep.Prepare.Rows)
	fmt.Printf("move-bench: prepare %.2fs (copy from one snapshot + replay of %d changes), cutover %.2fs, stack %.2fs, finalize %.2fs\n",
		rep.Timings[fleet.PhasePrepare], rep.Prepare.Replayed, rep.Timings[fleet.PhaseCutover], rep.Timings["stack"], finalized.Seconds())
	fmt.Printf("move-bench: whole move (prepare + cutover, as the command ran) %.2fs (target <= 60s)\n", moved.Seconds())
	fmt.Printf("move-bench: write pause held by the cutover %s; longest write the writer saw %s at +%s of the move (target <= 1s)\n",
		rep.Cutover.Pause.Round(time.Millisecond), st.LongestWrite.Round(time.Millisecond), st.LongestWriteAt.Sub(began).Round(time.Millisecond))
	fmt.Printf("move-bench: writes %d (%d retried after 40001), reads %d, failed writes %d, failed reads %d (target 0), refused logins %d, foreign rows seen %d\n",
		len(st.Written), st.Retries, st.Reads, len(st.WriteErrors), len(st.ReadErrors), st.Refused, st.ForeignRows)
	fmt.Printf("move-bench: rows compared at the cutover %d (counts and checksums of %d tables)\n", rep.Cutover.RowsCompared, len(rep.Cutover.Checks))
	for _, e := range append(st.WriteErrors, st.ReadErrors...) {
		fmt.Printf("move-bench: failure: %s\n", e)
	}
}

func benchTier(b *testing.B, key string, def tenantspec.Tier) tenantspec.Tier {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	t, err := tenantspec.ParseTier(v)
	if err != nil {
		b.Fatalf("%s: %v", key, err)
	}
	return t
}

// seed writes n rows of tenant name on tier: a fifth accounts, three
// fifths transactions, a fifth events.
func seed(b *testing.B, env devplatform.Env, name string, tier tenantspec.Tier, n int) {
	b.Helper()
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(strings.TrimSuffix(env.Postgres.AdminURL, "/postgres") + "/platform")
	if err != nil {
		b.Fatal(err)
	}
	schema := "app"
	switch tier {
	case tenantspec.TierSchema:
		schema = tenantspec.SchemaName(name)
	case tenantspec.TierDatabase:
		schema, cfg.Database = "public", tenantspec.DatabaseName(name)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	sch := pgx.Identifier{schema}.Sanitize()
	accounts := n / 5
	for _, q := range []string{
		`SET session_replication_role = replica`,
		fmt.Sprintf(`INSERT INTO %s.accounts (tenant_id, name, currency) SELECT $1, 'seed-' || g, 'EUR' FROM generate_series(1, %d) g`, sch, accounts),
		fmt.Sprintf(`INSERT INTO %[1]s.transactions (tenant_id, account_id, amount_minor)
			SELECT $1, a.id, k FROM %[1]s.accounts a, generate_series(1, 3) k WHERE a.tenant_id = $1 AND a.name LIKE 'seed-%%'`, sch),
		fmt.Sprintf(`INSERT INTO %s.events (tenant_id, kind, payload) SELECT $1, 'seeded', jsonb_build_object('n', g) FROM generate_series(1, %d) g`, sch, n-4*accounts),
		`ANALYZE`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = []any{name}
		}
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			b.Fatalf("seeding %s: %s: %v", name, q, err)
		}
	}
}
