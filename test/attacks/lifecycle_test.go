//go:build integration

package attacks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/retry"
	test_structure "github.com/gruntwork-io/terratest/modules/test-structure"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/components/tenant"
	"github.com/tenantstack/tenantstack/internal/devplatform"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

// TestLifecycle takes A of a pair per tier through create, verify, suspend,
// resume and delete, and attacks each state: a suspended tenant must not log
// in nor keep its sessions, and a deleted one must leave nothing behind.
// Validate deletes A, so a kept setup validates once.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	env := testenv.Platform(t)
	dir := workDir("lifecycle")

	defer test_structure.RunTestStage(t, "teardown", func() {
		// A schema holding a table is not dropped by its stack.
		ka, _ := pairKeys(tierSchema)
		if test_structure.IsTestDataPresent(t, test_structure.FormatTestDataPath(dir, ka+".json")) {
			s := &pgSuite{env: env}
			table := ident(tenant.SchemaName(test_structure.LoadString(t, dir, ka)), "lifecycle_data")
			if err := s.adminExec(context.Background(), tenant.DefaultPlatformDatabase, "DROP TABLE IF EXISTS "+table); err != nil && sqlState(err) != "3F000" {
				t.Errorf("dropping %s: %v", table, err)
			}
		}
		teardownPairs(t, dir, allTiers)
	})
	test_structure.RunTestStage(t, "setup", func() {
		setupPairs(t, dir, "lc", allTiers)
	})
	test_structure.RunTestStage(t, "validate", func() {
		pairs := loadPairs(t, dir, allTiers)
		platformDB := pairs[0].ca.Postgres.Database
		group(t, "tiers", func(t *testing.T) {
			for _, p := range pairs {
				t.Run(p.tier, func(t *testing.T) {
					t.Parallel()
					admin := redisAdmin(t, env.Redis.AdminURL)
					defer admin.Close()
					lt := &lifeTarget{
						pg: &pgSuite{env: env, platformDB: platformDB}, redis: admin,
						kube: &kube{kubeconfig: env.Kubernetes.Kubeconfig}, p: p, env: env, t: t,
					}
					lifecycle(t, lt)
				})
			}
		})
	})
}

// lifeTarget is a pair whose A goes through its lifecycle.
type lifeTarget struct {
	t     *testing.T // the tier's test, for retries' logs
	env   devplatform.Env
	pg    *pgSuite
	redis *redis.Client
	kube  *kube
	p     *pair
	// sessions are A's open connections, for the attack on suspend.
	sessions *sessions
}

func lifecycle(t *testing.T, lt *lifeTarget) {
	p := lt.p
	ctx := context.Background()
	wantStatus(t, p.a, fleet.StatusActive)
	t.Run("verify", func(t *testing.T) { prove(t, lt, verifyAttack) })

	lt.sessions = openSessions(ctx, p.ca)
	if err := lt.sessions.use(ctx); err != nil {
		t.Fatalf("%s's sessions do not work before it is suspended: %v", p.a, err)
	}
	mustPulumiOp(t, "suspend", p.a)
	wantStatus(t, p.a, fleet.StatusSuspended)
	t.Run("log in while suspended", func(t *testing.T) { prove(t, lt, loginAttack) })
	t.Run("keep a session open across suspend", func(t *testing.T) { prove(t, lt, sessionAttack) })
	lt.sessions.close()

	mustPulumiOp(t, "resume", p.a)
	wantStatus(t, p.a, fleet.StatusActive)
	mustLogIn(t, p.ca, "after resume")

	lt.seedData(t)
	r, err := runPulumiOp("delete", p.a, "--yes", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 0 {
		t.Fatalf("tenantctl delete %s --yes: %s", p.a, r)
	}
	var rep fleet.DeleteReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Errorf("tenantctl delete -o json printed no report: %v\n%s", err, r.stdout)
	}
	if len(rep.Leftovers) > 0 {
		t.Errorf("tenantctl delete reports leftovers itself: %v", rep.Leftovers)
	}
	if r, err := runTenantctl("get", p.a); err != nil || r.code != 3 {
		t.Errorf("tenantctl get %s after delete: %v %v; want exit 3 (not found)", p.a, r, err)
	}
	for _, a := range leftoverAttacks(p.tier) {
		t.Run("left after delete: "+a.name, func(t *testing.T) { prove(t, lt, a) })
	}

	// B is untouched by A's offboarding.
	mustLogIn(t, p.cb, "after "+p.a+" was deleted")
	if out, err := lt.kube.run(ctx, "", "get", "namespace", p.cb.Kubernetes.Namespace, "-o", "name"); err != nil || strings.TrimSpace(out) == "" {
		t.Errorf("%s's namespace is gone after %s was deleted: %v", p.b, p.a, err)
	}
}

