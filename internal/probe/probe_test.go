package probe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

func TestRecorderBookkeeping(t *testing.T) {
	t.Parallel()
	var rec recorder
	ctx := t.Context()
	rec.check(ctx, LayerRedis, "held", "b", func(context.Context) (string, error) { return "refused: NOPERM", nil })
	rec.check(ctx, LayerRedis, "leaked", "b", func(context.Context) (string, error) {
		return "ignored on failure", leakf("read %s", "t:b:k")
	})
	rec.check(ctx, LayerRedis, "self", "", func(context.Context) (string, error) { return "", brokenf("cannot SET its own key") })
	rec.check(ctx, LayerRedis, "broken", "b", func(context.Context) (string, error) {
		return "", fmt.Errorf("dialing: %w", errors.New("connection refused"))
	})
	rec.check(ctx, LayerRedis, "wrapped finding", "b", func(context.Context) (string, error) {
		return "", fmt.Errorf("context: %w", leakf("read t:b:k"))
	})
	rec.fail(LayerPgBouncer, "use own data", "", "no pooler_url")

	want := []Result{
		{Layer: LayerRedis, Name: "held", Target: "b", Passed: true, Detail: "refused: NOPERM"},
		{Layer: LayerRedis, Name: "leaked", Target: "b", Detail: "read t:b:k"},
		{Layer: LayerRedis, Name: "self", Detail: "cannot SET its own key"},
		{Layer: LayerRedis, Name: "broken", Target: "b", Detail: "could not run the probe: dialing: connection refused"},
		{Layer: LayerRedis, Name: "wrapped finding", Target: "b", Detail: "context: read t:b:k"},
		{Layer: LayerPgBouncer, Name: "use own data", Detail: "no pooler_url"},
	}
	if !slices.Equal(rec.probes, want) {
		t.Fatalf("probes:\n got %+v\nwant %+v", rec.probes, want)
	}
}

func TestRecorderBoundsEachProbe(t *testing.T) {
	t.Parallel()
	var rec recorder
	var deadline time.Time
	rec.check(t.Context(), LayerPostgres, "slow", "", func(ctx context.Context) (string, error) {
		deadline, _ = ctx.Deadline()
		return "ok", nil
	})
	if left := time.Until(deadline); left <= 0 || left > probeTimeout {
		t.Fatalf("probe ran with %v left, want a deadline within %v", left, probeTimeout)
	}
}

func TestPassedAndFailed(t *testing.T) {
	t.Parallel()
	pass := Result{Name: "a", Passed: true}
	fail := Result{Name: "b"}
	tests := []struct {
		name   string
		probes []Result
		passed bool
		failed []Result
	}{
		{"none is not a pass", nil, false, nil},
		{"all passed", []Result{pass, pass}, true, nil},
		{"one failed", []Result{pass, fail, pass}, false, []Result{fail}},
	}
	for _, tt := range tests {
		if got := Passed(tt.probes); got != tt.passed {
			t.Errorf("%s: Passed = %v", tt.name, got)
		}
		if got := Failed(tt.probes); !slices.Equal(got, tt.failed) {
			t.Errorf("%s: Failed = %+v", tt.name, got)
		}
	}
}

// fakeSuite records its probes with fixed outcomes.
type fakeSuite struct {
	layer    string
	outcomes map[string]error // probe name -> nil, a finding or an error
	order    []string
	err      error
	closed   *[]string
}

func (s *fakeSuite) probe(ctx context.Context, rec *recorder, self tenantspec.Credentials, others []tenantspec.Credentials) error {
	for _, name := range s.order {
		for _, b := range others {
			rec.check(ctx, s.layer, name, b.Tenant, func(context.Context) (string, error) { return "held", s.outcomes[name] })
		}
	}
	return s.err
}

func (s *fakeSuite) close(context.Context) error {
	*s.closed = append(*s.closed, s.layer)
	return nil
}

func openFake(s suite) opener { return func(context.Context) (suite, error) { return s, nil } }

func TestRunReportsLeaksAsFailedProbes(t *testing.T) {
	t.Parallel()
	var closed []string
	pg := &fakeSuite{layer: LayerPostgres, order: []string{"read rows", "insert"}, closed: &closed,
		outcomes: map[string]error{"insert": leakf("inserted a row with tenant_id b")}}
	rd := &fakeSuite{layer: LayerRedis, order: []string{"get"}, closed: &closed}
	self, b := tenantspec.Credentials{Tenant: "a"}, tenantspec.Credentials{Tenant: "b"}

	probes, err := run(t.Context(), []opener{openFake(pg), openFake(rd)}, self, []tenantspec.Credentials{b})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	want := []Result{
		{Layer: LayerPostgres, Name: "read rows", Target: "b", Passed: true, Detail: "held"},
		{Layer: LayerPostgres, Name: "insert", Target: "b", Detail: "inserted a row with tenant_id b"},
		{Layer: LayerRedis, Name: "get", Target: "b", Passed: true, Detail: "held"},
	}
	if !slices.Equal(probes, want) {
		t.Fatalf("probes:\n got %+v\nwant %+v", probes, want)
	}
	if Passed(probes) {
		t.Error("Passed is true with a leak")
	}
	if len(closed) != 2 {
		t.Errorf("closed %v, want both suites closed", closed)
	}
}

