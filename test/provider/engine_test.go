//go:build integration

package provider_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	goredis "github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/internal/toolchain"
	tenantstack "github.com/tenantstack/tenantstack/sdk"
	"github.com/tenantstack/tenantstack/sdk/postgres"
	"github.com/tenantstack/tenantstack/sdk/redis"
)

// buildProvider compiles the provider from this checkout into a fresh
// directory, so the engine runs the code under test and not a stale binary.
func buildProvider(t *testing.T) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..")
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "pulumi-resource-tenantstack"), "./cmd/pulumi-resource-tenantstack")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	return dir
}

// changes sums a summary's resource changes other than "same".
func changes(m *map[string]int) map[string]int {
	out := map[string]int{}
	if m == nil {
		return out
	}
	for k, v := range *m {
		if k != string(apitype.OpSame) && v > 0 {
			out[k] = v
		}
	}
	return out
}

// previewChanges is changes for a preview's summary.
func previewChanges(m map[apitype.OpType]int) map[string]int {
	plain := map[string]int{}
	for k, v := range m {
		plain[string(k)] = v
	}
	return changes(&plain)
}

// TestEngineLifecycle runs the real Pulumi CLI through the Automation API
// on an inline program that creates a Role and an AclUser with the SDK:
// up, a preview and a refresh that find nothing to do, a change by hand
// that refresh reports and up repairs, and destroy. The engine loads the
// provider from PATH as an ambient plugin, offline.
func TestEngineLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pulumiPath, err := toolchain.Lookup("pulumi")
	if err != nil {
		t.Fatalf("the Pulumi CLI is needed for the engine test: %v", err)
	}
	providerDir := buildProvider(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	roleName := uniqueName("ts_engine")
	user := strings.ReplaceAll(uniqueName("ts-engine"), "_", "-")
	password := nastyPassword + "-engine"
	teardown(t, "engine test objects", func(ctx context.Context) error {
		if err := h.dropRole(roleName)(ctx); err != nil {
			return err
		}
		return h.redisAdmin().Do(ctx, "ACL", "DELUSER", user).Err()
	})

	program := func(ctx *pulumi.Context) error {
		prov, err := tenantstack.NewProvider(ctx, "platform", &tenantstack.ProviderArgs{
			PostgresURL: pulumi.String(h.env.Postgres.AdminURL),
			RedisURL:    pulumi.String(h.env.Redis.AdminURL),
		})
		if err != nil {
			return err
		}
		role, err := postgres.NewRole(ctx, "tenant-role", &postgres.RoleArgs{
			Name: pulumi.String(roleName), Login: pulumi.Bool(true), Password: pulumi.String(password),
			ConnectionLimit: pulumi.Int(4),
		}, pulumi.Provider(prov))
		if err != nil {
			return err
		}
		acl, err := redis.NewACLUser(ctx, "tenant-redis", &redis.ACLUserArgs{
			Username: pulumi.String(user), Password: pulumi.String(password),
			KeyPatterns: pulumi.StringArray{pulumi.String("t:" + user + ":*")},
			Commands:    pulumi.StringArray{pulumi.String("+get"), pulumi.String("+set")},
		}, pulumi.Provider(prov))
		if err != nil {
			return err
		}
		ctx.Export("role", role.Name)
		ctx.Export("user", acl.Username)
		ctx.Export("password", role.Password)
		return nil
	}

	state, home := t.TempDir(), t.TempDir()
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: filepath.Dir(filepath.Dir(pulumiPath)), SkipVersionCheck: true})
	if err != nil {
		t.Fatalf("using the Pulumi CLI at %s: %v", pulumiPath, err)
	}
	env := map[string]string{
		"PULUMI_BACKEND_URL":                          "file://" + state,
		"PULUMI_HOME":                                 home,
		"PULUMI_CONFIG_PASSPHRASE":                    "engine-test-passphrase",
		"PULUMI_SKIP_UPDATE_CHECK":                    "true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		"PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK":    "true",
		"PATH": providerDir + string(os.PathListSeparator) + filepath.Dir(pulumiPath) +
			string(os.PathListSeparator) + os.Getenv("PATH"),
	}
	stack, err := auto.UpsertStackInlineSource(ctx, "engine", "tenantstack-provider-test", program,
		auto.WorkDir(t.TempDir()), auto.PulumiHome(home), auto.EnvVars(env), auto.Pulumi(cmd), auto.SecretsProvider("passphrase"))
	if err != nil {
		t.Fatalf("creating the stack: %v", err)
	}
	destroyed := false
	t.Cleanup(func() {
		if keep() || destroyed {
			return
		}
		dctx, dcancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer dcancel()
		_, _ = stack.Destroy(dctx)
	})

	var log strings.Builder
	up, err := stack.Up(ctx, optup.ErrorProgressStreams(&log), optup.ProgressStreams(&log))
	if err != nil {
		t.Fatalf("up: %v\n%s", err, log.String())
	}
	if up.Outputs["role"].Value != roleName || up.Outputs["user"].Value != user || !up.Outputs["password"].Secret {
		t.Fatalf("outputs %+v", up.Outputs)
	}
	if c := changes(up.Summary.ResourceChanges); c["create"] != 4 { // stack, provider, role, ACL user
		t.Fatalf("up changes %v, want 4 creates", c)
	}
	loginWorks(t, h, roleName, password, true)
	if err := h.redisAs(user, password).Set(ctx, "t:"+user+":k", "v", 0).Err(); err != nil {
		t.Fatalf("the ACL user made by the engine cannot SET its key: %v", err)
	}

	pre, err := stack.Preview(ctx, optpreview.Diff())
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	if c := previewChanges(pre.ChangeSummary); len(c) != 0 {
		t.Fatalf("preview after up wants changes %v:\n%s", c, pre.StdOut)
	}
	ref, err := stack.Refresh(ctx)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if c := changes(ref.Summary.ResourceChanges); len(c) != 0 {
		t.Fatalf("refresh of an unchanged stack reports %v:\n%s", c, ref.StdOut)
	}

	// A change by hand: refresh reports it, up puts it back.
	h.exec("", "ALTER ROLE "+roleName+" CONNECTION LIMIT 99")
	if err := h.redisAdmin().Do(ctx, "ACL", "SETUSER", user, "+flushall").Err(); err != nil {
		t.Fatal(err)
	}
	ref, err = stack.Refresh(ctx)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if c := changes(ref.Summary.ResourceChanges); c["update"] != 2 {
		t.Fatalf("refresh after changes by hand reports %v, want 2 updates:\n%s", c, ref.StdOut)
	}
	log.Reset()
	up, err = stack.Up(ctx, optup.ProgressStreams(&log))
	if err != nil {
		t.Fatalf("up after drift: %v\n%s", err, log.String())
	}
	if c := changes(up.Summary.ResourceChanges); c["update"] != 2 {
		t.Fatalf("up after drift changes %v, want 2 updates", c)
	}
	if !h.queryBool("", `SELECT rolconnlimit = 4 FROM pg_roles WHERE rolname = $1`, roleName) {
		t.Fatal("up did not restore the connection limit")
	}
	expectNoPerm(t, "FLUSHALL after up", h.redisAs(user, password).FlushAll(ctx).Err())
	if _, err := stack.Refresh(ctx, optrefresh.ExpectNoChanges()); err != nil {
		t.Fatalf("refresh after repair: %v", err)
	}

	if _, err := stack.Destroy(ctx, optdestroy.ProgressStreams(&log)); err != nil {
		t.Fatalf("destroy: %v\n%s", err, log.String())
	}
	destroyed = true
	if h.queryBool("", `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, roleName) {
		t.Fatal("destroy left the role")
	}
	if err := h.redisAdmin().Do(ctx, "ACL", "GETUSER", user).Err(); err != goredis.Nil {
		t.Fatalf("destroy left the ACL user (GETUSER: %v)", err)
	}
	if err := stack.Workspace().RemoveStack(ctx, "engine"); err != nil {
		t.Fatalf("removing the stack: %v", err)
	}
}