func wantStatus(t *testing.T, name string, want fleet.Status) {
	t.Helper()
	var got fleet.Tenant
	if err := json.Unmarshal([]byte(mustTenantctl(t, "get", name, "-o", "json")), &got); err != nil {
		t.Fatalf("tenantctl get %s -o json: %v", name, err)
	}
	if got.Status != want {
		t.Errorf("tenantctl get %s: status %q; want %q", name, got.Status, want)
	}
}

// verifyAttack is tenantctl's own isolation proof, attacked like the rest:
// it must pass on the real setup and report a tenant that was granted
// another's role.
var verifyAttack = attack[*lifeTarget]{
	name:     "tenantctl verify A --against B",
	weakness: "GRANT B's role TO A",
	weaken: func(ctx context.Context, lt *lifeTarget) (undoFunc, error) {
		a, b := ident(lt.p.ca.Postgres.User), ident(lt.p.cb.Postgres.User)
		// PgBouncer keeps server connections made under the grant (B's
		// CONNECT on its database, say) for as long as they are used: a
		// revocation reaches them only when they end.
		undo := func(ctx context.Context) error {
			errs := []error{lt.pg.adminExec(ctx, "postgres", "REVOKE "+b+" FROM "+a), lt.endSessions(ctx)}
			if lt.p.tier == tierDatabase {
				errs = append(errs, resetPool(ctx, lt.env, lt.p.cb.Postgres.Database))
			}
			return errors.Join(errs...)
		}
		if err := lt.pg.adminExec(ctx, "postgres", "GRANT "+b+" TO "+a); err != nil {
			return nil, errors.Join(err, undo(ctx))
		}
		return undo, nil
	},
	run: func(ctx context.Context, lt *lifeTarget) (outcome, error) {
		r, err := runTenantctl("verify", lt.p.a, "--against", lt.p.b, "-o", "json")
		if err != nil {
			return outcome{}, err
		}
		var rep fleet.VerifyReport
		_ = json.Unmarshal([]byte(r.stdout), &rep)
		switch r.code {
		case 0:
			return blockedf("verify passed %d probes", len(rep.Probes)), nil
		case 6:
			var failed []string
			for _, pr := range rep.Probes {
				if !pr.Passed {
					failed = append(failed, pr.Layer+": "+pr.Name+": "+pr.Detail)
				}
			}
			return throughf("verify failed (exit 6): %s", strings.Join(failed, "; ")), nil
		}
		return outcome{}, fmt.Errorf("tenantctl verify: %s", r)
	},
}

// tryLogins logs in as the tenant to PostgreSQL (directly and through
// PgBouncer) and Redis, and says which logins worked and why the others
// did not.
func tryLogins(ctx context.Context, c fleet.Credentials) (worked, refused []string) {
	check := func(what string, err error) {
		if err == nil {
			worked = append(worked, what)
		} else {
			refused = append(refused, what+": "+firstLine(err.Error()))
		}
	}
	for _, u := range []struct{ what, url string }{{"postgres", c.Postgres.URL}, {"pgbouncer", c.Postgres.PoolerURL}} {
		check(u.what, func() error {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			conn, err := pgConnect(ctx, u.url, "")
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			_, err = conn.Exec(ctx, "SELECT 1")
			return err
		}())
	}
	rdb := tenantRedis(c)
	check("redis", rdb.Ping(ctx).Err())
	rdb.Close()
	return worked, refused
}

