//go:build integration

// Package tenantctl_test drives the built tenantctl binary end to end against
// the local platform that `make test` starts: every verb, every tier,
// idempotency, interruption, concurrency and bad input.
package tenantctl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/random"
	test_structure "github.com/gruntwork-io/terratest/modules/test-structure"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

var platformOnce sync.Once

// tenantctl runs the built binary and returns stdout, stderr and exit code.
func tenantctl(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return testenv.Tenantctl(t, args...)
}

func mustTenantctl(t *testing.T, args ...string) string {
	t.Helper()
	return testenv.MustTenantctl(t, args...)
}

// platformUp brings the platform stack up once for the whole package.
func platformUp(t *testing.T) {
	t.Helper()
	testenv.Platform(t)
	platformOnce.Do(func() { mustTenantctl(t, "platform", "up") })
}

func uniqueName(prefix string) string {
	return prefix + "-" + strings.ToLower(random.UniqueId())
}

func credentials(t *testing.T, name string) fleet.Credentials {
	t.Helper()
	var c fleet.Credentials
	if err := json.Unmarshal([]byte(mustTenantctl(t, "credentials", name, "-o", "json")), &c); err != nil {
		t.Fatalf("credentials %s -o json: %v", name, err)
	}
	return c
}

// pgLogin logs in with url and runs a query. The simple protocol works
// through PgBouncer in transaction mode, which keeps no prepared statements.
func pgLogin(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var one int
	return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
}

func redisLogin(ctx context.Context, c fleet.Credentials) error {
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("%s:%d", c.Redis.Host, c.Redis.Port),
		Username: c.Redis.Username, Password: c.Redis.Password})
	defer rdb.Close()
	return rdb.Set(ctx, c.Redis.KeyPrefix+"login", "1", time.Minute).Err()
}

// writeKeys writes n keys under the tenant's prefix as the tenant.
func writeKeys(ctx context.Context, c fleet.Credentials, n int) error {
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("%s:%d", c.Redis.Host, c.Redis.Port),
		Username: c.Redis.Username, Password: c.Redis.Password})
	defer rdb.Close()
	pipe := rdb.Pipeline()
	for i := range n {
		pipe.Set(ctx, fmt.Sprintf("%sk%d", c.Redis.KeyPrefix, i), "v", 0)
	}
	_, err := pipe.Exec(ctx)
	return err
}

