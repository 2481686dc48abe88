package probe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// Result is one live isolation check run by verify.
type Result struct {
	Layer  string `json:"layer"`  // postgres, pgbouncer, redis or kubernetes
	Name   string `json:"name"`   // e.g. "read other tenant's rows"
	Target string `json:"target"` // the other tenant, or "" for a self check
	Passed bool   `json:"passed"`
	Detail string `json:"detail,omitempty"` // what happened, on failure what leaked
}

// The layers a probe belongs to, as in Result.Layer.
const (
	LayerPostgres   = "postgres"
	LayerPgBouncer  = "pgbouncer"
	LayerRedis      = "redis"
	LayerKubernetes = "kubernetes"
)

// The tiers of tenantspec.Credentials.Tier.
const (
	tierShared   = "shared"
	tierSchema   = "schema"
	tierDatabase = "database"
)

// DefaultSharedTable is the table the shared-tier probes attack: the
// platform creates it with row-level security enabled, forced and keyed on
// app.current_tenant(), and grants CRUD on it to app_tenant.
const DefaultSharedTable = "app.isolation_probe"

// probeTimeout bounds one probe, so a hung connection fails that probe
// instead of the whole run. It exceeds pooledConnectTimeout.
const probeTimeout = 45 * time.Second

// cleanupTimeout bounds removing what a run seeded; it runs even when the
// caller's context is already cancelled.
const cleanupTimeout = 30 * time.Second

// Admin holds the platform's admin endpoints, as `tenantctl dev env`
// prints them or the platform stack exports them.
type Admin struct {
	// PostgresURL logs in to the platform database (the one holding schema
	// app) as a role that may read the catalog, bypass row-level security,
	// SET ROLE to tenants' owner roles and connect to every database: the
	// platform's superuser admin.
	PostgresURL string
	// RedisURL logs in to Redis as an ACL user allowed every command:
	// redis://USER:PASSWORD@HOST:PORT.
	RedisURL string
	// Kubeconfig is the path of a kubeconfig whose current context may
	// create SubjectAccessReviews and read namespaces and service accounts.
	Kubeconfig string
	// PlatformDatabase is the database holding schema app: the shared-tier
	// contract, the registry tenantstack.tenants and the shared tables (the platform
	// stack's platformDatabase output). When empty it is the database of a
	// shared- or schema-tier tenant's credentials, since those tenants live
	// in it, or else the database of PostgresURL.
	PlatformDatabase string
}

// Option changes how Run probes.
type Option func(*options)

type options struct {
	sharedTable string
}

// WithSharedTable makes the shared-tier probes attack table (SCHEMA.TABLE)
// instead of DefaultSharedTable. The table must have the columns of
// app.isolation_probe (tenant_id text defaulting to app.current_tenant(),
// marker text) and be protected by app.enable_tenant_isolation; the probes
// insert and delete marker rows in it. Tests use it to attack a deliberately
// weakened copy without weakening the table every other tenant is probed
// through.
func WithSharedTable(table string) Option {
	return func(o *options) { o.sharedTable = table }
}

// Run probes, as tenant self, the isolation of every tenant in others from
// self, and runs self's own positive checks. Each probe is one Result;
// a leak is a probe with Passed false and a Detail saying what leaked. The
// error is for when the probes cannot run at all (bad input, an admin
// endpoint unreachable, a fixture the admin cannot seed); the probes
// recorded before it are returned with it. Tenants in others equal to self
// are ignored.
func Run(ctx context.Context, admin Admin, self tenantspec.Credentials, others []tenantspec.Credentials, opts ...Option) ([]Result, error) {
	o := options{sharedTable: DefaultSharedTable}
	for _, opt := range opts {
		opt(&o)
	}
	others, err := checkInput(self, others, o)
	if err != nil {
		return nil, err
	}
	runID, err := newRunID()
	if err != nil {
		return nil, err
	}
	return run(ctx, []opener{
		postgresOpener(admin, platformDatabase(admin, self, others), o.sharedTable, runID),
		redisOpener(admin, runID),
		kubernetesOpener(admin),
	}, self, others)
}

