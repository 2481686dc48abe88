//go:build integration

package platform

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/gruntwork-io/terratest/modules/retry"
	test_structure "github.com/gruntwork-io/terratest/modules/test-structure"
	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/components/cluster"
	"github.com/tenantstack/tenantstack/components/observability"
	"github.com/tenantstack/tenantstack/internal/devplatform"
	"github.com/tenantstack/tenantstack/internal/engine"
	"github.com/tenantstack/tenantstack/internal/testenv"
	"github.com/tenantstack/tenantstack/internal/version"
)

// What the platform program creates with its default configuration.
const (
	platformDatabase = "platform"
	rulesConfigMap   = "observability-prometheus-rules"
)

var (
	groupRoles         = []string{"app_owner", "app_tenant"}
	platformNamespaces = []string{cluster.DefaultPlatformNamespace, cluster.DefaultObservabilityNamespace}
	priorityClasses    = []string{cluster.PlatformPriorityClassName, cluster.TenantPriorityClassName}
)

// Time limits of the Pulumi operations. The first up links the program,
// which is slow on a loaded machine even with a warm build cache.
const (
	buildTimeout   = 25 * time.Minute
	upTimeout      = 20 * time.Minute
	destroyTimeout = 10 * time.Minute
	queryTimeout   = 30 * time.Second
)

// TestPlatformStack runs the root project's `pulumi up`, checks the real
// services, runs up again expecting no change, and destroys the stack,
// expecting nothing left. The Pulumi CLI, our provider and our language
// host are the first on PATH (scripts/with-platform.sh puts bin/ and the
// toolchain there); the Kubernetes provider and kubectl come from the
// toolchain directory of tools/build.sh. Stages (after Terratest) can be skipped with
// SKIP_setup, SKIP_validate, SKIP_idempotent and SKIP_teardown: with
// SKIP_teardown=1 (and KEEP_PLATFORM=1 for scripts/with-platform.sh) the
// stack and its state stay in $TENANTSTACK_HOME/test-platform, and a later
// run with SKIP_setup=1 and the same TENANTSTACK_HOME and
// TENANTSTACK_DEV_ENV picks them up.
func TestPlatformStack(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	defer test_structure.RunTestStage(t, "teardown", s.teardown)
	test_structure.RunTestStage(t, "setup", s.setup)
	test_structure.RunTestStage(t, "validate", s.validate)
	test_structure.RunTestStage(t, "idempotent", s.idempotent)
}

// stack is the platform stack under test and the tools that drive it.
type stack struct {
	t        *testing.T
	env      devplatform.Env
	root     string // the repository root: the Pulumi project
	work     string // PULUMI_HOME, the file backend, the stack's config and test data
	name     string // the stack
	pulumi   string
	kubectl  string
	promtool string
	k8sProv  string // pulumi-resource-kubernetes
	tsProv   string // pulumi-resource-tenantstack
	langHost string // pulumi-language-go
	timings  []string
}

func newStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{t: t, env: testenv.Platform(t)}
	var err error
	if s.root, err = filepath.Abs(filepath.Join("..", "..")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.root, "Pulumi.yaml")); err != nil {
		t.Fatalf("the root project: %v", err)
	}
	tools := s.toolsDir()
	s.kubectl = filepath.Join(tools, "kubectl")
	s.k8sProv = filepath.Join(tools, "pulumi-resource-kubernetes")
	s.pulumi = lookPath(t, "pulumi")
	s.promtool = lookPath(t, "promtool")
	s.tsProv = lookPath(t, "pulumi-resource-tenantstack")
	s.langHost = lookPath(t, "pulumi-language-go")
	for _, bin := range []string{s.kubectl, s.k8sProv} {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("%s: %v; build the toolchain with \"make tools\" (the Kubernetes provider takes about 30 min cold)", bin, err)
		}
	}
	t.Logf("tools: pulumi %s, kubernetes provider %s, tenantstack provider %s, language host %s, kubectl %s, promtool %s",
		s.pulumi, s.k8sProv, s.tsProv, s.langHost, s.kubectl, s.promtool)

	base := os.Getenv("TENANTSTACK_HOME")
	if base == "" {
		base = os.TempDir()
	}
	s.work = filepath.Join(base, "test-platform")
	if os.Getenv("SKIP_setup") != "" {
		s.name = test_structure.LoadString(t, s.work, "stack")
	} else {
		if err := os.RemoveAll(s.work); err != nil {
			t.Fatal(err)
		}
		s.name = "test-" + strings.ToLower(random.UniqueID())
	}
	return s
}