// countKeys counts, as the platform admin, the keys under prefix.
func countKeys(t *testing.T, prefix string) int {
	t.Helper()
	opts, err := redis.ParseURL(testenv.Platform(t).Redis.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	n := 0
	iter := rdb.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
	for iter.Next(context.Background()) {
		n++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLifecycle takes one tenant per tier through every verb.
func TestLifecycle(t *testing.T) {
	platformUp(t)
	for _, tier := range []string{"shared", "schema", "database"} {
		t.Run(tier, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			name := uniqueName(tier[:2])
			other := uniqueName("o" + tier[:1])
			defer test_structure.RunTestStage(t, "teardown", func() {
				tenantctl(t, "delete", name, "--yes")
				tenantctl(t, "delete", other, "--yes")
			})
			test_structure.RunTestStage(t, "setup", func() {
				mustTenantctl(t, "create", name, "--tier", tier)
				mustTenantctl(t, "create", other, "--tier", "shared")
			})
			test_structure.RunTestStage(t, "validate", func() {
				// A second create is refused, and changes nothing.
				if _, stderr, code := tenantctl(t, "create", name, "--tier", tier); code != 4 || !strings.Contains(stderr, "already exists") {
					t.Errorf("second create: exit %d, stderr %q; want exit 4 saying it already exists", code, stderr)
				}
				var got fleet.Tenant
				if err := json.Unmarshal([]byte(mustTenantctl(t, "get", name, "-o", "json")), &got); err != nil {
					t.Fatal(err)
				}
				if got.Tier != tier || got.Status != fleet.StatusActive {
					t.Errorf("get: tier %q status %q; want %q active", got.Tier, got.Status, tier)
				}
				if list := mustTenantctl(t, "list"); !strings.Contains(list, name+"\t"+tier+"\tactive") {
					t.Errorf("list does not show %s as %s and active:\n%s", name, tier, list)
				}

				c := credentials(t, name)
				if c.Tenant != name || c.Tier != tier || c.Kubernetes.Namespace != "tenant-"+name || c.Redis.KeyPrefix != "t:"+name+":" {
					t.Errorf("credentials: %+v", c)
				}
				for _, u := range []string{c.Postgres.URL, c.Postgres.PoolerURL} {
					if err := pgLogin(ctx, u); err != nil {
						t.Errorf("tenant login to %s failed: %v", strings.Split(u, "@")[1], err)
					}
				}
				if err := redisLogin(ctx, c); err != nil {
					t.Errorf("tenant redis login: %v", err)
				}

				mustTenantctl(t, "verify", name, "--against", other)

				mustTenantctl(t, "update", name, "--quota", "pods=7")
				if q := kubectl(t, "get", "resourcequota", "-n", "tenant-"+name, "-o", "jsonpath={.items[0].spec.hard.pods}"); q != "7" {
					t.Errorf("after update --quota pods=7 the quota says pods=%q", q)
				}
				if _, stderr, code := tenantctl(t, "update", name, "--tier", otherTier(tier)); code != 2 || !strings.Contains(stderr, "update does not change the tier") {
					t.Errorf("tier change: exit %d, %q; want exit 2 refusing it", code, stderr)
				}

				mustTenantctl(t, "suspend", name)
				if err := pgLogin(ctx, c.Postgres.URL); err == nil {
					t.Errorf("a suspended tenant could still log in to PostgreSQL")
				}
				if err := redisLogin(ctx, c); err == nil {
					t.Errorf("a suspended tenant could still log in to Redis")
				}
				mustTenantctl(t, "resume", name)
				if err := pgLogin(ctx, c.Postgres.URL); err != nil {
					t.Errorf("a resumed tenant cannot log in: %v", err)
				}

				// More keys than one SCAN page holds: delete removes them all.
				const keys = 2500
				if err := writeKeys(ctx, c, keys); err != nil {
					t.Fatalf("writing %d keys as the tenant: %v", keys, err)
				}

				export := t.TempDir()
				var rep fleet.DeleteReport
				if err := json.Unmarshal([]byte(mustTenantctl(t, "delete", name, "--yes", "--export", export, "-o", "json")), &rep); err != nil {
					t.Fatal(err)
				}
				if len(rep.Leftovers) != 0 {
					t.Errorf("delete left %v", rep.Leftovers)
				}
				files, _ := filepath.Glob(filepath.Join(rep.ExportedTo, "*"))
				if len(files) < 2 {
					t.Errorf("export wrote %v; want the PostgreSQL data and redis.jsonl", files)
				}
				if _, _, code := tenantctl(t, "get", name); code != 3 {
					t.Errorf("get after delete: exit %d; want 3 (not found)", code)
				}
				if n := countKeys(t, c.Redis.KeyPrefix); n != 0 {
					t.Errorf("%d redis keys of the tenant are left after delete (removed: %v)", n, rep.Removed)
				}
				if err := pgLogin(ctx, c.Postgres.URL); err == nil {
					t.Errorf("a deleted tenant could still log in")
				}
			})
		})
	}
}

func otherTier(t string) string {
	if t == "shared" {
		return "schema"
	}
	return "shared"
}

func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	env := testenv.Platform(t)
	out, err := exec.Command("kubectl", append([]string{"--kubeconfig", env.Kubernetes.Kubeconfig}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestBadInput: every refusal is a usage error and changes nothing.
func TestBadInput(t *testing.T) {
	platformUp(t)
	before := mustTenantctl(t, "list")
	cases := []struct {
		name string
		args []string
		code int
		says string
	}{
		{"uppercase", []string{"create", "Acme", "--tier", "shared"}, 2, "lowercase"},
		{"too long", []string{"create", strings.Repeat("a", 41), "--tier", "shared"}, 2, "40"},
		{"reserved public", []string{"create", "public", "--tier", "shared"}, 2, "reserved"},
		{"reserved postgres", []string{"create", "postgres", "--tier", "shared"}, 2, "reserved"},
		{"reserved kube-system", []string{"create", "kube-system", "--tier", "shared"}, 2, "reserved"},
		{"glob", []string{"create", "ac*me", "--tier", "shared"}, 2, ""},
		{"quote", []string{"create", "ac'me", "--tier", "shared"}, 2, ""},
		{"unknown tier", []string{"create", "fine-name", "--tier", "gold"}, 2, "shared"},
		{"delete unknown", []string{"delete", "no-such-tenant-x", "--yes"}, 3, "no tenant"},
		{"delete without --yes", []string{"delete", "no-such-tenant-x"}, 2, "--yes"},
		{"get unknown", []string{"get", "no-such-tenant-x"}, 3, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := tenantctl(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d; want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.says) {
				t.Errorf("stderr %q does not say %q", stderr, tc.says)
			}
		})
	}
	if after := mustTenantctl(t, "list"); after != before {
		t.Errorf("bad input changed the tenant list:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestInterruptedCreateCompletes kills a create half way and runs it again.
func TestInterruptedCreateCompletes(t *testing.T) {
	platformUp(t)
	name := uniqueName("kill")
	defer test_structure.RunTestStage(t, "teardown", func() { tenantctl(t, "delete", name, "--yes") })
	bin, _ := filepath.Abs("../../bin/tenantctl")
	cmd := exec.Command(bin, "create", name, "--tier", "schema")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the whole process group (tenantctl, pulumi, providers) once the
	// engine has started creating resources.
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stderr.String(), "create") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	if !strings.Contains(stderr.String(), "create") {
		t.Fatalf("the create never started creating resources:\n%s", stderr.String())
	}
	mustTenantctl(t, "create", name, "--tier", "schema")
	c := credentials(t, name)
	if err := pgLogin(context.Background(), c.Postgres.URL); err != nil {
		t.Errorf("after completing the interrupted create the tenant cannot log in: %v", err)
	}

	// A kill inside fileblob's sidecar write left an empty .attrs beside
	// the stack's state, and every later command on the backend failed
	// with "EOF". tenantctl writes no sidecars, and removes torn ones.
	stacks := filepath.Join(os.Getenv("TENANTSTACK_HOME"), "state", ".pulumi", "stacks", fleet.TenantProject)
	state := filepath.Join(stacks, "local-"+name+".json")
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("the tenant's state is not where the test looks: %v", err)
	}
	if _, err := os.Stat(state + ".attrs"); !os.IsNotExist(err) {
		t.Errorf("tenantctl wrote a state sidecar %s.attrs (stat: %v)", state, err)
	}
	if err := os.WriteFile(state+".attrs", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr2, code := tenantctl(t, "get", name)
	if code != 0 || !strings.Contains(stderr2, "torn by a killed process") {
		t.Errorf("get with a torn sidecar: exit %d, stderr %q; want 0 and a warning", code, stderr2)
	}
	if out := mustTenantctl(t, "list"); !strings.Contains(out, name) {
		t.Errorf("list after the repair does not show %s:\n%s", name, out)
	}
}

// TestConcurrentCreates creates tenants of every tier at once.
func TestConcurrentCreates(t *testing.T) {
	platformUp(t)
	names := []string{uniqueName("ca"), uniqueName("cb"), uniqueName("cc")}
	tiers := []string{"shared", "schema", "database"}
	defer test_structure.RunTestStage(t, "teardown", func() {
		for _, n := range names {
			tenantctl(t, "delete", n, "--yes")
		}
	})
	var wg sync.WaitGroup
	errs := make([]string, len(names))
	for i := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, stderr, code := tenantctl(t, "create", names[i], "--tier", tiers[i]); code != 0 {
				errs[i] = fmt.Sprintf("create %s: exit %d\n%s%s", names[i], code, out, stderr)
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
	for _, n := range names {
		if err := pgLogin(context.Background(), credentials(t, n).Postgres.URL); err != nil {
			t.Errorf("%s cannot log in: %v", n, err)
		}
	}
}

// TestVerifyCatchesWeakenedTenant shows verify failing when isolation is
// broken by hand, and passing again once it is repaired.
func TestVerifyCatchesWeakenedTenant(t *testing.T) {
	platformUp(t)
	ctx := context.Background()
	a, b := uniqueName("wa"), uniqueName("wb")
	defer test_structure.RunTestStage(t, "teardown", func() {
		tenantctl(t, "delete", a, "--yes")
		tenantctl(t, "delete", b, "--yes")
	})
	mustTenantctl(t, "create", a, "--tier", "shared")
	mustTenantctl(t, "create", b, "--tier", "shared")
	mustTenantctl(t, "verify", a, "--against", b)

	admin, err := pgx.Connect(ctx, testenv.Platform(t).Postgres.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	ca, cb := credentials(t, a), credentials(t, b)
	grant := fmt.Sprintf("GRANT %s TO %s", pgx.Identifier{cb.Postgres.User}.Sanitize(), pgx.Identifier{ca.Postgres.User}.Sanitize())
	if _, err := admin.Exec(ctx, grant); err != nil {
		t.Fatal(err)
	}
	out, _, code := tenantctl(t, "verify", a, "--against", b)
	if code != 6 {
		t.Errorf("verify of a tenant granted another's role: exit %d; want 6 (isolation failed)\n%s", code, out)
	}
	if _, err := admin.Exec(ctx, strings.Replace(strings.Replace(grant, "GRANT", "REVOKE", 1), " TO ", " FROM ", 1)); err != nil {
		t.Fatal(err)
	}
	mustTenantctl(t, "verify", a, "--against", b)
}

// TestApplyFleet creates, keeps and prunes tenants from a fleet file.
func TestApplyFleet(t *testing.T) {
	platformUp(t)
	a, b := uniqueName("fa"), uniqueName("fb")
	defer test_structure.RunTestStage(t, "teardown", func() {
		tenantctl(t, "delete", a, "--yes")
		tenantctl(t, "delete", b, "--yes")
	})
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "tenants.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	both := write(fmt.Sprintf("tenants:\n  - name: %s\n    tier: shared\n  - name: %s\n    tier: schema\n", a, b))
	var rep fleet.ApplyReport
	json.Unmarshal([]byte(mustTenantctl(t, "apply", "-f", both, "--parallel", "2", "-o", "json")), &rep)
	if len(rep.Created) != 2 {
		t.Errorf("first apply created %v; want both", rep.Created)
	}
	rep = fleet.ApplyReport{}
	json.Unmarshal([]byte(mustTenantctl(t, "apply", "-f", both, "-o", "json")), &rep)
	if len(rep.Unchanged) != 2 || len(rep.Created)+len(rep.Updated) != 0 {
		t.Errorf("second apply: %+v; want both unchanged", rep)
	}
	onlyA := write(fmt.Sprintf("tenants:\n  - name: %s\n    tier: shared\n", a))
	rep = fleet.ApplyReport{}
	json.Unmarshal([]byte(mustTenantctl(t, "apply", "-f", onlyA, "-o", "json")), &rep)
	if len(rep.Deleted) != 0 {
		t.Errorf("apply without --prune deleted %v", rep.Deleted)
	}
	rep = fleet.ApplyReport{}
	json.Unmarshal([]byte(mustTenantctl(t, "apply", "-f", onlyA, "--prune", "--yes", "-o", "json")), &rep)
	if len(rep.Deleted) != 1 || rep.Deleted[0] != b {
		t.Errorf("apply --prune deleted %v; want [%s]", rep.Deleted, b)
	}
	if _, _, code := tenantctl(t, "get", b); code != 3 {
		t.Errorf("pruned tenant still exists (get exit %d)", code)
	}
}
