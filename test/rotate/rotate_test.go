//go:build integration

// Package rotate_test rotates live tenants' credentials on the local
// platform: a tenant's application keeps writing and reading through
// PgBouncer, following its credentials Secret, and sees no failed request;
// afterwards the revoked credential is refused directly, through PgBouncer
// and by Redis, and the new one works with the same row-level security
// identity. It also interrupts a rotation, finishes one by hand, rotates a
// database-tier tenant at once, rotates the fleet by age and checks the
// refusals.
package rotate_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/internal/devplatform"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/probe"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

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

func get(t *testing.T, name string) fleet.Tenant {
	t.Helper()
	var tn fleet.Tenant
	if err := json.Unmarshal([]byte(must(t, "get", name, "-o", "json")), &tn); err != nil {
		t.Fatal(err)
	}
	return tn
}

// secret reads the tenant's credentials Secret from its namespace, as its
// pods do.
type secretReader struct {
	kube *probe.KubeClient
}

func (r secretReader) read(ctx context.Context, name string) (map[string]string, error) {
	var s struct {
		Data map[string]string `json:"data"`
	}
	path := "/api/v1/namespaces/" + tenantspec.Namespace(name) + "/secrets/tenant-credentials"
	if err := r.kube.Do(ctx, "GET", path, nil, &s); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range s.Data {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, err
		}
		out[k] = string(b)
	}
	return out, nil
}

// login reports whether url logs in and runs a query, and as whom.
func login(ctx context.Context, url string) (string, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "", err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cfg.ConnectTimeout = 10 * time.Second
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var who string
	err = conn.QueryRow(ctx, `SELECT session_user`).Scan(&who)
	return who, err
}

func redisURL(c tenantspec.Credentials) string {
	u := url.URL{Scheme: "redis", User: url.UserPassword(c.Redis.Username, c.Redis.Password), Host: net.JoinHostPort(c.Redis.Host, strconv.Itoa(c.Redis.Port))}
	return u.String()
}

func redisLogin(ctx context.Context, url string) error {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	opt.Protocol, opt.DisableIdentity, opt.MaxRetries = 2, true, -1
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	return rdb.Ping(ctx).Err()
}

// redisApp is the tenant's Redis client: it writes and reads a key every
// few milliseconds and, like the App, logs in again when its Secret's
// REDIS_URL changes.
type redisApp struct {
	mu     sync.Mutex
	ops    int
	errs   []string
	logins int
	stop   chan struct{}
	done   chan struct{}
}