// toolsDir is the directory tools/build.sh builds the toolchain into.
func (s *stack) toolsDir() string {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(s.root, "tools", "build.sh"), "--path")
	cmd.Dir = s.root
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("tools/build.sh --path: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func lookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not on PATH: run the test through scripts/with-platform.sh after \"make build\"", name)
	}
	return p
}

func (s *stack) projectDir() string { return filepath.Join(s.work, "project") }
func (s *stack) configFile() string {
	return filepath.Join(s.projectDir(), "Pulumi."+s.name+".yaml")
}

// pulumiEnv is the offline environment of every Pulumi command. The program
// gets an empty TENANTSTACK_HOME: it must take everything from the stack's
// configuration, not from the local platform's state.
func (s *stack) pulumiEnv() []string {
	empty := filepath.Join(s.work, "empty-home")
	for _, dir := range []string{empty, filepath.Join(s.work, "state"), filepath.Join(s.work, "pulumi-home")} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			s.t.Fatal(err)
		}
	}
	return append(os.Environ(),
		"PULUMI_HOME="+filepath.Join(s.work, "pulumi-home"),
		"PULUMI_BACKEND_URL=file://"+filepath.Join(s.work, "state"),
		"PULUMI_CONFIG_PASSPHRASE=test",
		"PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
		// The resource plugins registered in PULUMI_HOME, not whatever
		// PATH holds.
		"PULUMI_IGNORE_AMBIENT_PLUGINS=true",
		"TENANTSTACK_HOME="+empty,
	)
}

// run runs name with args in dir, streaming its output into the test log
// line by line, and returns the output.
func (s *stack) run(timeout time.Duration, dir string, env []string, name string, args ...string) (string, error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.WaitDelay = 10 * time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var out strings.Builder
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			s.t.Logf("  %s: %s", filepath.Base(name), sc.Text())
			out.WriteString(sc.Text() + "\n")
		}
		io.Copy(io.Discard, pr)
	}()
	s.t.Logf("$ %s %s", filepath.Base(name), strings.Join(redactArgs(args), " "))
	err := cmd.Run()
	pw.Close()
	wg.Wait()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (gave up after %s)", err, timeout)
	}
	return out.String(), err
}

// redactArgs hides the values of `config set --secret` in the log.
func redactArgs(args []string) []string {
	out := slices.Clone(args)
	if slices.Contains(out, "--secret") && len(out) > 0 {
		out[len(out)-1] = "[secret]"
	}
	return out
}