func TestRunFailsWhenAnAdminEndpointIsUnreachable(t *testing.T) {
	t.Parallel()
	var closed []string
	pg := &fakeSuite{layer: LayerPostgres, order: []string{"read rows"}, closed: &closed}
	probed := false
	never := &fakeSuite{layer: LayerKubernetes, closed: &closed}
	unreachable := func(context.Context) (suite, error) { return nil, errors.New("redis admin: connection refused") }
	probes, err := run(t.Context(), []opener{openFake(pg), unreachable, func(context.Context) (suite, error) {
		probed = true
		return never, nil
	}}, tenantspec.Credentials{Tenant: "a"}, []tenantspec.Credentials{{Tenant: "b"}})
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error = %v, want the unreachable endpoint's", err)
	}
	if probes != nil {
		t.Errorf("probes = %+v, want none: nothing runs unless every endpoint is reachable", probes)
	}
	if probed {
		t.Error("opened the suites after the unreachable one")
	}
	if !slices.Equal(closed, []string{LayerPostgres}) {
		t.Errorf("closed %v, want the suite opened before the failure closed", closed)
	}
}

func TestRunReturnsSuiteErrorsWithTheProbesSoFar(t *testing.T) {
	t.Parallel()
	var closed []string
	pg := &fakeSuite{layer: LayerPostgres, order: []string{"read rows"}, closed: &closed, err: errors.New("seeding: permission denied")}
	probes, err := run(t.Context(), []opener{openFake(pg)}, tenantspec.Credentials{Tenant: "a"}, []tenantspec.Credentials{{Tenant: "b"}})
	if err == nil || !strings.Contains(err.Error(), "seeding") {
		t.Fatalf("error = %v", err)
	}
	if len(probes) != 1 || len(closed) != 1 {
		t.Errorf("probes %+v closed %v", probes, closed)
	}
}

func validCredentials(id, tier string) tenantspec.Credentials {
	c := tenantspec.Credentials{Tenant: id, Tier: tier}
	c.Postgres = tenantspec.PostgresCredentials{User: "tenant_" + id, Database: "platform"}
	if tier == tierSchema {
		c.Postgres.Schema = "tenant_" + id
	}
	c.Redis = tenantspec.RedisCredentials{Username: "tenant-" + id, KeyPrefix: "t:" + id + ":", ChannelPrefix: "t:" + id + ":"}
	c.Kubernetes = tenantspec.KubernetesCredentials{Namespace: "tenant-" + id, ServiceAccount: "app"}
	return c
}

func TestCheckInput(t *testing.T) {
	t.Parallel()
	a, b, c := validCredentials("a", tierShared), validCredentials("b", tierSchema), validCredentials("c", tierDatabase)
	noRedis := validCredentials("d", tierShared)
	noRedis.Redis.KeyPrefix = ""
	badTier := validCredentials("e", "premium")
	noSchema := validCredentials("f", tierSchema)
	noSchema.Postgres.Schema = ""
	def := options{sharedTable: DefaultSharedTable}

	others, err := checkInput(a, []tenantspec.Credentials{b, a, c, b}, def)
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{others[0].Tenant, others[1].Tenant}; len(others) != 2 || !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("others = %+v, want b and c once each, without self", others)
	}
	tests := []struct {
		name   string
		self   tenantspec.Credentials
		others []tenantspec.Credentials
		opts   options
		want   string
	}{
		{"self lacks a key prefix", noRedis, nil, def, "lack redis.key_prefix"},
		{"other has an unknown tier", a, []tenantspec.Credentials{badTier}, def, `unknown tier "premium"`},
		{"schema tier without schema", a, []tenantspec.Credentials{noSchema}, def, "lack postgres.schema"},
		{"table without schema", a, nil, options{sharedTable: "isolation_probe"}, "not SCHEMA.TABLE"},
	}
	for _, tt := range tests {
		if _, err := checkInput(tt.self, tt.others, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestRunRefusesIncompleteCredentialsBeforeConnecting(t *testing.T) {
	t.Parallel()
	// No admin endpoint is reachable here: the input check must come first.
	_, err := Run(t.Context(), Admin{}, tenantspec.Credentials{Tenant: "a"}, nil)
	if err == nil || !strings.Contains(err.Error(), `tenantctl credentials a -o json`) {
		t.Fatalf("error = %v, want one saying how to get complete credentials", err)
	}
}

func TestPlatformDatabase(t *testing.T) {
	t.Parallel()
	shared, schema, db := validCredentials("a", tierShared), validCredentials("b", tierSchema), validCredentials("c", tierDatabase)
	db.Postgres.Database = "tenant_c"
	tests := []struct {
		name   string
		admin  Admin
		self   tenantspec.Credentials
		others []tenantspec.Credentials
		want   string
	}{
		{"given", Admin{PlatformDatabase: "main"}, shared, nil, "main"},
		{"from a shared tenant", Admin{}, db, []tenantspec.Credentials{shared}, "platform"},
		{"from a schema tenant", Admin{}, schema, nil, "platform"},
		{"database tier only: the admin URL's", Admin{}, db, nil, ""},
	}
	for _, tt := range tests {
		if got := platformDatabase(tt.admin, tt.self, tt.others); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