func startRedisApp(ctx context.Context, prefix string, url func() (string, error)) *redisApp {
	a := &redisApp{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		var rdb *redis.Client
		cur := ""
		last := time.Time{}
		for i := 0; ; i++ {
			select {
			case <-a.stop:
				if rdb != nil {
					rdb.Close()
				}
				return
			default:
			}
			if time.Since(last) > 200*time.Millisecond {
				last = time.Now()
				if u, err := url(); err == nil && u != cur {
					opt, err := redis.ParseURL(u)
					if err == nil {
						opt.Protocol, opt.DisableIdentity = 2, true
						if rdb != nil {
							rdb.Close()
						}
						rdb, cur = redis.NewClient(opt), u
						a.mu.Lock()
						a.logins++
						a.mu.Unlock()
					}
				}
			}
			if rdb == nil {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			key := fmt.Sprintf("%sk%d", prefix, i%50)
			err := rdb.Set(ctx, key, i, time.Minute).Err()
			if err == nil {
				err = rdb.Get(ctx, key).Err()
			}
			a.mu.Lock()
			a.ops++
			if err != nil {
				a.errs = append(a.errs, err.Error())
			}
			a.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return a
}

func (a *redisApp) halt() (ops, logins int, errs []string) {
	close(a.stop)
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ops, a.logins, a.errs
}

func TestRotate(t *testing.T) {
	env := testenv.Platform(t)
	ctx := context.Background()
	dir := t.TempDir()
	testenv.CopyLedger(t, dir, "0001_currencies.up.sql", "0001_currencies.down.sql", "0002_accounts.sql", "0003_transactions.sql")
	must(t, "platform", "up", "--migrations", dir)
	must(t, "migrate", "up", "--yes")
	kube, err := probe.LoadKubeconfig(env.Kubernetes.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	secrets := secretReader{kube: kube}

	suffix := strings.ToLower(random.UniqueId())
	shared, schema, database := "rs-"+suffix, "rc-"+suffix, "rd-"+suffix
	must(t, "create", shared, "--tier", "shared")
	must(t, "create", schema, "--tier", "schema")
	must(t, "create", database, "--tier", "database")
	t.Cleanup(func() {
		for _, n := range []string{shared, schema, database} {
			testenv.Tenantctl(t, "delete", n, "--yes")
		}
	})

	t.Run("secrets are encrypted at rest in etcd", func(t *testing.T) {
		// The API server serves the Secret in clear; etcd's files (WAL
		// and snapshots) hold no tenant password, and do hold the
		// encrypted form, so the search looked where Secrets are.
		home := os.Getenv("TENANTSTACK_HOME")
		if home == "" {
			t.Fatal("TENANTSTACK_HOME is not set; run the suite with scripts/with-platform.sh")
		}
		data := filepath.Join(home, devplatform.StateDirName, "etcd", "data")
		var needles [][]byte
		for _, n := range []string{shared, schema, database} {
			c := credentials(t, n)
			sec, err := secrets.read(ctx, n)
			if err != nil || sec["PGPASSWORD"] != c.Postgres.Password {
				t.Fatalf("the API server does not serve %s's Secret: %v", n, err)
			}
			needles = append(needles, []byte(c.Postgres.Password), []byte(c.Redis.Password))
		}
		found, encrypted, files := 0, 0, 0
		err := filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			for _, n := range needles {
				if bytes.Contains(b, n) {
					found++
					t.Errorf("%s holds a tenant password in clear", path)
				}
			}
			encrypted += bytes.Count(b, []byte(devplatform.EncryptedPrefix))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("searched %d files under %s: %d passwords in clear, %d encrypted values", files, data, found, encrypted)
		if files == 0 || encrypted < 3 {
			t.Errorf("found %d files and %d encrypted values under %s; want etcd's data with the tenants' Secrets encrypted", files, encrypted, data)
		}
	})

	t.Run("refusals change nothing", func(t *testing.T) {
		before := credentials(t, schema)
		must(t, "suspend", schema)
		_, errOut, code := testenv.Tenantctl(t, "rotate", schema)
		if code != 2 || !strings.Contains(errOut, "is suspended") || !strings.Contains(errOut, "tenantctl resume") {
			t.Errorf("rotating a suspended tenant: exit %d, %q; want exit 2 saying to resume it", code, errOut)
		}
		must(t, "resume", schema)
		for _, tc := range []struct {
			args []string
			code int
			says string
		}{
			{[]string{"rotate", schema, "--finish", "--yes"}, 2, "no rotation under way"},
			{[]string{"rotate", schema, "--grace", "0"}, 2, "--yes"},
			{[]string{"rotate", schema, "--grace", "soon"}, 2, "--grace"},
			{[]string{"rotate", "no-such-tenant"}, 3, "no-such-tenant"},
		} {
			_, errOut, code := testenv.Tenantctl(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.says) {
				t.Errorf("tenantctl %s: exit %d, %q; want exit %d saying %q", strings.Join(tc.args, " "), code, errOut, tc.code, tc.says)
			}
		}
		if after := credentials(t, schema); after.Postgres.Password != before.Postgres.Password || after.Redis.Password != before.Redis.Password {
			t.Errorf("a refused rotation changed the credentials")
		}
		if get(t, schema).Rotation != nil {
			t.Errorf("a refused rotation recorded one")
		}
	})

	t.Run("under load through PgBouncer, no request fails", func(t *testing.T) {
		before := credentials(t, shared)
		fromSecret := func() (tenantspec.Credentials, error) {
			s, err := secrets.read(ctx, shared)
			if err != nil {
				return tenantspec.Credentials{}, err
			}
			c := before
			c.Postgres.PoolerURL, c.Postgres.User = s["DATABASE_URL"], s["PGUSER"]
			return c, nil
		}
		app := &testenv.App{Tenant: shared, Amount: 3, Prefix: "rot-", Refresh: 200 * time.Millisecond, Credentials: fromSecret}
		if err := app.Start(ctx); err != nil {
			t.Fatal(err)
		}
		rapp := startRedisApp(ctx, before.Redis.KeyPrefix, func() (string, error) {
			s, err := secrets.read(ctx, shared)
			return s["REDIS_URL"], err
		})
		time.Sleep(time.Second)
		began := time.Now()
		out, errOut, code := testenv.Tenantctl(t, "rotate", shared, "--grace", "6s", "-o", "json")
		took := time.Since(began)
		time.Sleep(time.Second)
		st := app.Stop()
		ops, logins, rerrs := rapp.halt()
		if code != 0 {
			t.Fatalf("rotate: exit %d\n%s", code, errOut)
		}
		var rep fleet.RotateReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("the report %q: %v", out, err)
		}
		t.Logf("rotation took %s; app: %d writes, %d reads, %d switches, %d refused, %d reconnects, longest write %s; redis: %d ops, %d logins; report %+v",
			took.Round(time.Millisecond), len(st.Written), st.Reads, st.Switches, st.Refused, st.Reconnects, st.LongestWrite, ops, logins, rep)
		if len(st.WriteErrors) > 0 || len(st.ReadErrors) > 0 || len(rerrs) > 0 {
			t.Errorf("failed requests: %d writes %v, %d reads %v, %d redis %v", len(st.WriteErrors), st.WriteErrors, len(st.ReadErrors), st.ReadErrors, len(rerrs), rerrs)
		}
		if st.Refused > 0 || st.Reconnects > 0 {
			t.Errorf("the application saw %d refused logins and %d lost connections; want none", st.Refused, st.Reconnects)
		}
		if st.Switches < 2 || logins < 2 {
			t.Errorf("the application moved %d sessions and %d Redis clients to the new credentials; want both sessions and the client", st.Switches, logins)
		}
		if len(st.Written) == 0 || st.Reads == 0 || st.ForeignRows != 0 {
			t.Errorf("%d writes, %d reads, %d foreign rows", len(st.Written), st.Reads, st.ForeignRows)
		}
		oldUser, newUser := tenantspec.RoleName(shared), tenantspec.AltRoleName(shared)
		if rep.Phase != fleet.RotationRevoked || rep.OldUser != oldUser || rep.NewUser != newUser || !rep.Postgres || !rep.Redis {
			t.Errorf("report %+v; want revoked, %s -> %s, both", rep, oldUser, newUser)
		}

		after := credentials(t, shared)
		sec, err := secrets.read(ctx, shared)
		if err != nil {
			t.Fatal(err)
		}
		if after.Postgres.User != newUser || sec["PGUSER"] != newUser || sec["PGPASSWORD"] != after.Postgres.Password || sec["REDIS_PASSWORD"] != after.Redis.Password {
			t.Errorf("credentials name %s, the Secret %s; want both %s with the new passwords", after.Postgres.User, sec["PGUSER"], newUser)
		}
		if after.Postgres.Password == before.Postgres.Password || after.Redis.Password == before.Redis.Password {
			t.Fatal("the passwords did not change")
		}
		// The revoked credential is refused on every path; the new one works.
		for _, url := range []string{before.Postgres.URL, before.Postgres.PoolerURL} {
			if who, err := login(ctx, url); err == nil {
				t.Errorf("the revoked login still works as %s", who)
			}
		}
		if err := redisLogin(ctx, redisURL(before)); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
			t.Errorf("the revoked Redis password: %v; want WRONGPASS", err)
		}
		for _, url := range []string{after.Postgres.URL, after.Postgres.PoolerURL} {
			if who, err := login(ctx, url); err != nil || who != newUser {
				t.Errorf("the new login: %q, %v", who, err)
			}
		}
		// The same tenant for row-level security: the new login sees every
		// row the old one wrote, and no other tenant's.
		conn, err := pgx.Connect(ctx, after.Postgres.URL)
		if err != nil {
			t.Fatal(err)
		}
		var tenantID string
		var mine, foreign int
		if err := conn.QueryRow(ctx, `SELECT app.current_tenant(), count(*) FILTER (WHERE name LIKE 'app-rot-%'), count(*) FILTER (WHERE tenant_id <> app.current_tenant()) FROM accounts`).
			Scan(&tenantID, &mine, &foreign); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
		if tenantID != shared || mine != len(st.Written) || foreign != 0 {
			t.Errorf("as %s: current_tenant %q, %d of the %d rows written, %d foreign", newUser, tenantID, mine, len(st.Written), foreign)
		}
		g := get(t, shared)
		if g.Rotation == nil || g.Rotation.PostgresRotated.IsZero() || g.Rotation.RedisRotated.IsZero() || g.Rotation.Phase != "" || g.Status != fleet.StatusActive {
			t.Errorf("get shows %+v (status %s); want both rotation times, no phase, active", g.Rotation, g.Status)
		}
		if table := must(t, "get", shared); !strings.Contains(table, "rotation.postgres_rotated") {
			t.Errorf("get's table lacks the rotation time:\n%s", table)
		}
		// verify proves the same with its probes.
		var v fleet.VerifyReport
		out, errOut, code = testenv.Tenantctl(t, "verify", shared, "-o", "json")
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("verify: exit %d %q %s", code, out, errOut)
		}
		revoked := 0
		for _, p := range v.Probes {
			if strings.Contains(p.Name, "revoked") || strings.Contains(p.Name, "current") {
				revoked++
				if !p.Passed {
					t.Errorf("probe %s/%s failed: %s", p.Layer, p.Name, p.Detail)
				}
			}
		}
		if code != 0 || !v.Passed || revoked != 6 {
			t.Errorf("verify: exit %d, passed %v, %d rotation probes (want 6)", code, v.Passed, revoked)
		}
		if list := must(t, "list"); !strings.Contains(list, shared+"\tshared\tactive") {
			t.Errorf("list does not show the rotated tenant active:\n%s", list)
		}
	})

	t.Run("an interrupted rotation completes when run again", func(t *testing.T) {
		before := credentials(t, schema)
		cmd := exec.Command(testenv.TenantctlPath(t), "rotate", schema, "--postgres", "--grace", "10m")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(3 * time.Minute)
		for !strings.Contains(stderr.String(), "stays valid for") && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		if !strings.Contains(stderr.String(), "stays valid for") {
			t.Fatalf("the rotation never reached its grace:\n%s", stderr.String())
		}
		g := get(t, schema)
		if g.Rotation == nil || g.Rotation.Phase != fleet.RotationSwitched {
			t.Fatalf("after the kill get shows %+v; want phase switched", g.Rotation)
		}
		mid := credentials(t, schema)
		// Both logins work during the grace, with the same grants.
		for _, url := range []string{before.Postgres.PoolerURL, mid.Postgres.PoolerURL} {
			conn, err := pgx.Connect(ctx, url+"?default_query_exec_mode=simple_protocol")
			if err != nil {
				t.Fatalf("during the grace: %v", err)
			}
			var n int
			err = conn.QueryRow(ctx, `SELECT count(*) FROM accounts`).Scan(&n)
			conn.Close(ctx)
			if err != nil {
				t.Errorf("during the grace a login cannot read the tenant's table: %v", err)
			}
		}
		if mid.Redis.Password != before.Redis.Password {
			t.Errorf("a PostgreSQL rotation changed the Redis password")
		}
		out := must(t, "rotate", schema, "--finish", "--yes", "-o", "json")
		var rep fleet.RotateReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Phase != fleet.RotationRevoked || !rep.Resumed || rep.Redis {
			t.Fatalf("finish: %q %v; want a resumed PostgreSQL rotation, revoked", out, err)
		}
		if who, err := login(ctx, before.Postgres.PoolerURL); err == nil {
			t.Errorf("after --finish the old login works as %s", who)
		}
		if who, err := login(ctx, mid.Postgres.PoolerURL); err != nil || who != tenantspec.AltRoleName(schema) {
			t.Errorf("after --finish the new login: %q %v", who, err)
		}
	})

	t.Run("database tier, revoked at once, and back to the first role", func(t *testing.T) {
		before := credentials(t, database)
		for i, want := range []string{tenantspec.AltRoleName(database), tenantspec.RoleName(database)} {
			must(t, "rotate", database, "--grace", "0", "--yes")
			c := credentials(t, database)
			if c.Postgres.User != want {
				t.Fatalf("rotation %d: credentials name %s, want %s", i+1, c.Postgres.User, want)
			}
			conn, err := pgx.Connect(ctx, c.Postgres.URL)
			if err != nil {
				t.Fatal(err)
			}
			_, err = conn.Exec(ctx, `INSERT INTO accounts (name, currency) VALUES ($1, 'EUR')`, fmt.Sprintf("db-%d", i))
			conn.Close(ctx)
			if err != nil {
				t.Errorf("rotation %d: the new login cannot write its table: %v", i+1, err)
			}
		}
		if who, err := login(ctx, before.Postgres.URL); err == nil {
			t.Errorf("the first password still works after two rotations, as %s", who)
		}
		_, errOut, code := testenv.Tenantctl(t, "verify", database)
		if code != 0 {
			t.Errorf("verify after two rotations: exit %d %s", code, errOut)
		}
	})

	t.Run("the fleet by age", func(t *testing.T) {
		time.Sleep(2 * time.Second)
		before := map[string]string{}
		for _, n := range []string{shared, schema, database} {
			before[n] = credentials(t, n).Redis.Password
		}
		out := must(t, "rotate", "--all", "--older-than", "1s", "--redis", "--grace", "0", "--yes", "-o", "json")
		var rep fleet.RotateDueReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		rotated := map[string]bool{}
		for _, r := range rep.Rotated {
			rotated[r.Tenant] = r.Phase == fleet.RotationRevoked
		}
		for _, n := range []string{shared, schema, database} {
			if !rotated[n] {
				t.Errorf("%s was not rotated: %+v", n, rep)
			}
			if credentials(t, n).Redis.Password == before[n] {
				t.Errorf("%s kept its Redis password", n)
			}
		}
		// Nothing is older than an hour now: a second run rotates nothing.
		out = must(t, "rotate", "--all", "--older-than", "1h", "--yes", "-o", "json")
		if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Rotated) != 0 {
			t.Errorf("a second run rotated %d tenants: %s", len(rep.Rotated), out)
		}
	})
}