// quiet runs a command and returns its stdout only, without logging it.
func (s *stack) quiet(timeout time.Duration, dir string, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// pulumiCmd runs a Pulumi command on the stack from the repository root,
// with the stack's configuration file.
func (s *stack) pulumiCmd(timeout time.Duration, args ...string) (string, error) {
	s.t.Helper()
	args = append(args, "--stack", s.name, "--config-file", s.configFile(), "--non-interactive")
	return s.run(timeout, s.root, s.pulumiEnv(), s.pulumi, args...)
}

func (s *stack) timed(what string, f func()) {
	start := time.Now()
	f()
	d := time.Since(start).Round(100 * time.Millisecond)
	s.timings = append(s.timings, fmt.Sprintf("%s %s", what, d))
	s.t.Logf("TIMING %s: %s", what, d)
}

// setup checks that the platform holds none of what the stack creates,
// registers the plugins, creates the stack with its configuration and runs
// the first `pulumi up`.
func (s *stack) setup() {
	t := s.t
	s.requireUnoccupied()
	test_structure.SaveString(t, s.work, "stack", s.name)

	// Plugins, laid out as `pulumi plugin install --file` would, by symlink
	// (the Kubernetes provider is 300+ MB): no copy, no download. With
	// ambient plugins ignored, the language host must be registered too.
	home := filepath.Join(s.work, "pulumi-home")
	for _, p := range []struct{ kind, name, version, bin string }{
		{"resource", "kubernetes", engine.KubernetesProviderVersion, s.k8sProv},
		{"resource", "tenantstack", version.ProviderVersion, s.tsProv},
		{"language", "go", version.ProviderVersion, s.langHost},
	} {
		dir := filepath.Join(home, "plugins", fmt.Sprintf("%s-%s-v%s", p.kind, p.name, p.version))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p.bin, filepath.Join(dir, fmt.Sprintf("pulumi-%s-%s", p.kind, p.name))); err != nil {
			t.Fatal(err)
		}
	}

	// The stack is created from a copy of Pulumi.yaml, so that the stack's
	// config file (with its encryption salt) is written there rather than
	// into the checkout; every later command names it with --config-file.
	if err := os.MkdirAll(s.projectDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	project, err := os.ReadFile(filepath.Join(s.root, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.projectDir(), "Pulumi.yaml"), project, 0o644); err != nil {
		t.Fatal(err)
	}
	env := s.pulumiEnv()
	if out, err := s.run(time.Minute, s.projectDir(), env, s.pulumi, "stack", "init", s.name, "--non-interactive"); err != nil {
		t.Fatalf("pulumi stack init: %v\n%s", err, out)
	}
	for _, c := range []struct {
		key, value string
		secret     bool
	}{
		{"tenantstack:postgresAdminUrl", s.env.Postgres.AdminURL, true},
		{"tenantstack:postgresPoolerUrl", s.env.Postgres.PoolerURL, true},
		{"tenantstack:redisAdminUrl", s.env.Redis.AdminURL, true},
		{"tenantstack:kubeconfig", s.env.Kubernetes.Kubeconfig, false},
	} {
		args := []string{"config", "set", "--stack", s.name, c.key}
		if c.secret {
			args = append(args, "--secret")
		}
		if out, err := s.run(time.Minute, s.projectDir(), env, s.pulumi, append(args, c.value)...); err != nil {
			t.Fatalf("pulumi config set %s: %v\n%s", c.key, err, out)
		}
	}
	cfg, err := os.ReadFile(s.configFile())
	if err != nil {
		t.Fatalf("the stack's config file: %v", err)
	}
	for _, secret := range s.passwords() {
		if strings.Contains(string(cfg), secret) {
			t.Fatalf("%s holds a password in plain text", s.configFile())
		}
	}

	// The default Redis user is already off on the local platform. Switch
	// it on (teardown switches it off if the stack did not), with a password nobody knows (so that nobody gets in
	// meanwhile), so that the check after up shows what the stack did.
	pw := randomHex(t, 24)
	s.redisAdmin(func(ctx context.Context, rdb *goredis.Client) error {
		return rdb.Do(ctx, "ACL", "SETUSER", "default", "on", ">"+pw).Err()
	})
	test_structure.SaveString(t, s.work, "redis-default-password", pw)

	// Warm the build cache first, so that up's time is the engine's.
	s.timed("go build ./stacks/platform", func() {
		t.Log("compiling the platform program (minutes when the build cache is cold)")
		if out, err := s.run(buildTimeout, s.root, os.Environ(), "go", "build", "-o", filepath.Join(s.work, "program"), "./stacks/platform"); err != nil {
			t.Fatalf("go build ./stacks/platform: %v\n%s", err, out)
		}
	})
	s.timed("first pulumi up", func() {
		if out, err := s.pulumiCmd(upTimeout, "up", "--yes", "--skip-preview"); err != nil {
			t.Fatalf("pulumi up: %v\nlast lines:\n%s", err, tail(out, 30))
		}
	})
}

// requireUnoccupied makes sure the platform holds nothing of what the
// stack creates: up would fail on it, and destroy would take it from its
// owner. The one occupant it removes is the platform stack of
// TENANTSTACK_HOME, which earlier suites of `make test-integration` bring
// up with tenantctl and leave: `tenantctl platform destroy` refuses while
// tenants remain, and the suites that need it bring it up again.
func (s *stack) requireUnoccupied() {
	t := s.t
	found := s.occupants()
	if len(found) == 0 {
		return
	}
	tenantctl, err := exec.LookPath("tenantctl")
	if err == nil {
		_, err = s.quiet(time.Minute, s.root, os.Environ(), tenantctl, "platform", "outputs")
	}
	if err != nil {
		t.Fatalf("the platform under test already holds %s, and not through the platform stack of TENANTSTACK_HOME (%v). "+
			"Run this test on a platform of its own: scripts/with-platform.sh go test -tags integration ./test/platform/",
			strings.Join(found, ", "), err)
	}
	t.Logf("the platform stack of TENANTSTACK_HOME holds %s: destroying it (tenantctl platform destroy); suites that need it bring it up again",
		strings.Join(found, ", "))
	if out, err := s.run(destroyTimeout, s.root, os.Environ(), tenantctl, "platform", "destroy", "--yes"); err != nil {
		t.Fatalf("tenantctl platform destroy: %v\n%s", err, tail(out, 20))
	}
	_, err = retry.DoWithRetryE(t, "the platform is free", 90, 2*time.Second, func() (string, error) {
		if left := s.occupants(); len(left) > 0 {
			return "", fmt.Errorf("left: %s", strings.Join(left, ", "))
		}
		return "", nil
	})
	if err != nil {
		t.Fatalf("after tenantctl platform destroy: %v", err)
	}
}

// occupants lists the objects of the platform stack the platform holds.
func (s *stack) occupants() []string {
	t := s.t
	var found []string
	s.postgres("postgres", func(ctx context.Context, conn *pgx.Conn) error {
		for _, r := range groupRoles {
			if exists(ctx, t, conn, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, r) {
				found = append(found, "role "+r)
			}
		}
		if exists(ctx, t, conn, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, platformDatabase) {
			found = append(found, "database "+platformDatabase)
		}
		return nil
	})
	for _, ns := range platformNamespaces {
		if s.k8sExists("namespace", ns) {
			found = append(found, "namespace "+ns)
		}
	}
	for _, pc := range priorityClasses {
		if s.k8sExists("priorityclass", pc) {
			found = append(found, "priorityclass "+pc)
		}
	}
	return found
}

// validate checks the stack's outputs and state, and the real services.
func (s *stack) validate() {
	s.checkOutputs()
	s.checkPostgres()
	s.checkRedis()
	s.checkKubernetes()
}

func (s *stack) checkOutputs() {
	t := s.t
	env := s.pulumiEnv()
	args := []string{"stack", "output", "--json", "--stack", s.name}
	plain := map[string]any{}
	out, err := s.quiet(time.Minute, s.projectDir(), env, s.pulumi, args...)
	if err != nil || json.Unmarshal([]byte(out), &plain) != nil {
		t.Fatalf("pulumi stack output --json: %v\n%s", err, out)
	}
	pgURL, poolURL, redisURL := mustURL(t, s.env.Postgres.AdminURL), mustURL(t, s.env.Postgres.PoolerURL), mustURL(t, s.env.Redis.AdminURL)
	want := map[string]any{
		"postgresHost":        pgURL.Hostname(),
		"postgresPort":        port(t, pgURL),
		"poolerHost":          poolURL.Hostname(),
		"poolerPort":          port(t, poolURL),
		"platformDatabase":    platformDatabase,
		"redisHost":           redisURL.Hostname(),
		"redisPort":           port(t, redisURL),
		"kubeconfig":          s.env.Kubernetes.Kubeconfig,
		"platformNamespace":   cluster.DefaultPlatformNamespace,
		"tenantPriorityClass": cluster.TenantPriorityClassName,
		// Secret outputs are masked without --show-secrets.
		"postgresAdminUrl": "[secret]",
		"poolerAdminUrl":   "[secret]",
		"redisAdminUrl":    "[secret]",
	}
	for k, w := range want {
		if got := fmt.Sprint(plain[k]); got != fmt.Sprint(w) {
			t.Errorf("output %s = %q, want %q", k, got, fmt.Sprint(w))
		}
	}
	if ep, _ := plain["otelEndpoint"].(string); !strings.Contains(ep, cluster.DefaultObservabilityNamespace) {
		t.Errorf("output otelEndpoint = %q, want the collector in namespace %s", ep, cluster.DefaultObservabilityNamespace)
	}

	secret := map[string]any{}
	out, err = s.quiet(time.Minute, s.projectDir(), env, s.pulumi, append(args, "--show-secrets")...)
	if err != nil || json.Unmarshal([]byte(out), &secret) != nil {
		t.Fatalf("pulumi stack output --json --show-secrets: %v", err)
	}
	for k, w := range map[string]string{
		"postgresAdminUrl": s.env.Postgres.AdminURL,
		"poolerAdminUrl":   s.env.Postgres.PoolerURL,
		"redisAdminUrl":    s.env.Redis.AdminURL,
	} {
		if secret[k] != w {
			t.Errorf("output %s (revealed) differs from the configured URL", k)
		}
	}

	// No password in the state, in plain text.
	state, err := s.quiet(time.Minute, s.projectDir(), env, s.pulumi, "stack", "export", "--stack", s.name)
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range s.passwords() {
		if strings.Contains(state, pw) {
			t.Error("the stack's state holds an admin password in plain text")
		}
	}
}

func (s *stack) checkPostgres() {
	t := s.t
	s.postgres("postgres", func(ctx context.Context, conn *pgx.Conn) error {
		if !exists(ctx, t, conn, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, platformDatabase) {
			t.Fatalf("database %s does not exist after up", platformDatabase)
		}
		// CONNECT is PUBLIC's by default; the stack revokes it and gives it to app_tenant.
		if exists(ctx, t, conn, `SELECT EXISTS (SELECT 1 FROM pg_database d,
			aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
			WHERE d.datname = $1 AND a.grantee = 0 AND a.privilege_type = 'CONNECT')`, platformDatabase) {
			t.Errorf("PUBLIC may connect to database %s", platformDatabase)
		}
		for _, r := range groupRoles {
			var login bool
			if err := conn.QueryRow(ctx, `SELECT rolcanlogin FROM pg_roles WHERE rolname = $1`, r).Scan(&login); err != nil {
				t.Errorf("role %s: %v", r, err)
			} else if login {
				t.Errorf("role %s can log in; group roles must not", r)
			}
		}
		if !exists(ctx, t, conn, `SELECT has_database_privilege('app_tenant', $1, 'CONNECT')`, platformDatabase) {
			t.Errorf("app_tenant may not connect to database %s", platformDatabase)
		}
		return nil
	})
	s.postgres(platformDatabase, func(ctx context.Context, conn *pgx.Conn) error {
		for what, query := range map[string]string{
			"app.current_tenant()":          `SELECT to_regprocedure('app.current_tenant()') IS NOT NULL`,
			"app.enable_tenant_isolation":   `SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'app' AND p.proname = 'enable_tenant_isolation')`,
			"tenantstack.tenants":           `SELECT to_regclass('tenantstack.tenants') IS NOT NULL`,
			"app.isolation_probe":           `SELECT to_regclass('app.isolation_probe') IS NOT NULL`,
			"schema app owned by app_owner": `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'app' AND nspowner = 'app_owner'::regrole)`,
			// The platform migration ran enable_tenant_isolation on the probe table.
			"row-level security forced on app.isolation_probe": `SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'app.isolation_probe'::regclass`,
		} {
			if !exists(ctx, t, conn, query) {
				t.Errorf("platform database: %s is missing", what)
			}
		}
		// The admin is no tenant: the function works and maps it to none.
		var tenant *string
		if err := conn.QueryRow(ctx, `SELECT app.current_tenant()`).Scan(&tenant); err != nil {
			t.Errorf("SELECT app.current_tenant(): %v", err)
		} else if tenant != nil {
			t.Errorf("app.current_tenant() for the admin = %q, want NULL", *tenant)
		}
		return nil
	})
}

func (s *stack) checkRedis() {
	t := s.t
	addr := mustURL(t, s.env.Redis.AdminURL).Host
	pw := test_structure.LoadString(t, s.work, "redis-default-password")
	replies := redisRaw(t, addr, []string{"PING"}, []string{"AUTH", "default", ""}, []string{"AUTH", "default", pw}, []string{"AUTH", pw})
	for i, want := range []string{"-NOAUTH", "-WRONGPASS", "-WRONGPASS", "-WRONGPASS"} {
		if !strings.HasPrefix(replies[i], want) {
			t.Errorf("Redis reply %d = %q, want %s...: the default user must be refused", i, replies[i], want)
		}
	}
	if rules := s.defaultUserRules(); !slices.Contains(rules, "off") {
		t.Errorf("ACL of the default user = %q, want it off", rules)
	}
}

func (s *stack) checkKubernetes() {
	t := s.t
	for _, ns := range platformNamespaces {
		if !s.k8sExists("namespace", ns) {
			t.Errorf("namespace %s does not exist after up", ns)
		}
	}
	for _, pc := range priorityClasses {
		if !s.k8sExists("priorityclass", pc) {
			t.Errorf("priorityclass %s does not exist after up", pc)
		}
	}

	// The SLO rules, as stored in the cluster, pass promtool.
	key := strings.ReplaceAll(observability.RulesFileName, ".", `\.`)
	rules, err := s.quiet(time.Minute, s.root, os.Environ(), s.kubectl, "--kubeconfig", s.env.Kubernetes.Kubeconfig,
		"get", "configmap", rulesConfigMap, "-n", cluster.DefaultObservabilityNamespace, "-o", "jsonpath={.data."+key+"}")
	if err != nil {
		t.Fatalf("reading the rules: %v", err)
	}
	if !strings.Contains(rules, "groups:") {
		t.Fatalf("configmap %s/%s key %s holds no rule groups: %q", cluster.DefaultObservabilityNamespace, rulesConfigMap, observability.RulesFileName, rules)
	}
	file := filepath.Join(t.TempDir(), observability.RulesFileName)
	if err := os.WriteFile(file, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := s.run(time.Minute, s.root, os.Environ(), s.promtool, "check", "rules", file)
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`SUCCESS: (\d+) rules found`).FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Errorf("promtool found no rules:\n%s", out)
	}
}

