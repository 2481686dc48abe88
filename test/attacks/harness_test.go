//go:build integration

package attacks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
	"github.com/gruntwork-io/terratest/modules/retry"
	test_structure "github.com/gruntwork-io/terratest/modules/test-structure"

	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

const (
	tierShared   = "shared"
	tierSchema   = "schema"
	tierDatabase = "database"

	// commandTimeout bounds one tenantctl command. A tenant's Pulumi update
	// takes seconds, but the suites share two cores with each other.
	commandTimeout = 15 * time.Minute
	// attackTimeout bounds one attack proven three times, runTimeout one
	// attempt of it.
	attackTimeout = 5 * time.Minute
	runTimeout    = time.Minute
)

var allTiers = []string{tierShared, tierSchema, tierDatabase}

// nightly reports whether the full nightly run was asked for (make
// test-nightly sets NIGHTLY=1).
func nightly() bool { return os.Getenv("NIGHTLY") == "1" }

// tierIndependentTiers are the tiers of the pairs a suite attacks when its
// layer is the same on every tier (Redis, Kubernetes): all of them at night,
// the shared tier otherwise, to keep `make test` to fewer creates.
func tierIndependentTiers() []string {
	if nightly() {
		return allTiers
	}
	return allTiers[:1]
}

// workDir is where a suite saves its tenant names between stages. It lives
// under the platform's home, which a kept platform keeps, rather than in the
// checkout.
func workDir(suite string) string {
	home := os.Getenv("TENANTSTACK_HOME")
	if home == "" {
		home = filepath.Join(os.TempDir(), "tenantstack")
	}
	return filepath.Join(home, "attacks", suite)
}

// cmdResult is what a command printed and its exit code.
type cmdResult struct {
	stdout, stderr string
	code           int
}

// tail keeps the end of s, where a command says why it failed.
func tail(s string) string {
	const n = 4000
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func (r cmdResult) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, tail(r.stdout), tail(r.stderr))
}

func tenantctlBin() (string, error) {
	bin, err := filepath.Abs("../../bin/tenantctl")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s is missing: build it with \"go build -o bin/ ./cmd/...\" (make build): %w", bin, err)
	}
	return bin, nil
}

