//go:build integration

package devplatform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/internal/devplatform"
)

func pgConnect(t *testing.T, url string, pooled bool) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	if pooled {
		// PgBouncer 1.18 in transaction mode does not track prepared statements.
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connecting as %s to %s:%d/%s: %v", cfg.User, cfg.Host, cfg.Port, cfg.Database, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// uniqueID is a short random lowercase name part, as Terratest's
// random.UniqueID lowercased.
func uniqueID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestServicesAnswer starts a platform and checks every service for real,
// then stops it and checks nothing of it is left.
func TestServicesAnswer(t *testing.T) {
	t.Parallel()
	p := startPlatform(t)
	env := p.env()
	ctx := context.Background()

	st, code := p.status()
	if code != 0 {
		t.Fatalf("dev status exits %d on a fresh platform: %+v", code, st)
	}
	for _, s := range st.Services {
		if !s.Healthy || s.State != devplatform.StateRunning || s.PID == 0 {
			t.Errorf("service %s after up: %+v", s.Name, s)
		}
	}

	t.Run("postgres admin round trip", func(t *testing.T) {
		conn := pgConnect(t, env.Postgres.AdminURL, false)
		var super bool
		if err := conn.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
			t.Fatal(err)
		}
		if !super {
			t.Error("the admin URL's role is not a superuser")
		}
		var maxConn int
		if err := conn.QueryRow(ctx, "SELECT current_setting('max_connections')::int").Scan(&maxConn); err != nil {
			t.Fatal(err)
		}
		if maxConn < 200 {
			t.Errorf("max_connections = %d, too small for hundreds of tenants", maxConn)
		}
		var auth string
		if err := conn.QueryRow(ctx, "SELECT current_setting('password_encryption')").Scan(&auth); err != nil || auth != "scram-sha-256" {
			t.Errorf("password_encryption = %q (%v)", auth, err)
		}
	})

	t.Run("wrong password refused", func(t *testing.T) {
		cfg, err := pgx.ParseConfig(env.Postgres.AdminURL)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Password = "wrong"
		if conn, err := pgx.ConnectConfig(ctx, cfg); err == nil {
			conn.Close(ctx)
			t.Fatal("PostgreSQL accepted a wrong password")
		}
	})

	t.Run("pgbouncer admin round trip in transaction mode", func(t *testing.T) {
		conn := pgConnect(t, env.Postgres.PoolerURL, true)
		var one int
		if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("SELECT 1 through pgbouncer = %d, %v", one, err)
		}
		// The admin console of PgBouncer itself proves we talk to it.
		admin := strings.Replace(env.Postgres.PoolerURL, "/postgres", "/pgbouncer", 1)
		console := pgConnect(t, admin, true)
		rows, err := console.Query(ctx, "SHOW CONFIG")
		if err != nil {
			t.Fatal(err)
		}
		mode := ""
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(vals[0]) == "pool_mode" {
				mode = fmt.Sprint(vals[1])
			}
		}
		if mode != "transaction" {
			t.Errorf("pool_mode = %q, want transaction", mode)
		}
	})

	t.Run("new login role through pgbouncer", func(t *testing.T) {
		admin := pgConnect(t, env.Postgres.AdminURL, false)
		role := "tenant_" + uniqueID(t)
		db := role + "_db"
		pass := "Pw-" + role
		for _, q := range []string{
			"CREATE ROLE " + role + " LOGIN CONNECTION LIMIT 5 PASSWORD '" + pass + "'",
			"CREATE DATABASE " + db + " OWNER " + role,
		} {
			if _, err := admin.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for _, database := range []string{"postgres", db} {
			url := fmt.Sprintf("postgres://%s:%s@%s/%s", role, pass, strings.Split(strings.Split(env.Postgres.PoolerURL, "@")[1], "/")[0], database)
			conn := pgConnect(t, url, true)
			var who, where string
			if err := conn.QueryRow(ctx, "SELECT session_user, current_database()").Scan(&who, &where); err != nil {
				t.Fatal(err)
			}
			if who != role || where != database {
				t.Errorf("through pgbouncer: session_user %q database %q, want %q %q", who, where, role, database)
			}
		}
		bad := fmt.Sprintf("postgres://%s:%s@%s/postgres", role, "wrong", strings.Split(strings.Split(env.Postgres.PoolerURL, "@")[1], "/")[0])
		cfg, _ := pgx.ParseConfig(bad)
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		if conn, err := pgx.ConnectConfig(ctx, cfg); err == nil {
			conn.Close(ctx)
			t.Error("pgbouncer accepted a tenant role with a wrong password")
		}
	})

	t.Run("redis admin and default user", func(t *testing.T) {
		opts, err := redis.ParseURL(env.Redis.AdminURL)
		if err != nil {
			t.Fatal(err)
		}
		opts.Protocol = 2
		admin := redis.NewClient(opts)
		defer admin.Close()
		if got, err := admin.Ping(ctx).Result(); err != nil || got != "PONG" {
			t.Fatalf("PING as admin = %q, %v", got, err)
		}
		if who, err := admin.Do(ctx, "ACL", "WHOAMI").Text(); err != nil || who != opts.Username {
			t.Errorf("ACL WHOAMI = %q, %v; want %q", who, err, opts.Username)
		}
		anon := redis.NewClient(&redis.Options{Addr: opts.Addr, Protocol: 2})
		defer anon.Close()
		if err := anon.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
			t.Errorf("PING without AUTH = %v, want NOAUTH", err)
		}
		def := redis.NewClient(&redis.Options{Addr: opts.Addr, Protocol: 2, Username: "default", Password: "anything"})
		defer def.Close()
		if err := def.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
			t.Errorf("AUTH as default = %v, want WRONGPASS", err)
		}
	})

	t.Run("kubernetes admin can do anything", func(t *testing.T) {
		out, err := kubectl(t, env.Kubernetes.Kubeconfig, "auth", "can-i", "*", "*")
		if err != nil || out != "yes" {
			t.Fatalf("kubectl auth can-i '*' '*' = %q, %v", out, err)
		}
	})

	t.Run("namespace lifecycle needs the controller manager", func(t *testing.T) {
		ns := strings.ReplaceAll("ns-"+uniqueID(t), "_", "-")
		if out, err := kubectl(t, env.Kubernetes.Kubeconfig, "create", "namespace", ns); err != nil {
			t.Fatalf("create namespace: %v: %s", err, out)
		}
		eventually(t, time.Minute, "default ServiceAccount in "+ns, func() error {
			_, err := kubectl(t, env.Kubernetes.Kubeconfig, "-n", ns, "get", "serviceaccount", "default")
			return err
		})
		if out, err := kubectl(t, env.Kubernetes.Kubeconfig, "-n", ns, "create", "quota", "q", "--hard=pods=2"); err != nil {
			t.Fatalf("create quota: %v: %s", err, out)
		}
		eventually(t, time.Minute, "quota status", func() error {
			out, err := kubectl(t, env.Kubernetes.Kubeconfig, "-n", ns, "get", "quota", "q", "-o", "jsonpath={.status.hard.pods}")
			if err != nil || out != "2" {
				return fmt.Errorf("status.hard.pods = %q (%v)", out, err)
			}
			return nil
		})
		if out, err := kubectl(t, env.Kubernetes.Kubeconfig, "delete", "namespace", ns, "--wait=true", "--timeout=90s"); err != nil {
			t.Fatalf("delete namespace: %v: %s", err, out)
		}
		out, err := kubectl(t, env.Kubernetes.Kubeconfig, "get", "namespace", ns)
		if err == nil || !strings.Contains(out, "NotFound") {
			t.Errorf("namespace %s still there after delete: %s", ns, out)
		}
	})

	t.Run("down leaves nothing running", func(t *testing.T) {
		before, _ := p.status()
		r := p.mustRun("dev", "down")
		for _, s := range before.Services {
			if alive(s.PID) {
				t.Errorf("%s (pid %d) still runs after down", s.Name, s.PID)
			}
			if !portFree(s.Address) {
				t.Errorf("%s's port %s still bound after down", s.Name, s.Address)
			}
			if !strings.Contains(r.stderr, s.Name+": stopped") {
				t.Errorf("down did not report stopping %s:\n%s", s.Name, r.stderr)
			}
		}
		if left := p.processes(); len(left) > 0 {
			t.Errorf("processes left after down: %v", left)
		}
		after, code := p.status()
		if code == 0 {
			t.Error("dev status exits 0 after down")
		}
		for _, s := range after.Services {
			if s.State != devplatform.StateStopped {
				t.Errorf("after down, %s is %s", s.Name, s.State)
			}
		}
		if r := p.run("dev", "env"); r.code != 3 || !strings.Contains(r.stderr, `run "tenantctl dev up"`) {
			t.Errorf("dev env after down: exit %d: %s", r.code, r.stderr)
		}
	})
}
