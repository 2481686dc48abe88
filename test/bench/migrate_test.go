//go:build integration

package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/migrate"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

// BenchmarkMigrate measures the application's schema on a fleet: create
// p50 per tier with a 20-migration set, then, on a fleet of BENCH_FLEET
// tenants (default 200; shared, schema and database tiers mixed) with
// 10,000 rows in each tenant's accounts, one migration that adds a column
// with a default and an index, rolled out with --parallel 4: wall time,
// per-target p50/p95, and how long a writer of the canary tenant was
// blocked. It prints figures and asserts none. Run it with
// `make bench-migrate`.
func BenchmarkMigrate(b *testing.B) {
	env := testenv.Platform(b)
	tenantctl := tenantctlPath(b)
	ctx := context.Background()
	size := 200
	if v := os.Getenv("BENCH_FLEET"); v != "" {
		var err error
		if size, err = strconv.Atoi(v); err != nil || size < 3 {
			b.Fatalf("BENCH_FLEET=%q: want a number of at least 3", v)
		}
	}
	dir := b.TempDir()
	writeSet(b, dir, 20)
	run := func(args ...string) string {
		b.Helper()
		out, err := exec.CommandContext(ctx, tenantctl, args...).Output()
		if err != nil {
			msg := ""
			if ee, ok := err.(*exec.ExitError); ok {
				msg = string(ee.Stderr)
			}
			b.Fatalf("tenantctl %s: %v\n%s%s", strings.Join(args, " "), err, out, msg)
		}
		return string(out)
	}
	run("platform", "up", "--migrations", dir)
	run("migrate", "up", "--yes")

	// Create p50 with the 20-migration set, per tier.
	tiers := []string{"shared", "schema", "database"}
	for _, tier := range tiers {
		var secs []float64
		for i := range 5 {
			t0 := time.Now()
			run("create", fmt.Sprintf("c%s-%d", tier[:2], i), "--tier", tier)
			secs = append(secs, time.Since(t0).Seconds())
		}
		fmt.Printf("migrate-bench: create with 20 migrations, tier %-8s p50 %.2fs (target <= 3.5s), each %v\n", tier, quantile(secs, 0.5), round(secs))
	}

	// The fleet, through apply (4 at a time).
	var file fleet.FleetFile
	for i := range size {
		file.Tenants = append(file.Tenants, fleet.Spec{Name: fmt.Sprintf("f%03d", i), Tier: tiers[i%3]})
	}
	for _, tier := range tiers {
		for i := range 5 {
			file.Tenants = append(file.Tenants, fleet.Spec{Name: fmt.Sprintf("c%s-%d", tier[:2], i), Tier: tier})
		}
	}
	fleetFile := filepath.Join(b.TempDir(), "fleet.json")
	data, _ := json.Marshal(file)
	if err := os.WriteFile(fleetFile, data, 0o644); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	run("apply", "-f", fleetFile, "--parallel", "4")
	fmt.Printf("migrate-bench: fleet of %d tenants created in %s\n", size, time.Since(t0).Round(time.Second))

	// 10,000 rows in each tenant's accounts, as the admin.
	admin := strings.TrimSuffix(env.Postgres.AdminURL, "/postgres")
	t0 = time.Now()
	for _, s := range file.Tenants {
		db, table := "platform", "app.accounts"
		switch s.Tier {
		case "schema":
			table = pgx.Identifier{tenantspec.SchemaName(s.Name), "accounts"}.Sanitize()
		case "database":
			db, table = tenantspec.DatabaseName(s.Name), "public.accounts"
		}
		exec1(b, admin+"/"+db, `INSERT INTO `+table+` (tenant_id, name, currency, balance_minor)
			SELECT $1, 'account ' || i, 'EUR', i FROM generate_series(1, 10000) i`, s.Name)
	}
	fmt.Printf("migrate-bench: 10,000 accounts per tenant written in %s\n", time.Since(t0).Round(time.Second))

	// The canary is the first tenant with a target of its own: f001
	// (schema tier). A writer of it inserts all along the rollout.
	writeMigration(b, dir, 21, "accounts_risk_score", "ALTER TABLE accounts ADD COLUMN risk_score integer NOT NULL DEFAULT 0;\nCREATE INDEX accounts_by_risk ON accounts (tenant_id, risk_score);\n")
	canary := "f001"
	stop := make(chan struct{})
	var writes []time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		writes = writer(b, canary, tenantctl, stop)
	}()
	time.Sleep(time.Second)
	t0 = time.Now()
	out := run("migrate", "up", "--canary", canary, "--parallel", "4", "--yes", "-o", "json")
	wall := time.Since(t0)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	var rep migrate.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		b.Fatal(err)
	}
	var per []float64
	for _, r := range rep.Results {
		per = append(per, r.Seconds)
	}
	var blocked []float64
	for _, d := range writes {
		blocked = append(blocked, d.Seconds())
	}
	fmt.Printf("migrate-bench: %d targets (%d tenants) migrated in %.1fs with --parallel 4 (target <= 60s)\n", len(rep.Results), len(file.Tenants), wall.Seconds())
	fmt.Printf("migrate-bench: per target p50 %.3fs p95 %.3fs max %.3fs\n", quantile(per, 0.5), quantile(per, 0.95), quantile(per, 1))
	fmt.Printf("migrate-bench: canary writer: %d inserts, latency p50 %.4fs p95 %.4fs, longest blocked %.3fs (target <= 1s)\n",
		len(blocked), quantile(blocked, 0.5), quantile(blocked, 0.95), quantile(blocked, 1))
	b.Cleanup(func() {
		// The platform is thrown away after the run (scripts/with-platform.sh).
	})
}