// checkInput validates what Run needs from the credentials and drops self
// from others.
func checkInput(self tenantspec.Credentials, others []tenantspec.Credentials, o options) ([]tenantspec.Credentials, error) {
	if err := checkCredentials(self); err != nil {
		return nil, fmt.Errorf("tenant to probe as: %w", err)
	}
	if s, t, ok := strings.Cut(o.sharedTable, "."); !ok || s == "" || t == "" || strings.Contains(t, ".") {
		return nil, fmt.Errorf("shared table %q is not SCHEMA.TABLE", o.sharedTable)
	}
	var out []tenantspec.Credentials
	seen := map[string]bool{self.Tenant: true}
	for _, c := range others {
		if seen[c.Tenant] {
			continue
		}
		seen[c.Tenant] = true
		if err := checkCredentials(c); err != nil {
			return nil, fmt.Errorf("tenant to probe against: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

func checkCredentials(c tenantspec.Credentials) error {
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"tenant", c.Tenant},
		{"tier", c.Tier},
		{"postgres.user", c.Postgres.User},
		{"postgres.database", c.Postgres.Database},
		{"redis.username", c.Redis.Username},
		{"redis.key_prefix", c.Redis.KeyPrefix},
		{"redis.channel_prefix", c.Redis.ChannelPrefix},
		{"kubernetes.namespace", c.Kubernetes.Namespace},
		{"kubernetes.service_account", c.Kubernetes.ServiceAccount},
	} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("credentials of tenant %q lack %s; print complete ones with \"tenantctl credentials %s -o json\"",
			c.Tenant, strings.Join(missing, ", "), c.Tenant)
	}
	switch c.Tier {
	case tierShared, tierSchema, tierDatabase:
	default:
		return fmt.Errorf("tenant %q has unknown tier %q; allowed: shared, schema, database", c.Tenant, c.Tier)
	}
	if c.Tier == tierSchema && c.Postgres.Schema == "" {
		return fmt.Errorf("credentials of schema-tier tenant %q lack postgres.schema", c.Tenant)
	}
	return nil
}

// platformDatabase is admin.PlatformDatabase, or else the database of the
// first shared- or schema-tier tenant, or else "" for PostgresURL's.
func platformDatabase(admin Admin, self tenantspec.Credentials, others []tenantspec.Credentials) string {
	if admin.PlatformDatabase != "" {
		return admin.PlatformDatabase
	}
	for _, c := range append([]tenantspec.Credentials{self}, others...) {
		if c.Tier == tierShared || c.Tier == tierSchema {
			return c.Postgres.Database
		}
	}
	return ""
}

// newRunID names everything one run seeds, so concurrent runs and the
// tenants' own data never collide with it.
func newRunID() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a probe run id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// A suite probes one area of the platform through admin connections that
// its opener made.
type suite interface {
	// probe records the area's probes of self against others in rec. An
	// error means the area could not be probed (the admin failed to seed a
	// fixture); leaks are failed probes, not errors.
	probe(ctx context.Context, rec *recorder, self tenantspec.Credentials, others []tenantspec.Credentials) error
	// close removes what probe seeded and closes the admin connections.
	close(ctx context.Context) error
}

// An opener connects a suite to the platform's admin endpoint, or says why
// it cannot.
type opener func(ctx context.Context) (suite, error)

// run opens every suite first, so an unreachable endpoint fails before
// anything is seeded, then runs them concurrently and returns their probes
// in the order of openers.
func run(ctx context.Context, openers []opener, self tenantspec.Credentials, others []tenantspec.Credentials) ([]Result, error) {
	suites := make([]suite, 0, len(openers))
	closeAll := func() error {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		var errs []error
		for _, s := range suites {
			errs = append(errs, s.close(cctx))
		}
		return errors.Join(errs...)
	}
	for _, open := range openers {
		s, err := open(ctx)
		if err != nil {
			return nil, errors.Join(err, closeAll())
		}
		suites = append(suites, s)
	}
	recs := make([]recorder, len(suites))
	errs := make([]error, len(suites))
	var wg sync.WaitGroup
	for i, s := range suites {
		wg.Go(func() { errs[i] = s.probe(ctx, &recs[i], self, others) })
	}
	wg.Wait()
	var probes []Result
	for i := range recs {
		probes = append(probes, recs[i].probes...)
	}
	if err := errors.Join(errors.Join(errs...), closeAll()); err != nil {
		return probes, err
	}
	return probes, nil
}

// Passed reports whether every probe passed; no probes is not a pass.
func Passed(probes []Result) bool {
	if len(probes) == 0 {
		return false
	}
	for _, p := range probes {
		if !p.Passed {
			return false
		}
	}
	return true
}

// Failed returns the probes that did not pass.
func Failed(probes []Result) []Result {
	var out []Result
	for _, p := range probes {
		if !p.Passed {
			out = append(out, p)
		}
	}
	return out
}

// finding is what a probe found wrong: for an attack, what leaked; for a
// self check, what the tenant could not do with its own data.
type finding struct{ msg string }

func (e *finding) Error() string { return e.msg }

// leakf reports a leak; the message says what the tenant could do that it
// must not.
func leakf(format string, args ...any) error { return &finding{fmt.Sprintf(format, args...)} }

// brokenf reports a failed self check: what the tenant could not do with
// its own data.
func brokenf(format string, args ...any) error { return &finding{fmt.Sprintf(format, args...)} }

// isFinding reports whether err is a probe's finding rather than a failure
// to probe.
func isFinding(err error) bool {
	var f *finding
	return errors.As(err, &f)
}

// probeFunc runs one probe. It returns what happened when isolation held
// (or, for a self check, the tenant could use its own data), a finding
// (leakf, brokenf) when it did not, and any other error when the probe
// could not run.
type probeFunc func(ctx context.Context) (detail string, err error)

// recorder collects one suite's probes in the order they ran.
type recorder struct {
	probes []Result
}

// check runs fn under its own timeout and records the outcome. A probe
// that cannot run fails: verify must never pass for want of evidence.
func (r *recorder) check(ctx context.Context, layer, name, target string, fn probeFunc) {
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	detail, err := fn(pctx)
	p := Result{Layer: layer, Name: name, Target: target, Passed: err == nil, Detail: detail}
	switch {
	case err == nil:
	case isFinding(err):
		p.Detail = err.Error()
	default:
		p.Detail = "could not run the probe: " + err.Error()
	}
	r.probes = append(r.probes, p)
}

// fail records a probe that failed before it could run, e.g. because the
// tenant's credentials lack what it needs.
func (r *recorder) fail(layer, name, target, detail string) {
	r.probes = append(r.probes, Result{Layer: layer, Name: name, Target: target, Detail: detail})
}