// mustLogIn fails the test unless every login of the tenant works. PgBouncer
// refuses clients for server_login_retry after its last failed server
// login (the suspended tenant's), hence the retries.
func mustLogIn(t *testing.T, c fleet.Credentials, when string) {
	t.Helper()
	_, err := retry.DoWithRetryContextE(t, context.Background(), c.Tenant+" logs in "+when, 5, time.Second, func() (string, error) {
		if _, refused := tryLogins(context.Background(), c); len(refused) > 0 {
			return "", errors.New(strings.Join(refused, "; "))
		}
		return "", nil
	})
	if err != nil {
		t.Errorf("%s cannot log in everywhere %s: %v", c.Tenant, when, err)
	}
}

var loginAttack = attack[*lifeTarget]{
	name:     "log in while suspended",
	weakness: "ALTER ROLE A LOGIN and ACL SETUSER A on",
	weaken: func(ctx context.Context, lt *lifeTarget) (undoFunc, error) {
		undo := func(ctx context.Context) error { return lt.disableLogins(ctx, true) }
		if err := lt.enableLogins(ctx); err != nil {
			return nil, errors.Join(err, undo(ctx))
		}
		return undo, nil
	},
	// A failure, whatever it says, is a refusal: the weakened run proves
	// the check sees a login that works.
	run: func(ctx context.Context, lt *lifeTarget) (outcome, error) {
		worked, refused := tryLogins(ctx, lt.p.ca)
		if len(worked) > 0 {
			return throughf("logged in to %s", strings.Join(worked, ", ")), nil
		}
		return blockedf("%s", strings.Join(refused, "; ")), nil
	},
}

func (lt *lifeTarget) enableLogins(ctx context.Context) error {
	return errors.Join(
		lt.pg.adminExec(ctx, "postgres", "ALTER ROLE "+ident(lt.p.ca.Postgres.User)+" LOGIN"),
		lt.redis.Do(ctx, "ACL", "SETUSER", lt.p.ca.Redis.Username, "on").Err())
}

// disableLogins suspends A's logins by hand, ending its sessions as
// tenantctl suspend does, or (for the weakened setup) not.
func (lt *lifeTarget) disableLogins(ctx context.Context, endSessions bool) error {
	errs := []error{
		lt.pg.adminExec(ctx, "postgres", "ALTER ROLE "+ident(lt.p.ca.Postgres.User)+" NOLOGIN"),
		lt.redis.Do(ctx, "ACL", "SETUSER", lt.p.ca.Redis.Username, "off").Err(),
	}
	if endSessions {
		errs = append(errs, lt.endSessions(ctx))
	}
	return errors.Join(errs...)
}

func (lt *lifeTarget) endSessions(ctx context.Context) error {
	return errors.Join(
		lt.pg.adminExec(ctx, "postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = "+literal(lt.p.ca.Postgres.User)),
		lt.redis.Do(ctx, "CLIENT", "KILL", "USER", lt.p.ca.Redis.Username).Err())
}

// sessions are a tenant's open connections.
type sessions struct {
	pg, pooled *pgx.Conn
	redis      *redis.Client
	errs       []error // why a session could not be opened
}

func openSessions(ctx context.Context, c fleet.Credentials) *sessions {
	s := &sessions{redis: tenantRedis(c)}
	var err error
	if s.pg, err = pgConnect(ctx, c.Postgres.URL, ""); err != nil {
		s.errs = append(s.errs, err)
	}
	if s.pooled, err = pgConnect(ctx, c.Postgres.PoolerURL, ""); err != nil {
		s.errs = append(s.errs, err)
	}
	return s
}

// use runs a statement on every session.
func (s *sessions) use(ctx context.Context) error {
	if len(s.errs) > 0 {
		return errors.Join(s.errs...)
	}
	_, err := s.check(ctx)
	return err
}

