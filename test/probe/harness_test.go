//go:build integration

package probe_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/random"
	test_structure "github.com/gruntwork-io/terratest/modules/test-structure"
	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/probe"
	"github.com/tenantstack/tenantstack/internal/testenv"
	"github.com/tenantstack/tenantstack/sdk/postgres"
)

const opTimeout = 60 * time.Second

// platform is the platform under test, reached as its admin.
type platform struct {
	admin      probe.Admin
	pgCfg      *pgx.ConnConfig // platform database, as the admin
	poolerHost string
	poolerPort int
	redisOpt   *goredis.Options
	kube       *probe.KubeClient
}

// newPlatform reads the platform from TENANTSTACK_DEV_ENV and checks that
// every endpoint answers, failing fast and saying which one does not.
func newPlatform(t *testing.T) *platform {
	t.Helper()
	env := testenv.Platform(t)
	p := &platform{admin: probe.Admin{
		PostgresURL: env.Postgres.AdminURL,
		RedisURL:    env.Redis.AdminURL,
		Kubeconfig:  env.Kubernetes.Kubeconfig,
	}}
	ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
	defer cancel()

	var err error
	if p.pgCfg, err = pgx.ParseConfig(env.Postgres.AdminURL); err != nil {
		t.Fatalf("postgres.admin_url of %s: %v", testenv.EnvVar, err)
	}
	pooler, err := pgx.ParseConfig(env.Postgres.PoolerURL)
	if err != nil {
		t.Fatalf("postgres.pooler_url of %s: %v", testenv.EnvVar, err)
	}
	p.poolerHost, p.poolerPort = pooler.Host, int(pooler.Port)
	if p.redisOpt, err = goredis.ParseURL(env.Redis.AdminURL); err != nil {
		t.Fatalf("redis.admin_url of %s: %v", testenv.EnvVar, err)
	}
	p.redisOpt.Protocol, p.redisOpt.DisableIdentity = 2, true
	// The tests install the contract in the admin URL's database and keep
	// their tenants there.
	p.admin.PlatformDatabase = p.pgCfg.Database

	conn := p.pgConn(t, ctx, "")
	conn.Close(ctx)
	rc := goredis.NewClient(p.redisOpt)
	defer rc.Close()
	if err := rc.Ping(ctx).Err(); err != nil {
		t.Fatalf("the platform's Redis (%s) does not answer: %v; start the platform (tenantctl dev up)", p.redisOpt.Addr, err)
	}
	if env.Kubernetes.Kubeconfig == "" {
		t.Fatalf("%s names no kubeconfig: the Kubernetes probes need the platform's API server; start the whole platform (tenantctl dev up)", testenv.EnvVar)
	}
	if p.kube, err = probe.LoadKubeconfig(env.Kubernetes.Kubeconfig); err != nil {
		t.Fatalf("the platform's kubeconfig: %v", err)
	}
	t.Cleanup(p.kube.Close)
	if err := p.kube.Do(ctx, http.MethodGet, "/api/v1/namespaces?limit=1", nil, nil); err != nil {
		t.Fatalf("the platform's Kubernetes API server (%s) does not answer: %v; the Kubernetes probes cannot run without it: "+
			"start the whole platform (tenantctl dev up)", p.kube.Server(), err)
	}
	return p
}

// pgConn connects as the admin to db (the platform database when empty).
func (p *platform) pgConn(t *testing.T, ctx context.Context, db string) *pgx.Conn {
	t.Helper()
	cfg := p.pgCfg.Copy()
	if db != "" {
		cfg.Database = db
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connecting to PostgreSQL as the admin (database %q): %v", cfg.Database, err)
	}
	return conn
}

// exec runs statements as the admin in db, each on its own (CREATE
// DATABASE cannot run in a transaction).
func (p *platform) exec(ctx context.Context, db string, stmts ...string) error {
	cfg := p.pgCfg.Copy()
	if db != "" {
		cfg.Database = db
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", firstLine(q), err)
		}
	}
	return nil
}

