//go:build integration

package bench

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

// BenchmarkRLS measures, with pgbench (4 clients), what row-level security
// costs a tenant on a shared table of 1,000,000 rows (100 tenants of
// 10,000) indexed on (tenant_id, id): the platform's policy against the
// same table without RLS and an application-side WHERE tenant_id = ..., and
// against the policy keyed on the registry lookup the contract used before
// (a SECURITY DEFINER function). It prints latencies and ratios; it asserts
// none. Run it with `make bench-rls`.
func BenchmarkRLS(b *testing.B) {
	env := testenv.Platform(b)
	tenantctl := tenantctlPath(b)
	ctx := context.Background()
	if out, err := exec.CommandContext(ctx, tenantctl, "platform", "up").CombinedOutput(); err != nil {
		b.Fatalf("tenantctl platform up: %v\n%s", err, out)
	}
	admin := strings.TrimSuffix(env.Postgres.AdminURL, "/postgres") + "/platform"
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	const tenant = "benchrls-00"
	role := tenantspec.RoleName(tenant)
	password := "bench-" + strconv.Itoa(os.Getpid())
	setup := []string{
		`DROP TABLE IF EXISTS app.bench_rls, app.bench_old, app.bench_plain`,
		`DROP ROLE IF EXISTS ` + role,
		`CREATE ROLE ` + role + ` LOGIN PASSWORD '` + password + `' IN ROLE app_tenant`,
		`CREATE SEQUENCE IF NOT EXISTS app.bench_seq START 100000000`,
		`GRANT USAGE ON SEQUENCE app.bench_seq TO app_tenant`,
		`CREATE OR REPLACE FUNCTION app.bench_registry_tenant() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
			SET search_path = pg_catalog, pg_temp AS $$ SELECT t.tenant_id FROM tenantstack.tenants t WHERE t.role_name = session_user $$`,
		`GRANT EXECUTE ON FUNCTION app.bench_registry_tenant() TO app_tenant`,
		`INSERT INTO tenantstack.tenants (tenant_id, role_name, tier) VALUES ('` + tenant + `', '` + role + `', 'shared') ON CONFLICT DO NOTHING`,
	}
	for _, tbl := range []string{"bench_rls", "bench_old", "bench_plain"} {
		setup = append(setup,
			`CREATE TABLE app.`+tbl+` (tenant_id text NOT NULL, id bigint NOT NULL, v integer NOT NULL, payload text, PRIMARY KEY (tenant_id, id))`,
			`INSERT INTO app.`+tbl+` SELECT CASE WHEN t = 0 THEN '`+tenant+`' ELSE 'benchrls-'||lpad(t::text, 2, '0') END, i, (i % 97)::int, md5(i::text)
				FROM generate_series(0, 99) t, generate_series(1, 10000) i`,
			`ANALYZE app.`+tbl,
			`GRANT SELECT, INSERT ON app.`+tbl+` TO app_tenant`,
		)
	}
	setup = append(setup,
		`SELECT app.enable_tenant_isolation('app.bench_rls')`,
		`ALTER TABLE app.bench_old ENABLE ROW LEVEL SECURITY`,
		`ALTER TABLE app.bench_old FORCE ROW LEVEL SECURITY`,
		`CREATE POLICY tenant_isolation ON app.bench_old USING (tenant_id = app.bench_registry_tenant()) WITH CHECK (tenant_id = app.bench_registry_tenant())`,
		`ALTER TABLE app.bench_old ALTER COLUMN tenant_id SET DEFAULT app.bench_registry_tenant()`,
	)
	for _, q := range setup {
		if _, err := conn.Exec(ctx, q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	b.Cleanup(func() {
		for _, q := range []string{
			`DROP TABLE IF EXISTS app.bench_rls, app.bench_old, app.bench_plain`,
			`DROP FUNCTION IF EXISTS app.bench_registry_tenant()`,
			`DROP SEQUENCE IF EXISTS app.bench_seq`,
			`DELETE FROM tenantstack.tenants WHERE tenant_id = '` + tenant + `'`,
			`DROP ROLE IF EXISTS ` + role,
		} {
			_, _ = conn.Exec(context.Background(), q)
		}
	})

	u, _ := url.Parse(admin)
	u.User = url.UserPassword(role, password)
	dir := b.TempDir()
	script := func(name, sql string) string {
		p := filepath.Join(dir, name+".sql")
		if err := os.WriteFile(p, []byte(sql), 0o644); err != nil {
			b.Fatal(err)
		}
		return p
	}
	type variant struct{ label, point, insert, agg string }
	lit := "'" + tenant + "'"
	variants := []variant{
		{"application WHERE, no RLS", `SELECT v FROM app.bench_plain WHERE tenant_id = ` + lit + ` AND id = :id;`,
			`INSERT INTO app.bench_plain (tenant_id, id, v) VALUES (` + lit + `, nextval('app.bench_seq'), 1);`,
			`SELECT sum(v), count(*) FROM app.bench_plain WHERE tenant_id = ` + lit + `;`},
		{"RLS, app.current_tenant() now", `SELECT v FROM app.bench_rls WHERE id = :id;`,
			`INSERT INTO app.bench_rls (id, v) VALUES (nextval('app.bench_seq'), 1);`,
			`SELECT sum(v), count(*) FROM app.bench_rls;`},
		{"RLS, registry lookup (before)", `SELECT v FROM app.bench_old WHERE id = :id;`,
			`INSERT INTO app.bench_old (id, v) VALUES (nextval('app.bench_seq'), 1);`,
			`SELECT sum(v), count(*) FROM app.bench_old;`},
	}
	seconds := os.Getenv("BENCH_RLS_SECONDS")
	if seconds == "" {
		seconds = "10"
	}
	latency := map[string]map[string]float64{}
	for i := 0; i < b.N; i++ {
		for _, v := range variants {
			latency[v.label] = map[string]float64{}
			for _, w := range []struct{ kind, sql string }{
				// The inserts go last: they add rows the aggregate would count.
				{"point lookup", "\\set id random(1, 10000)\n" + v.point},
				{"aggregate", v.agg},
				{"insert", v.insert},
			} {
				f := script(strings.ReplaceAll(v.label+"-"+w.kind, " ", "_"), w.sql)
				ms, tps := pgbench(b, u.String(), f, seconds)
				latency[v.label][w.kind] = ms
				fmt.Printf("rls-bench: %-32s %-13s %8.3f ms  %9.0f tps\n", v.label, w.kind, ms, tps)
			}
		}
	}
	base := latency[variants[0].label]
	for _, v := range variants[1:] {
		for _, kind := range []string{"point lookup", "insert", "aggregate"} {
			fmt.Printf("rls-bench: %-32s %-13s %.2fx the application WHERE (target <= 1.10x)\n", v.label, kind, latency[v.label][kind]/base[kind])
		}
	}
}

var (
	latencyRE = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
	tpsRE     = regexp.MustCompile(`tps = ([0-9.]+)`)
)

// pgbench runs one script with 4 clients for the given seconds and returns
// the average latency in ms and the transactions per second.
func pgbench(b *testing.B, dsn, script, seconds string) (float64, float64) {
	b.Helper()
	out, err := exec.Command("pgbench", "-n", "-c", "4", "-j", "2", "-T", seconds, "-M", "prepared", "-f", script, dsn).CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench %s: %v\n%s", script, err, out)
	}
	l, t := latencyRE.FindSubmatch(out), tpsRE.FindSubmatch(out)
	if l == nil || t == nil {
		b.Fatalf("pgbench printed no latency or tps:\n%s", out)
	}
	ms, _ := strconv.ParseFloat(string(l[1]), 64)
	tps, _ := strconv.ParseFloat(string(t[1]), 64)
	return ms, tps
}