// check runs a statement on every session and says which still work.
func (s *sessions) check(ctx context.Context) ([]string, error) {
	var worked []string
	var errs []error
	for _, c := range []struct {
		what string
		conn *pgx.Conn
	}{{"postgres", s.pg}, {"pgbouncer", s.pooled}} {
		if c.conn == nil {
			continue
		}
		// A live session answers at once; a pooled one whose server
		// connection is gone waits for a server login that is refused.
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := c.conn.Exec(ctx, "SELECT 1")
		cancel()
		if err == nil {
			worked = append(worked, c.what)
		} else {
			errs = append(errs, fmt.Errorf("%s: %w", c.what, err))
		}
	}
	if err := s.redis.Ping(ctx).Err(); err == nil {
		worked = append(worked, "redis")
	} else {
		errs = append(errs, fmt.Errorf("redis: %w", err))
	}
	return worked, errors.Join(errs...)
}

func (s *sessions) close() {
	ctx := context.Background()
	for _, c := range []*pgx.Conn{s.pg, s.pooled} {
		if c != nil {
			c.Close(ctx)
		}
	}
	s.redis.Close()
}

var sessionAttack = attack[*lifeTarget]{
	name: "keep a session open across suspend",
	// A suspend that only disables logins leaves open sessions working.
	weakness: "logins disabled without ending A's sessions",
	weaken: func(ctx context.Context, lt *lifeTarget) (undoFunc, error) {
		undo := func(ctx context.Context) error { return lt.endSessions(ctx) }
		if err := lt.enableLogins(ctx); err != nil {
			return nil, errors.Join(err, undo(ctx))
		}
		// PgBouncer refuses clients for server_login_retry after the last
		// failed server login (the suspended tenant's).
		_, err := retry.DoWithRetryContextE(lt.t, ctx, "open "+lt.p.a+"'s sessions", 5, time.Second, func() (string, error) {
			lt.sessions.close()
			lt.sessions = openSessions(ctx, lt.p.ca)
			return "", lt.sessions.use(ctx)
		})
		if err == nil {
			err = lt.disableLogins(ctx, false)
		}
		if err != nil {
			return nil, errors.Join(err, lt.disableLogins(ctx, true))
		}
		return undo, nil
	},
	run: func(ctx context.Context, lt *lifeTarget) (outcome, error) {
		worked, err := lt.sessions.check(ctx)
		if len(worked) > 0 {
			return throughf("sessions still working: %s", strings.Join(worked, ", ")), nil
		}
		return blockedf("every session ended: %v", err), nil
	},
}

// seedData leaves what a tenant in use has: rows in the shared table, a
// table of its own made by a migration (as its owner role) with a row in
// it, and Redis keys.
func (lt *lifeTarget) seedData(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	c := lt.p.ca
	marker := "lifecycle-" + lt.p.a
	if lt.p.tier != tierShared {
		table := ident(c.Postgres.Schema, "lifecycle_data")
		if err := lt.pg.adminExec(ctx, c.Postgres.Database,
			"SET ROLE "+ident(tenant.OwnerRoleName(lt.p.a)),
			"CREATE TABLE IF NOT EXISTS "+table+" (marker text NOT NULL)"); err != nil {
			t.Fatalf("creating %s as %s's owner role, as a migration would: %v", table, lt.p.a, err)
		}
	}
	conn, err := pgConnect(ctx, c.Postgres.URL, "")
	if err != nil {
		t.Fatalf("%s cannot log in: %v", lt.p.a, err)
	}
	defer conn.Close(ctx)
	table := "app.isolation_probe"
	if lt.p.tier != tierShared {
		table = ident(c.Postgres.Schema, "lifecycle_data")
	}
	if _, err := conn.Exec(ctx, "INSERT INTO "+table+" (marker) VALUES ($1)", marker); err != nil {
		t.Fatalf("%s cannot write into %s: %v", lt.p.a, table, err)
	}
	rdb := tenantRedis(c)
	defer rdb.Close()
	if err := rdb.Set(ctx, c.Redis.KeyPrefix+"lifecycle-data", marker, 0).Err(); err != nil {
		t.Fatalf("%s cannot write its Redis key: %v", lt.p.a, err)
	}
}