func (p *platform) mustExec(t *testing.T, db string, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := p.exec(ctx, db, stmts...); err != nil {
		t.Fatalf("as the PostgreSQL admin in database %q: %v", db, err)
	}
}

func (p *platform) redis(t *testing.T, args ...any) any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	c := goredis.NewClient(p.redisOpt)
	defer c.Close()
	res, err := c.Do(ctx, args...).Result()
	if err != nil && err != goredis.Nil {
		t.Fatalf("redis %v: %v", args[:min(len(args), 2)], err)
	}
	return res
}

func (p *platform) kubeApply(t *testing.T, method, path string, obj any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := p.kube.Do(ctx, method, path, obj, nil); err != nil {
		t.Fatalf("kubernetes: %v", err)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// contractLock serialises installing the contract among this package's
// tests; the advisory lock does among processes.
var contractLock sync.Mutex

// installContract installs the shared-tier contract the platform stack
// installs (schema app owned by NOLOGIN app_owner, the registry
// tenantstack.tenants, app.current_tenant(), app.enable_tenant_isolation(), the
// group role app_tenant and app.isolation_probe). Every step is skipped
// when its object exists, so a real platform's own contract is used as is.
func (p *platform) installContract(t *testing.T) {
	t.Helper()
	contractLock.Lock()
	defer contractLock.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	conn := p.pgConn(t, ctx, "")
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	for _, q := range contractSQL {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("installing the shared-tier contract: %s: %v", firstLine(q), err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// contractSQL is the real shared-tier contract (its steps are idempotent,
// so a platform's own contract is left as it is) and app.isolation_probe.
var contractSQL = func() []string {
	out := []string{`SELECT pg_advisory_xact_lock(hashtext('tenantstack shared-tier contract'))`}
	for _, s := range postgres.ContractSteps() {
		out = append(out, s.SQL)
	}
	return append(out, `DO $$ BEGIN
		IF to_regclass('app.isolation_probe') IS NULL THEN
			CREATE TABLE app.isolation_probe (
				tenant_id text NOT NULL DEFAULT app.current_tenant(),
				marker text NOT NULL,
				created_at timestamptz DEFAULT now());
			ALTER TABLE app.isolation_probe OWNER TO app_owner;
			PERFORM app.enable_tenant_isolation('app.isolation_probe');
			REVOKE ALL ON app.isolation_probe FROM PUBLIC;
			GRANT SELECT, INSERT, UPDATE, DELETE ON app.isolation_probe TO app_tenant;
		END IF;
	END $$`)
}()

// sharedTableCopy creates a private copy of app.isolation_probe, protected
// the same way, in a schema of its own, for a test that weakens it without
// weakening the table every other test probes through. It returns
// SCHEMA.TABLE.
func (p *platform) sharedTableCopy(t *testing.T, td *teardown) string {
	t.Helper()
	schema := "probe_" + strings.ToLower(random.UniqueID())
	td.add("schema "+schema, func(ctx context.Context) error {
		return p.exec(ctx, "", `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
	})
	p.mustExec(t, "",
		`CREATE SCHEMA `+schema+` AUTHORIZATION app_owner`,
		`GRANT USAGE ON SCHEMA `+schema+` TO app_tenant`,
		`CREATE TABLE `+schema+`.isolation_probe (tenant_id text NOT NULL DEFAULT app.current_tenant(), marker text NOT NULL, created_at timestamptz DEFAULT now())`,
		`ALTER TABLE `+schema+`.isolation_probe OWNER TO app_owner`,
		`SELECT app.enable_tenant_isolation('`+schema+`.isolation_probe')`,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON `+schema+`.isolation_probe TO app_tenant`,
	)
	return schema + ".isolation_probe"
}

// teardown undoes setup steps in reverse order after the test, unless
// SKIP_teardown is set. Each step registers its undo before it runs, so a
// failed setup is undone as far as it got.
type teardown struct {
	mu    sync.Mutex
	steps []teardownStep
}

type teardownStep struct {
	what string
	undo func(ctx context.Context) error
}

func newTeardown(t *testing.T) *teardown {
	td := &teardown{}
	t.Cleanup(func() {
		test_structure.RunTestStage(t, "teardown", func() {
			td.mu.Lock()
			defer td.mu.Unlock()
			for i := len(td.steps) - 1; i >= 0; i-- {
				s := td.steps[i]
				ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
				if err := s.undo(ctx); err != nil {
					t.Errorf("teardown of %s: %v", s.what, err)
				}
				cancel()
			}
		})
	})
	return td
}

func (td *teardown) add(what string, undo func(ctx context.Context) error) {
	td.mu.Lock()
	defer td.mu.Unlock()
	td.steps = append(td.steps, teardownStep{what, undo})
}

func secret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// redisAllowlist is the tenant ACL's command allowlist: commands that name
// their keys (SORT included: Redis itself refuses its BY and GET options
// to a user without access to every key).
var redisAllowlist = []string{
	"+ping", "+get", "+set", "+del", "+exists", "+expire", "+ttl", "+incr", "+decr", "+mget", "+mset",
	"+hget", "+hset", "+hdel", "+hgetall", "+lpush", "+rpush", "+lpop", "+rpop", "+lrange",
	"+sadd", "+srem", "+smembers", "+zadd", "+zrange", "+sort",
	"+publish", "+subscribe", "+unsubscribe",
}

// newTenant lays out a tenant of the given tier as the TenantStack
// component does, and returns its credentials.
func (p *platform) newTenant(t *testing.T, td *teardown, tier string) fleet.Credentials {
	t.Helper()
	id := "pr-" + strings.ToLower(random.UniqueID())
	role := "tenant_" + strings.ReplaceAll(id, "-", "_")
	owner := role + "_owner"
	pgPass, redisPass := secret(t), secret(t)
	platformDB := p.pgCfg.Database
	c := fleet.Credentials{Tenant: id, Tier: tier}
	c.Postgres = fleet.PostgresCredentials{
		Host: p.pgCfg.Host, Port: int(p.pgCfg.Port), Database: platformDB, User: role, Password: pgPass,
	}
	c.Redis = fleet.RedisCredentials{
		Host: p.redisHost(), Port: p.redisPort(), Username: "tenant-" + id, Password: redisPass,
		KeyPrefix: "t:" + id + ":", ChannelPrefix: "t:" + id + ":",
	}
	c.Kubernetes = fleet.KubernetesCredentials{Namespace: "tenant-" + id, ServiceAccount: "app"}

	// PostgreSQL.
	td.add("PostgreSQL roles of "+id, func(ctx context.Context) error {
		if tier == "database" {
			if err := p.exec(ctx, "", `DROP DATABASE IF EXISTS `+role+` WITH (FORCE)`); err != nil {
				return err
			}
		}
		return p.exec(ctx, "",
			`DROP SCHEMA IF EXISTS `+role+` CASCADE`,
			`DELETE FROM tenantstack.tenants WHERE tenant_id = '`+id+`'`,
			`DO $$ BEGIN
				IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '`+role+`') THEN DROP OWNED BY `+role+`; DROP ROLE `+role+`; END IF;
				IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '`+owner+`') THEN DROP OWNED BY `+owner+`; DROP ROLE `+owner+`; END IF;
			END $$`)
	})
	p.mustExec(t, "",
		`CREATE ROLE `+role+` LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 20 PASSWORD '`+pgPass+`'`,
		`INSERT INTO tenantstack.tenants (tenant_id, role_name, tier) VALUES ('`+id+`', '`+role+`', '`+tier+`')`,
	)
	switch tier {
	case "shared":
		p.mustExec(t, "", `GRANT app_tenant TO `+role)
	case "schema":
		c.Postgres.Schema = role
		p.mustExec(t, "",
			`CREATE ROLE `+owner+` NOLOGIN`,
			`CREATE SCHEMA `+role+` AUTHORIZATION `+owner,
			`GRANT USAGE ON SCHEMA `+role+` TO `+role,
			`ALTER DEFAULT PRIVILEGES FOR ROLE `+owner+` IN SCHEMA `+role+` GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO `+role,
			`ALTER DEFAULT PRIVILEGES FOR ROLE `+owner+` IN SCHEMA `+role+` GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO `+role,
		)
	case "database":
		c.Postgres.Database, c.Postgres.Schema = role, "public"
		p.mustExec(t, "",
			`CREATE ROLE `+owner+` NOLOGIN`,
			`CREATE DATABASE `+role+` OWNER `+owner,
			`REVOKE CONNECT, TEMPORARY ON DATABASE `+role+` FROM PUBLIC`,
			`GRANT CONNECT ON DATABASE `+role+` TO `+role,
		)
		p.mustExec(t, role,
			`REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
			`GRANT USAGE ON SCHEMA public TO `+role,
			`ALTER DEFAULT PRIVILEGES FOR ROLE `+owner+` IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO `+role,
		)
	default:
		t.Fatalf("unknown tier %q", tier)
	}
	c.Postgres.URL = pgURL(role, pgPass, c.Postgres.Host, c.Postgres.Port, c.Postgres.Database)
	c.Postgres.PoolerURL = pgURL(role, pgPass, p.poolerHost, p.poolerPort, c.Postgres.Database)

	// Redis.
	td.add("Redis ACL user of "+id, func(ctx context.Context) error {
		rc := goredis.NewClient(p.redisOpt)
		defer rc.Close()
		if err := rc.Do(ctx, "ACL", "DELUSER", c.Redis.Username).Err(); err != nil {
			return err
		}
		keys, err := rc.Keys(ctx, c.Redis.KeyPrefix+"*").Result()
		if err != nil || len(keys) == 0 {
			return err
		}
		return rc.Del(ctx, keys...).Err()
	})
	acl := []any{"ACL", "SETUSER", c.Redis.Username, "reset", "on", ">" + redisPass,
		"~" + c.Redis.KeyPrefix + "*", "resetchannels", "&" + c.Redis.ChannelPrefix + "*", "-@all"}
	for _, cmd := range redisAllowlist {
		acl = append(acl, cmd)
	}
	p.redis(t, acl...)

	// Kubernetes.
	ns := c.Kubernetes.Namespace
	td.add("namespace "+ns, func(ctx context.Context) error { return p.deleteNamespace(ctx, ns) })
	p.kubeApply(t, http.MethodPost, "/api/v1/namespaces", map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": ns, "labels": map[string]string{
			"tenantstack.io/tenant": id, "tenantstack.io/tier": tier,
			"pod-security.kubernetes.io/enforce": "restricted",
		}},
	})
	p.kubeApply(t, http.MethodPost, "/api/v1/namespaces/"+ns+"/serviceaccounts", map[string]any{
		"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{"name": "app"},
		"automountServiceAccountToken": false,
	})
	crud := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	p.kubeApply(t, http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/namespaces/"+ns+"/roles", map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": map[string]any{"name": "tenant"},
		"rules": []map[string]any{
			{"apiGroups": []string{""}, "resources": []string{"pods", "services", "configmaps", "secrets", "persistentvolumeclaims"}, "verbs": crud},
			{"apiGroups": []string{"apps"}, "resources": []string{"deployments"}, "verbs": crud},
			{"apiGroups": []string{""}, "resources": []string{"pods/log"}, "verbs": []string{"get", "list"}},
			{"apiGroups": []string{"apps"}, "resources": []string{"deployments", "replicasets", "statefulsets"}, "verbs": crud},
			{"apiGroups": []string{"batch"}, "resources": []string{"jobs", "cronjobs"}, "verbs": crud},
		},
	})
	p.kubeApply(t, http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/namespaces/"+ns+"/rolebindings", map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": map[string]any{"name": "tenant"},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tenant"},
		"subjects": []map[string]any{{"kind": "ServiceAccount", "name": "app", "namespace": ns}},
	})
	p.kubeApply(t, http.MethodPost, "/api/v1/namespaces/"+ns+"/resourcequotas", map[string]any{
		"apiVersion": "v1", "kind": "ResourceQuota", "metadata": map[string]any{"name": "tenant"},
		"spec": map[string]any{"hard": map[string]string{"pods": "10", "services.loadbalancers": "0", "services.nodeports": "0"}},
	})
	p.kubeApply(t, http.MethodPost, "/api/v1/namespaces/"+ns+"/limitranges", map[string]any{
		"apiVersion": "v1", "kind": "LimitRange", "metadata": map[string]any{"name": "tenant"},
		"spec": map[string]any{"limits": []map[string]any{{"type": "Container",
			"default": map[string]string{"cpu": "500m", "memory": "256Mi"}}}},
	})
	p.kubeApply(t, http.MethodPost, "/apis/networking.k8s.io/v1/namespaces/"+ns+"/networkpolicies", map[string]any{
		"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": map[string]any{"name": "default-deny"},
		"spec": map[string]any{"podSelector": map[string]any{}, "policyTypes": []string{"Ingress", "Egress"}},
	})
	return c
}

func pgURL(user, password, host string, port int, db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password), Host: host + ":" + strconv.Itoa(port), Path: "/" + db}
	return u.String()
}

func (p *platform) redisHost() string {
	h, _, _ := strings.Cut(p.redisOpt.Addr, ":")
	return h
}

func (p *platform) redisPort() int {
	_, port, _ := strings.Cut(p.redisOpt.Addr, ":")
	n, _ := strconv.Atoi(port)
	return n
}

// deleteNamespace deletes ns and waits until it is gone. A deleted
// namespace refuses new objects; without a controller manager nothing
// empties it, so this deletes what the tests put there and then finalizes
// the namespace itself.
func (p *platform) deleteNamespace(ctx context.Context, ns string) error {
	err := p.kube.Do(ctx, http.MethodDelete, "/api/v1/namespaces/"+ns, nil, nil)
	if probe.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, path := range []string{
		"/apis/rbac.authorization.k8s.io/v1/namespaces/" + ns + "/rolebindings",
		"/apis/rbac.authorization.k8s.io/v1/namespaces/" + ns + "/roles",
		"/apis/networking.k8s.io/v1/namespaces/" + ns + "/networkpolicies",
		"/api/v1/namespaces/" + ns + "/resourcequotas",
		"/api/v1/namespaces/" + ns + "/limitranges",
		"/api/v1/namespaces/" + ns + "/serviceaccounts",
		"/api/v1/namespaces/" + ns + "/configmaps",
		"/api/v1/namespaces/" + ns + "/secrets",
	} {
		if err := p.kube.Do(ctx, http.MethodDelete, path, nil, nil); err != nil && !probe.IsNotFound(err) {
			return err
		}
	}
	fin := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}, "spec": map[string]any{"finalizers": []string{}}}
	if err := p.kube.Do(ctx, http.MethodPut, "/api/v1/namespaces/"+ns+"/finalize", fin, nil); err != nil && !probe.IsNotFound(err) {
		return err
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		err := p.kube.Do(ctx, http.MethodGet, "/api/v1/namespaces/"+ns, nil, nil)
		if probe.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("namespace %s is still there: %w", ns, ctx.Err())
		case <-tick.C:
		}
	}
}

// runProbes runs the probes as self against others and fails the test if
// they cannot run at all.
func (p *platform) runProbes(t *testing.T, self fleet.Credentials, others []fleet.Credentials, opts ...probe.Option) []fleet.Probe {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	probes, err := probe.Run(ctx, p.admin, self, others, opts...)
	if err != nil {
		t.Fatalf("probe.Run as %s: %v", self.Tenant, err)
	}
	return probes
}

func findProbe(probes []fleet.Probe, layer, name, target string) (fleet.Probe, bool) {
	for _, pr := range probes {
		if pr.Layer == layer && pr.Name == name && pr.Target == target {
			return pr, true
		}
	}
	return fleet.Probe{}, false
}

func describe(probes []fleet.Probe) string {
	var b strings.Builder
	for _, pr := range probes {
		status := "PASS"
		if !pr.Passed {
			status = "FAIL"
		}
		fmt.Fprintf(&b, "\n  %s %s/%s [%s]: %s", status, pr.Layer, pr.Name, pr.Target, pr.Detail)
	}
	return b.String()
}