// update is an entry of `pulumi stack history --json`.
type update struct {
	Kind            string         `json:"kind"`
	Result          string         `json:"result"`
	Version         int            `json:"version"`
	ResourceChanges map[string]int `json:"resourceChanges"`
}

// idempotent runs up again, which must change nothing, and a refresh,
// which must find no drift.
func (s *stack) idempotent() {
	t := s.t
	s.timed("second pulumi up", func() {
		if out, err := s.pulumiCmd(upTimeout, "up", "--yes", "--skip-preview", "--expect-no-changes"); err != nil {
			t.Fatalf("second pulumi up changed something or failed: %v\n%s", err, tail(out, 60))
		}
	})
	out, err := s.quiet(time.Minute, s.projectDir(), s.pulumiEnv(), s.pulumi, "stack", "history", "--json", "--stack", s.name)
	if err != nil {
		t.Fatal(err)
	}
	var history []update
	if err := json.Unmarshal([]byte(out), &history); err != nil || len(history) < 2 {
		t.Fatalf("pulumi stack history --json: %v\n%s", err, out)
	}
	last := slices.MaxFunc(history, func(a, b update) int { return a.Version - b.Version })
	for op, n := range last.ResourceChanges {
		if op != "same" && n > 0 {
			t.Errorf("second up: %d %s, want every resource the same (%v)", n, op, last.ResourceChanges)
		}
	}
	if last.ResourceChanges["same"] == 0 {
		t.Errorf("second up reports no resource at all: %+v", last)
	}
	t.Logf("second up: %v", last.ResourceChanges)

	s.timed("pulumi refresh", func() {
		if out, err := s.pulumiCmd(upTimeout, "refresh", "--yes", "--skip-preview", "--expect-no-changes"); err != nil {
			t.Errorf("refresh right after up found drift or failed: %v\n%s", err, tail(out, 60))
		}
	})
}