// leftoverAttacks each look for one kind of thing of A after its delete;
// each is shown able to find it by planting one by hand.
func leftoverAttacks(tier string) []attack[*lifeTarget] {
	id := func(lt *lifeTarget) string { return lt.p.a }
	found := func(what string, names []string, err error) (outcome, error) {
		if err != nil {
			return outcome{}, err
		}
		if len(names) > 0 {
			return throughf("%s left: %s", what, strings.Join(names, ", ")), nil
		}
		return blockedf("no %s left", what), nil
	}
	// pgQuery runs a query as the admin and returns the first column.
	pgQuery := func(ctx context.Context, lt *lifeTarget, db, sql string, args ...any) ([]string, error) {
		c, err := lt.pg.admin(ctx, db)
		if err != nil {
			return nil, err
		}
		defer c.Close(ctx)
		return strs(ctx, c, sql, args...)
	}
	plant := func(db string, do, undo func(lt *lifeTarget) string) func(ctx context.Context, lt *lifeTarget) (undoFunc, error) {
		return func(ctx context.Context, lt *lifeTarget) (undoFunc, error) {
			if db == "" {
				db = lt.pg.platformDB
			}
			undoFn := func(ctx context.Context) error { return lt.pg.adminExec(ctx, db, undo(lt)) }
			if err := lt.pg.adminExec(ctx, db, do(lt)); err != nil {
				return nil, errors.Join(err, undoFn(ctx))
			}
			return undoFn, nil
		}
	}
	attacks := []attack[*lifeTarget]{
		{
			name:     "PostgreSQL roles",
			weakness: "a role of A's name created by hand",
			weaken: plant("postgres",
				func(lt *lifeTarget) string { return "CREATE ROLE " + ident(tenant.RoleName(id(lt))) + " NOLOGIN" },
				func(lt *lifeTarget) string { return "DROP ROLE IF EXISTS " + ident(tenant.RoleName(id(lt))) }),
			run: func(ctx context.Context, lt *lifeTarget) (outcome, error) {
				names, err := pgQuery(ctx, lt, "postgres", "SELECT rolname::text FROM pg_roles WHERE rolname IN ($1, $2)",
					tenant.RoleName(id(lt)), tenant.OwnerRoleName(id(lt)))
				return found("role", names, err)
			},
		},
		{
			name:     "registry row",
			weakness: "A's row put back into tenantstack.tenants by hand",
			weaken: plant("",
				func(lt *lifeTarget) string {
					return fmt.Sprintf("INSERT INTO tenantstack.tenants (tenant_id, role_name, tier) VALUES (%s, %s, %s)",
						literal(id(lt)), literal(tenant.RoleName(id(lt))), literal(lt.p.tier))
				},
				func(lt *lifeTarget) string {
					return "DELETE FROM tenantstack.tenants WHERE tenant_id = " + literal(id(lt))
				}),
			run: func(ctx context.Context, lt *lifeTarget) (outcome, error) {
				names, err := pgQuery(ctx, lt, lt.pg.platformDB, "SELECT tenant_id FROM tenantstack.tenants WHERE tenant_id = $1", id(lt))
				return found("registry row", names, err)
			},
		},
		{
			name:     "rows in shared tables",
			weakness: "a row with A's tenant_id put into app.isolation_probe by hand",
			weaken: plant("",
				func(lt *lifeTarget) string {
					return "INSERT INTO app.isolation_probe (tenant_id, marker) VALUES (" + literal(id(lt)) + ", 'planted')"
				},
				func(lt *lifeTarget) string {
					return "DELETE FROM app.isolation_probe WHERE tenant_id = " + literal(id(lt))
				}),
			run: func(ctx context.Context, lt *lifeTarget) (outcome, error) {
				// Every table of schema app with a tenant_id column.
				tables, err := pgQuery(ctx, lt, lt.pg.platformDB, `SELECT format('%I.%I', n.nspname, c.relname)
					FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
					JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
					WHERE n.nspname = 'app' AND c.relkind IN ('r', 'p') AND c.relname <> 'tenants'`)
				if err != nil {
					return outcome{}, err
				}
				var left []string
				for _, tbl := range tables {
					n, err := pgQuery(ctx, lt, lt.pg.platformDB, "SELECT count(*)::text FROM "+tbl+" WHERE tenant_id = $1", id(lt))
					if err != nil {
						return outcome{}, err
					}
					if n[0] != "0" {
						left = append(left, n[0]+" in "+tbl)
					}
				}
				return found("rows", left, nil)
			},
		},
		{
			name:     "Redis ACL user",
			weakness: "A's ACL user created by hand",
			weaken: func(ctx context.Context, lt *lifeTarget) (undoFunc, error) {
				undo := func(ctx context.Context) error {
					return lt.redis.Do(ctx, "ACL", "DELUSER", lt.p.ca.Redis.Username).Err()
				}
				return undo, lt.redis.Do(ctx, "ACL", "SETUSER", lt.p.ca.Redis.Username, "off").Err()
			},
			run: func(ctx context.Context, lt *lifeTarget) (outcome, error) {
				users, err := lt.redis.Do(ctx, "ACL", "USERS").StringSlice()
				var left []string
				for _, u := range users {
					if u == lt.p.ca.Redis.Username {
						left = append(left, u)
					}
				}
				return found("ACL user", left, err)
			},
		},
		{
			name:     "Redis keys",
			weakness: "a key under A's prefix written by hand",
			weaken: func(ctx context.Context, lt *lifeTarget) (undoFunc, error) {
				k := lt.p.ca.Redis.KeyPrefix + "planted"
				undo := func(ctx context.Context) error { return lt.redis.Del(ctx, k).Err() }
				return undo, lt.redis.Set(ctx, k, "1", 0).Err()
			},
			run: func(ctx context.Context, lt *lifeTarget) (outcome, error) {
				var left []string
				var cursor uint64
				for {
					keys, next, err := lt.redis.Scan(ctx, cursor, lt.p.ca.Redis.KeyPrefix+"*", 1000).Result()
					if err != nil {
						return outcome{}, err
					}
					left, cursor = append(left, keys...), next
					if cursor == 0 {
						return found("key", left, nil)
					}
				}
			},
		},
		{
			name:     "namespace",
			weakness: "A's namespace created by hand",
			weaken: func(ctx context.Context, lt *lifeTarget) (undoFunc, error) {
				ns := lt.p.ca.Kubernetes.Namespace
				undo := func(ctx context.Context) error {
					_, err := lt.kube.run(ctx, "", "delete", "namespace", ns, "--ignore-not-found", "--wait=true")
					return err
				}
				_, err := lt.kube.run(ctx, "", "create", "namespace", ns)
				return undo, err
			},
			run: func(ctx context.Context, lt *lifeTarget) (outcome, error) {
				out, err := lt.kube.run(ctx, "", "get", "namespace", lt.p.ca.Kubernetes.Namespace, "--ignore-not-found", "-o", "name")
				return found("namespace", strings.Fields(out), err)
			},
		},
	}
	switch tier {
	case tierSchema:
		attacks = append(attacks, attack[*lifeTarget]{
			name:     "schema",
			weakness: "A's schema created by hand",
			weaken: plant("",
				func(lt *lifeTarget) string { return "CREATE SCHEMA " + ident(tenant.SchemaName(id(lt))) },
				func(lt *lifeTarget) string { return "DROP SCHEMA IF EXISTS " + ident(tenant.SchemaName(id(lt))) }),
			run: func(ctx context.Context, lt *lifeTarget) (outcome, error) {
				names, err := pgQuery(ctx, lt, lt.pg.platformDB, "SELECT nspname::text FROM pg_namespace WHERE nspname = $1", tenant.SchemaName(id(lt)))
				return found("schema", names, err)
			},
		})
	case tierDatabase:
		attacks = append(attacks, attack[*lifeTarget]{
			name:     "database",
			weakness: "A's database created by hand",
			weaken: plant("postgres",
				func(lt *lifeTarget) string { return "CREATE DATABASE " + ident(tenant.DatabaseName(id(lt))) },
				func(lt *lifeTarget) string {
					return "DROP DATABASE IF EXISTS " + ident(tenant.DatabaseName(id(lt))) + " WITH (FORCE)"
				}),
			run: func(ctx context.Context, lt *lifeTarget) (outcome, error) {
				names, err := pgQuery(ctx, lt, "postgres", "SELECT datname::text FROM pg_database WHERE datname = $1", tenant.DatabaseName(id(lt)))
				return found("database", names, err)
			},
		})
	}
	return attacks
}