// runTenantctl runs the built tenantctl. It returns an error only when the
// command could not run to its end; an exit code is a result. It never
// touches t, so goroutines may call it.
func runTenantctl(args ...string) (cmdResult, error) {
	bin, err := tenantctlBin()
	if err != nil {
		return cmdResult{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	// On timeout the whole group goes: tenantctl runs pulumi and providers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	r := cmdResult{stdout: out.String(), stderr: errOut.String()}
	if ctx.Err() != nil {
		return r, fmt.Errorf("tenantctl %s timed out after %s\nstderr: %s", strings.Join(args, " "), commandTimeout, tail(r.stderr))
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		return r, fmt.Errorf("running tenantctl %s: %w", strings.Join(args, " "), err)
	}
	return r, nil
}

// pulumiSlots bounds the tenantctl commands that run a Pulumi update at once
// (create, suspend, resume, delete) across all suites: each one is an engine
// and providers on the two cores.
var pulumiSlots = make(chan struct{}, 3)

// runPulumiOp is runTenantctl for a command that runs a Pulumi update.
func runPulumiOp(args ...string) (cmdResult, error) {
	pulumiSlots <- struct{}{}
	defer func() { <-pulumiSlots }()
	return runTenantctl(args...)
}

// mustTenantctl runs tenantctl and fails the test unless it exits 0.
func mustTenantctl(t *testing.T, args ...string) string {
	t.Helper()
	r, err := runTenantctl(args...)
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 0 {
		t.Fatalf("tenantctl %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// mustPulumiOp is mustTenantctl for a command that runs a Pulumi update.
func mustPulumiOp(t *testing.T, args ...string) string {
	t.Helper()
	r, err := runPulumiOp(args...)
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 0 {
		t.Fatalf("tenantctl %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

var (
	platformOnce sync.Once
	platformErr  error
)

// platformUp brings the platform stack up once for the package; it is
// idempotent, so a platform already up costs one no-op update.
func platformUp(t *testing.T) {
	t.Helper()
	testenv.Platform(t)
	platformOnce.Do(func() {
		r, err := runTenantctl("platform", "up")
		switch {
		case err != nil:
			platformErr = err
		case r.code != 0:
			platformErr = fmt.Errorf("tenantctl platform up: %s", r)
		}
	})
	if platformErr != nil {
		t.Fatal(platformErr)
	}
}

func credentials(t *testing.T, name string) fleet.Credentials {
	t.Helper()
	var c fleet.Credentials
	out := mustTenantctl(t, "credentials", name, "-o", "json")
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("tenantctl credentials %s -o json printed no credentials: %v", name, err)
	}
	if c.Tenant != name || c.Postgres.URL == "" || c.Postgres.PoolerURL == "" || c.Redis.Username == "" || c.Kubernetes.Namespace == "" {
		t.Fatalf("tenantctl credentials %s -o json is incomplete (tenant %q, postgres url set %v, pooler url set %v, redis user %q, namespace %q)",
			name, c.Tenant, c.Postgres.URL != "", c.Postgres.PoolerURL != "", c.Redis.Username, c.Kubernetes.Namespace)
	}
	return c
}

// pair is two tenants of one tier: A attacks, B is attacked.
type pair struct {
	tier   string
	a, b   string
	ca, cb fleet.Credentials
}

func pairKeys(tier string) (string, string) { return tier + "-a", tier + "-b" }

// setupPairs saves the names of a new pair per tier, then creates them all,
// at most len(pulumiSlots) at once. Names are saved first so that teardown
// finds a tenant whose create failed half way.
func setupPairs(t *testing.T, dir, prefix string, tiers []string) {
	t.Helper()
	platformUp(t)
	id := strings.ToLower(random.UniqueID())
	type create struct{ name, tier string }
	var creates []create
	for _, tier := range tiers {
		base := fmt.Sprintf("%s-%s-%s", prefix, tier[:2], id)
		ka, kb := pairKeys(tier)
		test_structure.SaveString(t, dir, ka, base+"-a")
		test_structure.SaveString(t, dir, kb, base+"-b")
		creates = append(creates, create{base + "-a", tier}, create{base + "-b", tier})
	}
	errs := make([]error, len(creates))
	var wg sync.WaitGroup
	for i, c := range creates {
		wg.Go(func() {
			r, err := runPulumiOp("create", c.name, "--tier", c.tier)
			if err == nil && r.code != 0 {
				err = fmt.Errorf("tenantctl create %s --tier %s: %s", c.name, c.tier, r)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// loadPairs reads the pairs setup saved and their credentials.
func loadPairs(t *testing.T, dir string, tiers []string) []*pair {
	t.Helper()
	var pairs []*pair
	for _, tier := range tiers {
		ka, kb := pairKeys(tier)
		p := &pair{tier: tier, a: test_structure.LoadString(t, dir, ka), b: test_structure.LoadString(t, dir, kb)}
		p.ca, p.cb = credentials(t, p.a), credentials(t, p.b)
		if p.ca.Tier != tier || p.cb.Tier != tier {
			t.Fatalf("pair %s/%s: tiers %q and %q; want %q", p.a, p.b, p.ca.Tier, p.cb.Tier, tier)
		}
		pairs = append(pairs, p)
	}
	return pairs
}

// teardownPairs deletes every tenant setup saved (one already gone is fine)
// and, when all are gone, forgets them.
func teardownPairs(t *testing.T, dir string, tiers []string) {
	t.Helper()
	var names []string
	for _, tier := range tiers {
		ka, kb := pairKeys(tier)
		for _, k := range []string{ka, kb} {
			if test_structure.IsTestDataPresent(t, test_structure.FormatTestDataPath(dir, k+".json")) {
				names = append(names, test_structure.LoadString(t, dir, k))
			}
		}
	}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			r, err := runPulumiOp("delete", name, "--yes")
			// Exit 3: not found, already deleted (the lifecycle deletes its A).
			if err == nil && r.code != 0 && r.code != 3 {
				err = fmt.Errorf("tenantctl delete %s --yes: %s", name, r)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Errorf("teardown left tenants behind: %v", err)
		return
	}
	test_structure.CleanupTestDataFolder(t, dir)
}

// outcome is what one attempt of an attack achieved.
type outcome struct {
	through bool   // the attacker reached what it attacked
	detail  string // what happened: the refusal, or what leaked
}

func blockedf(format string, args ...any) outcome {
	return outcome{detail: fmt.Sprintf(format, args...)}
}

func throughf(format string, args ...any) outcome {
	return outcome{through: true, detail: fmt.Sprintf(format, args...)}
}

// undoFunc closes a hole a weakening opened.
type undoFunc func(ctx context.Context) error

// attack is one way tenant A might reach tenant B (or lift its own limits)
// on target T.
type attack[T any] struct {
	name string
	// skip, if set, says why the attack does not apply here ("" if it does).
	skip func(ctx context.Context, target T) (string, error)
	// run attempts the attack once with A's credentials. The outcome says
	// whether it got through; an error says the attempt could not be made
	// (an unexpected failure, which proves nothing either way).
	run func(ctx context.Context, target T) (outcome, error)
	// weakness names what weaken does, for messages.
	weakness string
	// weaken opens, as the platform admin, the hole run looks for, and
	// returns how to close it again.
	weaken func(ctx context.Context, target T) (undoFunc, error)
}

// prove runs an attack against the real setup (it must be blocked), the
// weakened setup (it must get through, or the attack could never fail) and
// the restored setup (blocked again, so no weakening outlives its attack).
func prove[T any](t *testing.T, target T, a attack[T]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), attackTimeout)
	defer cancel()
	if a.skip != nil {
		why, err := a.skip(ctx, target)
		if err != nil {
			t.Fatalf("deciding whether %q applies: %v", a.name, err)
		}
		if why != "" {
			t.Skip(why)
		}
	}

	o, err := attempt(t, ctx, a, target, "real setup", false)
	if err != nil {
		t.Fatalf("%s could not be attempted against the real setup: %v", a.name, err)
	}
	if o.through {
		t.Errorf("ISOLATION BREACH: %s got through the real setup: %s", a.name, o.detail)
		return
	}
	t.Logf("real setup: blocked: %s", o.detail)

	undo, err := a.weaken(ctx, target)
	if err != nil {
		t.Fatalf("weakening the setup (%s): %v", a.weakness, err)
	}
	undone := false
	defer func() {
		if !undone {
			if err := undo(context.WithoutCancel(ctx)); err != nil {
				t.Errorf("undoing the weakening (%s) failed, the setup may stay weakened: %v", a.weakness, err)
			}
		}
	}()
	o, err = attempt(t, ctx, a, target, "weakened setup", true)
	switch {
	case err != nil:
		t.Errorf("%s could not be attempted against the setup weakened by %s: %v", a.name, a.weakness, err)
	case !o.through:
		t.Errorf("%s was still blocked after %s (%s): it cannot detect that weakness", a.name, a.weakness, o.detail)
	default:
		t.Logf("weakened by %s: got through: %s", a.weakness, o.detail)
	}
	undone = true
	if err := undo(ctx); err != nil {
		t.Fatalf("undoing the weakening (%s) failed, the setup may stay weakened: %v", a.weakness, err)
	}

	o, err = attempt(t, ctx, a, target, "restored setup", false)
	switch {
	case err != nil:
		t.Errorf("%s could not be attempted against the restored setup: %v", a.name, err)
	case o.through:
		t.Errorf("%s still got through after the weakening (%s) was undone: %s", a.name, a.weakness, o.detail)
	}
}

// attempt runs an attack until it has the wanted outcome or the retries
// run out: grants and RBAC bindings reach caches and pooled connections a
// moment after they change. Against the real setup a breach is final and
// only errors are retried.
func attempt[T any](t *testing.T, ctx context.Context, a attack[T], target T, setup string, want bool) (outcome, error) {
	t.Helper()
	retries := 10
	if setup == "real setup" {
		retries = 2
	}
	var last outcome
	var lastErr error
	_, err := retry.DoWithRetryContextE(t, ctx, fmt.Sprintf("%s (%s)", a.name, setup), retries, time.Second, func() (string, error) {
		// PgBouncer, say, may hold a client waiting for a server it cannot log in to.
		runCtx, cancel := context.WithTimeout(ctx, runTimeout)
		defer cancel()
		o, err := a.run(runCtx, target)
		if err != nil {
			lastErr = err
			return "", err
		}
		last, lastErr = o, nil
		if o.through != want && !(setup == "real setup" && o.through) {
			return "", fmt.Errorf("through=%v, waiting for through=%v: %s", o.through, want, o.detail)
		}
		return "", nil
	})
	if err != nil && lastErr != nil {
		return last, lastErr
	}
	return last, nil
}

// group runs fn as one subtest, so that parallel subtests started in fn
// finish before the caller goes on (to its teardown, say).
func group(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	t.Run(name, fn)
}