// teardown destroys the stack and checks that nothing is left: not the
// database, the roles, the namespaces or the priority classes.
func (s *stack) teardown() {
	t := s.t
	defer func() { t.Logf("timings: %s", strings.Join(s.timings, ", ")) }()
	if _, err := os.Stat(s.configFile()); err != nil {
		t.Logf("no stack was created (%v); nothing to destroy", err)
		return
	}
	var destroyErr error
	s.timed("pulumi destroy", func() {
		var out string
		if out, destroyErr = s.pulumiCmd(destroyTimeout, "destroy", "--yes", "--skip-preview"); destroyErr != nil {
			t.Errorf("pulumi destroy: %v\n%s", destroyErr, tail(out, 60))
		}
	})

	// The state is empty.
	if out, err := s.quiet(time.Minute, s.projectDir(), s.pulumiEnv(), s.pulumi, "stack", "export", "--stack", s.name); err != nil {
		t.Errorf("pulumi stack export: %v", err)
	} else {
		var dep struct {
			Deployment struct {
				Resources []struct {
					URN string `json:"urn"`
				} `json:"resources"`
			} `json:"deployment"`
		}
		if err := json.Unmarshal([]byte(out), &dep); err != nil {
			t.Errorf("pulumi stack export: %v", err)
		}
		for _, r := range dep.Deployment.Resources {
			t.Errorf("left in the state after destroy: %s", r.URN)
		}
	}

	// The services hold nothing of the stack's.
	s.postgres("postgres", func(ctx context.Context, conn *pgx.Conn) error {
		if exists(ctx, t, conn, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, platformDatabase) {
			t.Errorf("database %s is left after destroy", platformDatabase)
		}
		for _, r := range groupRoles {
			if exists(ctx, t, conn, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, r) {
				t.Errorf("role %s is left after destroy", r)
			}
		}
		return nil
	})
	for _, pc := range priorityClasses {
		if s.k8sExists("priorityclass", pc) {
			t.Errorf("priorityclass %s is left after destroy", pc)
		}
	}
	// Namespaces terminate in the background (the controller manager
	// empties them first).
	for _, ns := range platformNamespaces {
		_, err := retry.DoWithRetryE(t, "namespace "+ns+" is gone", 90, 2*time.Second, func() (string, error) {
			if s.k8sExists("namespace", ns) {
				return "", fmt.Errorf("namespace %s still exists", ns)
			}
			return "", nil
		})
		if err != nil {
			t.Errorf("namespace %s is left 3 min after destroy: %v", ns, err)
		}
	}

	// The default Redis user cannot be deleted: destroy leaves it off.
	if rules := s.defaultUserRules(); !slices.Contains(rules, "off") {
		t.Errorf("after destroy the default Redis user is %q, want it left off", rules)
		s.redisAdmin(func(ctx context.Context, rdb *goredis.Client) error {
			return rdb.Do(ctx, "ACL", "SETUSER", "default", "off", "resetpass").Err()
		})
	}
	if replies := redisRaw(t, mustURL(t, s.env.Redis.AdminURL).Host, []string{"PING"}); !strings.HasPrefix(replies[0], "-NOAUTH") {
		t.Errorf("after destroy an unauthenticated PING gets %q, want NOAUTH", replies[0])
	}

	if destroyErr == nil && !t.Failed() {
		if out, err := s.run(time.Minute, s.projectDir(), s.pulumiEnv(), s.pulumi, "stack", "rm", "--yes", "--stack", s.name, "--non-interactive"); err != nil {
			t.Errorf("pulumi stack rm: %v\n%s", err, out)
		}
		os.RemoveAll(s.work)
	} else {
		t.Logf("stack %s and its state kept in %s for debugging", s.name, s.work)
	}
}