// writeSet writes n migrations: the ledger's first three, then columns,
// tables and indexes.
func writeSet(b *testing.B, dir string, n int) {
	b.Helper()
	testenv.CopyLedger(b, dir, "0001_currencies.up.sql", "0002_accounts.sql", "0003_transactions.sql")
	for v := 4; v <= n; v++ {
		var sql string
		switch v % 3 {
		case 0:
			sql = fmt.Sprintf("ALTER TABLE accounts ADD COLUMN attr_%d text;\n", v)
		case 1:
			sql = fmt.Sprintf("CREATE TABLE notes_%d (tenant_id text NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, body text, PRIMARY KEY (tenant_id, id));\n", v)
		default:
			sql = fmt.Sprintf("CREATE INDEX accounts_attr_%d ON accounts (tenant_id, created_at);\n", v)
		}
		writeMigration(b, dir, v, fmt.Sprintf("step_%d", v), sql)
	}
}

func writeMigration(b *testing.B, dir string, v int, name, sql string) {
	b.Helper()
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%04d_%s.up.sql", v, name)), []byte(sql), 0o644); err != nil {
		b.Fatal(err)
	}
}

func exec1(b *testing.B, dsn, sql string, args ...any) {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		b.Fatalf("%s: %v", sql, err)
	}
}

// writer inserts into the tenant's accounts, as the tenant through
// PgBouncer, until stop, and returns each insert's latency.
func writer(b *testing.B, tenant, tenantctl string, stop <-chan struct{}) []time.Duration {
	out, err := exec.Command(tenantctl, "credentials", tenant, "-o", "json").Output()
	if err != nil {
		b.Errorf("credentials %s: %v", tenant, err)
		return nil
	}
	var c fleet.Credentials
	if err := json.Unmarshal(out, &c); err != nil {
		b.Error(err)
		return nil
	}
	cfg, err := pgx.ParseConfig(c.Postgres.PoolerURL)
	if err != nil {
		b.Error(err)
		return nil
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		b.Error(err)
		return nil
	}
	defer conn.Close(ctx)
	var lat []time.Duration
	for {
		select {
		case <-stop:
			return lat
		default:
		}
		t0 := time.Now()
		if _, err := conn.Exec(ctx, `INSERT INTO accounts (name, currency) VALUES ('during the rollout', 'EUR')`); err != nil {
			b.Errorf("a write of %s during the rollout failed: %v", tenant, err)
			return lat
		}
		lat = append(lat, time.Since(t0))
		time.Sleep(5 * time.Millisecond)
	}
}

func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	i := int(q*float64(len(s)-1) + 0.5)
	return s[min(i, len(s)-1)]
}

func round(v []float64) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = fmt.Sprintf("%.2f", x)
	}
	return out
}
