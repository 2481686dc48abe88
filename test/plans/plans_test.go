//go:build integration

// Package plans_test shows each plan limit biting on the local platform: a
// tenant's runaway query is cancelled at its statement_timeout while
// another tenant's queries keep running; a tenant opening more connections
// than its plan allows is refused by PostgreSQL and through PgBouncer while
// another tenant still connects; a plan change reaches new sessions without
// ending the open ones.
package plans_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/internal/testenv"
	"github.com/tenantstack/tenantstack/internal/usage"
)

func redisURL(c tenantspec.Credentials) string {
	u := url.URL{Scheme: "redis", User: url.UserPassword(c.Redis.Username, c.Redis.Password), Host: net.JoinHostPort(c.Redis.Host, strconv.Itoa(c.Redis.Port))}
	return u.String()
}

func must(t *testing.T, args ...string) string {
	t.Helper()
	return testenv.MustTenantctl(t, args...)
}

func credentials(t *testing.T, name string) tenantspec.Credentials {
	t.Helper()
	var c tenantspec.Credentials
	if err := json.Unmarshal([]byte(must(t, "credentials", name, "-o", "json")), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func connect(ctx context.Context, url string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cfg.ConnectTimeout = 15 * time.Second
	return pgx.ConnectConfig(ctx, cfg)
}

func code(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	return ""
}

func TestPlanLimits(t *testing.T) {
	env := testenv.Platform(t)
	ctx := context.Background()
	dir := t.TempDir()
	testenv.CopyLedger(t, dir, "0001_currencies.up.sql", "0001_currencies.down.sql", "0002_accounts.sql", "0003_transactions.sql")
	must(t, "platform", "up", "--migrations", dir)
	must(t, "migrate", "up", "--yes")
	suffix := strings.ToLower(random.UniqueId())
	noisy, quiet := "pn-"+suffix, "pq-"+suffix
	must(t, "create", noisy, "--plan", "basic", "--limit", "statement_timeout=1s", "--limit", "connections=3")
	must(t, "create", quiet, "--plan", "standard")
	t.Cleanup(func() {
		for _, n := range []string{noisy, quiet} {
			testenv.Tenantctl(t, "delete", n, "--yes")
		}
	})
	admin, err := pgx.Connect(ctx, env.Postgres.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	settingsOf := func(role string) (map[string]string, int) {
		t.Helper()
		var cfg []string
		var limit int
		if err := admin.QueryRow(ctx, `SELECT coalesce(s.setconfig, '{}'), r.rolconnlimit FROM pg_roles r
			LEFT JOIN pg_db_role_setting s ON s.setrole = r.oid AND s.setdatabase = 0 WHERE r.rolname = $1`, role).Scan(&cfg, &limit); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, kv := range cfg {
			k, v, _ := strings.Cut(kv, "=")
			out[k] = v
		}
		return out, limit
	}
	nc, qc := credentials(t, noisy), credentials(t, quiet)

	t.Run("the plans' limits are on the login roles", func(t *testing.T) {
		s, limit := settingsOf(nc.Postgres.User)
		if limit != 3 || s["statement_timeout"] != "1s" || s["work_mem"] != "4MB" || s["temp_file_limit"] != "256MB" || s["idle_in_transaction_session_timeout"] != "30s" {
			t.Errorf("%s: connection limit %d, settings %v; want 3 and basic's limits with statement_timeout=1s", nc.Postgres.User, limit, s)
		}
		s, limit = settingsOf(qc.Postgres.User)
		if limit != 20 || s["statement_timeout"] != "30s" || s["work_mem"] != "16MB" {
			t.Errorf("%s: connection limit %d, settings %v; want standard's", qc.Postgres.User, limit, s)
		}
		var tn struct {
			Plan string `json:"plan"`
			Tier string `json:"tier"`
		}
		if err := json.Unmarshal([]byte(must(t, "get", noisy, "-o", "json")), &tn); err != nil || tn.Plan != "basic" || tn.Tier != "shared" {
			t.Errorf("get: %+v %v; want plan basic on the shared tier", tn, err)
		}
	})

	t.Run("a runaway query is cancelled at its timeout, the other tenant keeps running", func(t *testing.T) {
		runaway := make(chan error, 1)
		var took time.Duration
		go func() {
			conn, err := connect(ctx, nc.Postgres.PoolerURL)
			if err != nil {
				runaway <- err
				return
			}
			defer conn.Close(ctx)
			began := time.Now()
			_, err = conn.Exec(ctx, `SELECT pg_sleep(30)`)
			took = time.Since(began)
			runaway <- err
		}()
		conn, err := connect(ctx, qc.Postgres.PoolerURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var lat []time.Duration
		var runErr error
		done := false
		for !done {
			began := time.Now()
			if _, err := conn.Exec(ctx, `SELECT 1`); err != nil {
				t.Fatalf("the quiet tenant's query failed while the other ran away: %v", err)
			}
			lat = append(lat, time.Since(began))
			select {
			case runErr = <-runaway:
				done = true
			case <-time.After(5 * time.Millisecond):
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		t.Logf("runaway ended after %s with %v; quiet tenant: %d queries meanwhile, p50 %s, max %s",
			took.Round(time.Millisecond), runErr, len(lat), lat[len(lat)/2], lat[len(lat)-1])
		if code(runErr) != "57014" {
			t.Fatalf("the runaway query ended with %v; want query_canceled (57014) from its statement_timeout", runErr)
		}
		if took >= 30*time.Second {
			t.Errorf("the runaway query ran its full 30 s")
		}
	})

	t.Run("extra connections are refused by PostgreSQL and through PgBouncer, the other tenant connects", func(t *testing.T) {
		// PgBouncer keeps the runaway's server connection for a while; it
		// would count against the limit.
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, nc.Postgres.User); err != nil {
			t.Fatal(err)
		}
		var held []*pgx.Conn
		defer func() {
			for _, c := range held {
				c.Close(ctx)
			}
		}()
		for i := 0; i < 3; i++ {
			c, err := connect(ctx, nc.Postgres.URL)
			if err != nil {
				t.Fatalf("connection %d of 3 allowed: %v", i+1, err)
			}
			held = append(held, c)
		}
		c, err := connect(ctx, nc.Postgres.URL)
		if err == nil {
			c.Close(ctx)
			t.Fatal("a fourth direct connection was accepted; the plan allows 3")
		}
		if code(err) != "53300" {
			t.Errorf("the fourth direct connection: %v; want too_many_connections (53300)", err)
		}
		// PgBouncer needs a server connection of the role, which PostgreSQL
		// refuses (53300): PgBouncer keeps the client waiting and retrying
		// until its query_wait_timeout (120 s) ends it with an error. The
		// test waits 10 s: the statement must not have run by then.
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		pc, err := connect(wctx, nc.Postgres.PoolerURL)
		if err == nil {
			_, err = pc.Exec(wctx, `SELECT 1`)
			pc.Close(ctx)
		}
		cancel()
		if err == nil {
			t.Error("through PgBouncer a fourth connection ran a statement")
		} else {
			t.Logf("through PgBouncer: %v", err)
		}
		for _, url := range []string{qc.Postgres.URL, qc.Postgres.PoolerURL} {
			c, err := connect(ctx, url)
			if err == nil {
				_, err = c.Exec(ctx, `SELECT 1`)
				c.Close(ctx)
			}
			if err != nil {
				t.Errorf("the other tenant could not connect meanwhile: %v", err)
			}
		}
	})

	t.Run("usage measures each tenant's own rows, keys and quota", func(t *testing.T) {
		seed := func(c tenantspec.Credentials, accounts, keys int) {
			t.Helper()
			conn, err := connect(ctx, c.Postgres.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, `INSERT INTO accounts (name, currency) SELECT 'u-' || g, 'EUR' FROM generate_series(1, $1::int) g`, accounts); err != nil {
				t.Fatal(err)
			}
			opt, err := redis.ParseURL(redisURL(c))
			if err != nil {
				t.Fatal(err)
			}
			opt.Protocol, opt.DisableIdentity = 2, true
			rdb := redis.NewClient(opt)
			defer rdb.Close()
			for i := 0; i < keys; i++ {
				if err := rdb.Set(ctx, fmt.Sprintf("%sk%d", c.Redis.KeyPrefix, i), strings.Repeat("x", 100), 0).Err(); err != nil {
					t.Fatal(err)
				}
			}
		}
		seed(nc, 5, 3)
		seed(qc, 7, 2)
		var reps []usage.Report
		if err := json.Unmarshal([]byte(must(t, "usage", "-o", "json")), &reps); err != nil {
			t.Fatal(err)
		}
		by := map[string]usage.Report{}
		for _, r := range reps {
			by[r.Tenant] = r
		}
		n, q := by[noisy], by[quiet]
		t.Logf("usage: %+v / %+v", n, q)
		// The shared tier counts the tenant's own rows only: its 5
		// accounts and nothing of the other tenants in the same tables.
		if n.Postgres.Rows != 5 || n.Postgres.Bytes <= 0 || n.Redis.Keys != 3 || n.Redis.MemoryBytes < 300 {
			t.Errorf("%s: %+v; want 5 rows, some bytes, 3 keys of 100+ bytes", noisy, n)
		}
		if q.Postgres.Rows < 7 || q.Postgres.Bytes < 8192 || q.Redis.Keys != 2 {
			t.Errorf("%s: %+v; want at least its 7 accounts in its schema's relations and 2 keys", quiet, q)
		}
		// The local platform loads pg_stat_statements: the tenants' own
		// statements are counted per login role.
		if n.Postgres.Statements == nil || *n.Postgres.Statements == 0 || q.Postgres.Statements == nil || *q.Postgres.Statements == 0 ||
			n.Postgres.ExecSeconds == nil || *n.Postgres.ExecSeconds <= 0 {
			t.Errorf("statements %v/%v, exec time %v; want each tenant's statements counted", n.Postgres.Statements, q.Postgres.Statements, n.Postgres.ExecSeconds)
		}
		if n.Postgres.ConnectionLimit != 3 || q.Postgres.ConnectionLimit != 20 {
			t.Errorf("connection limits %d and %d; want the plans' 3 and 20", n.Postgres.ConnectionLimit, q.Postgres.ConnectionLimit)
		}
		hard := map[string]string{}
		for _, u := range n.Kubernetes {
			hard[u.Resource] = u.Hard
		}
		if hard["pods"] != "10" || hard["limits.cpu"] != "1" {
			t.Errorf("%s's quota %v; want basic's 10 pods and 1 CPU", noisy, hard)
		}
		prom := must(t, "usage", noisy, "-o", "prometheus")
		if !strings.Contains(prom, `tenantstack_tenant_postgres_rows{tenant="`+noisy+`",tier="shared"} 5`) || strings.Contains(prom, quiet) {
			t.Errorf("-o prometheus for %s:\n%s", noisy, prom)
		}
		if csv := must(t, "usage", "-o", "csv"); !strings.HasPrefix(csv, "TENANT,TIER,PG_BYTES") {
			t.Errorf("-o csv:\n%s", csv)
		}
	})

	t.Run("a plan change reaches new sessions without ending open ones", func(t *testing.T) {
		open, err := connect(ctx, nc.Postgres.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer open.Close(ctx)
		_, errOut, code := testenv.Tenantctl(t, "update", noisy, "--plan", "standard")
		if code != 0 {
			t.Fatalf("update --plan: exit %d %s", code, errOut)
		}
		if !strings.Contains(errOut, "statement_timeout") || !strings.Contains(errOut, "sessions that start from now") || !strings.Contains(errOut, "stays on shared") {
			t.Errorf("update --plan did not say which limits need a new session and that the tier stays:\n%s", errOut)
		}
		s, limit := settingsOf(nc.Postgres.User)
		if limit != 20 || s["statement_timeout"] != "30s" || s["work_mem"] != "16MB" {
			t.Errorf("after update --plan standard: limit %d, settings %v", limit, s)
		}
		var old, fresh string
		if err := open.QueryRow(ctx, `SHOW statement_timeout`).Scan(&old); err != nil {
			t.Fatalf("the session open during the update was ended: %v", err)
		}
		c, err := connect(ctx, nc.Postgres.URL)
		if err != nil {
			t.Fatal(err)
		}
		err = c.QueryRow(ctx, `SHOW statement_timeout`).Scan(&fresh)
		c.Close(ctx)
		if err != nil || old != "1s" || fresh != "30s" {
			t.Errorf("open session %q, new session %q (%v); want 1s and 30s", old, fresh, err)
		}
		_, errOut, code = testenv.Tenantctl(t, "update", noisy, "--plan", "gold")
		if code != 2 || !strings.Contains(errOut, "basic, premium, standard") {
			t.Errorf("an unknown plan: exit %d %q", code, errOut)
		}
	})
}