// passwords are the admin passwords the stack is configured with.
func (s *stack) passwords() []string {
	var out []string
	for _, u := range []string{s.env.Postgres.AdminURL, s.env.Postgres.PoolerURL, s.env.Redis.AdminURL} {
		if pw, ok := mustURL(s.t, u).User.Password(); ok && pw != "" {
			out = append(out, pw)
		}
	}
	return out
}

// postgres runs f on an admin connection to database db, closed after: a
// session left open would keep destroy from dropping the database.
func (s *stack) postgres(db string, f func(ctx context.Context, conn *pgx.Conn) error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	u := mustURL(s.t, s.env.Postgres.AdminURL)
	u.Path = "/" + db
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		s.t.Fatalf("connecting to database %s as the admin: %v", db, err)
	}
	defer conn.Close(context.Background())
	if err := f(ctx, conn); err != nil {
		s.t.Fatal(err)
	}
}

func exists(ctx context.Context, t *testing.T, conn *pgx.Conn, query string, args ...any) bool {
	t.Helper()
	var ok *bool
	if err := conn.QueryRow(ctx, query, args...).Scan(&ok); err != nil {
		t.Fatalf("%s: %v", strings.Join(strings.Fields(query), " "), err)
	}
	return ok != nil && *ok
}

func (s *stack) redisAdmin(f func(ctx context.Context, rdb *goredis.Client) error) {
	s.t.Helper()
	opts, err := goredis.ParseURL(s.env.Redis.AdminURL)
	if err != nil {
		s.t.Fatal(err)
	}
	opts.DisableIdentity = true
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	if err := f(ctx, rdb); err != nil {
		s.t.Fatal(err)
	}
}

// defaultUserRules are the words of the default user's line in ACL LIST.
func (s *stack) defaultUserRules() []string {
	var rules []string
	s.redisAdmin(func(ctx context.Context, rdb *goredis.Client) error {
		lines, err := rdb.Do(ctx, "ACL", "LIST").StringSlice()
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 2 && f[0] == "user" && f[1] == "default" {
				rules = f[2:]
			}
		}
		return err
	})
	return rules
}

// redisRaw sends each command on one new connection that never
// authenticated as anyone, and returns the first line of each reply.
func redisRaw(t *testing.T, addr string, cmds ...[]string) []string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("connecting to Redis at %s: %v", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(queryTimeout))
	r := bufio.NewReader(conn)
	var replies []string
	for _, c := range cmds {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(c))
		for _, a := range c {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := conn.Write([]byte(b.String())); err != nil {
			t.Fatalf("Redis %s: %v", c[0], err)
		}
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("Redis %s: %v", c[0], err)
		}
		replies = append(replies, strings.TrimRight(line, "\r\n"))
	}
	return replies
}

// k8sExists reports whether the cluster has the object.
func (s *stack) k8sExists(kind, name string) bool {
	s.t.Helper()
	out, err := s.quiet(time.Minute, s.root, os.Environ(), s.kubectl, "--kubeconfig", s.env.Kubernetes.Kubeconfig,
		"get", kind, name, "--ignore-not-found", "-o", "name")
	if err != nil {
		s.t.Fatalf("kubectl get %s %s: %v", kind, name, err)
	}
	return strings.TrimSpace(out) != ""
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("a platform URL does not parse: %v", err)
	}
	return u
}

func port(t *testing.T, u *url.URL) string {
	t.Helper()
	if u.Port() == "" {
		t.Fatalf("URL of %s has no port", u.Hostname())
	}
	return u.Port()
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
