//go:build integration

package provider_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blang/semver"
	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	goredis "github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/internal/devplatform"
	tsprovider "github.com/tenantstack/tenantstack/internal/provider"
	"github.com/tenantstack/tenantstack/internal/testenv"
	"github.com/tenantstack/tenantstack/internal/version"
)

// Resource tokens under test.
const (
	roleToken       = "tenantstack:postgres:Role"
	databaseToken   = "tenantstack:postgres:Database"
	schemaToken     = "tenantstack:postgres:Schema"
	grantToken      = "tenantstack:postgres:Grant"
	tenantToken     = "tenantstack:postgres:TenantRegistration"
	isolationToken  = "tenantstack:postgres:TableIsolation"
	migrationToken  = "tenantstack:postgres:Migration"
	aclUserToken    = "tenantstack:redis:AclUser"
	opTimeout       = 30 * time.Second
	nastyPassword   = ` !"#$%&'()*+,-./:;<=>?@[\]^_{|}~` + "`" + `pw'; DROP ROLE admin; --\\$$ end `
	unicodePassword = "pässwörd-日本語-🔐-'\"\\"
)

// harness drives one in-process provider through its gRPC-level interface
// (pulumi-go-provider's integration server), configured like the engine
// would, against the platform under test.
type harness struct {
	t      *testing.T
	env    devplatform.Env
	server integration.Server

	mu    sync.Mutex
	conns map[string]*pgx.Conn
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	env := testenv.Platform(t)
	prov, err := tsprovider.New()
	if err != nil {
		t.Fatal(err)
	}
	// The server outlives t.Context(), which ends before cleanups run.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	server, err := integration.NewServer(ctx, tsprovider.Name, semver.MustParse(version.ProviderVersion), integration.WithProvider(prov))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, env: env, server: server}
	check, err := server.CheckConfig(p.CheckRequest{
		Urn: resource.NewURN("test", "provider", "", "pulumi:providers:tenantstack", "default"),
		Inputs: property.NewMap(map[string]property.Value{
			"postgresUrl": property.New(env.Postgres.AdminURL).WithSecret(true),
			"redisUrl":    property.New(env.Redis.AdminURL).WithSecret(true),
		}),
	})
	if err != nil || len(check.Failures) > 0 {
		t.Fatalf("CheckConfig: %v %v", err, check.Failures)
	}
	if err := server.Configure(p.ConfigureRequest{Args: check.Inputs}); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return h
}

// uniqueName returns prefix plus a random lowercase suffix.
func uniqueName(prefix string) string {
	return prefix + "_" + strings.ToLower(random.UniqueID())
}

// keep reports whether SKIP_teardown asks to keep what a test created.
func keep() bool { return os.Getenv("SKIP_teardown") != "" }

// teardown registers f to run after the test unless SKIP_teardown is set;
// call it before the setup it undoes.
func teardown(t *testing.T, what string, f func(ctx context.Context) error) {
	t.Helper()
	t.Cleanup(func() {
		if keep() {
			t.Logf("SKIP_teardown: keeping %s", what)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := f(ctx); err != nil {
			t.Errorf("teardown of %s: %v", what, err)
		}
	})
}

// props builds a property map from plain Go values; keys listed in secrets
// are marked secret as the SDK does.
func props(m map[string]any, secrets ...string) property.Map {
	rm := resource.NewPropertyMapFromMap(m)
	out := resource.FromResourcePropertyValue(resource.NewProperty(rm)).AsMap()
	for _, k := range secrets {
		if v, ok := out.GetOk(k); ok {
			out = out.Set(k, v.WithSecret(true))
		}
	}
	return out
}

func (h *harness) urn(token, name string) resource.URN {
	return resource.NewURN("test", "provider", "", tokens.Type(token), name)
}

// check runs Check and returns the checked inputs and failures.
func (h *harness) check(token string, inputs property.Map) (property.Map, []p.CheckFailure) {
	h.t.Helper()
	resp, err := h.server.Check(p.CheckRequest{Urn: h.urn(token, "r"), Inputs: inputs})
	if err != nil {
		h.t.Fatalf("Check %s: %v", token, err)
	}
	return resp.Inputs, resp.Failures
}

// mustCheck runs Check and fails the test on any failure.
func (h *harness) mustCheck(token string, inputs property.Map) property.Map {
	h.t.Helper()
	checked, failures := h.check(token, inputs)
	if len(failures) > 0 {
		h.t.Fatalf("Check %s: unexpected failures %+v", token, failures)
	}
	return checked
}

// create previews then creates, as the engine does.
func (h *harness) create(token string, checked property.Map) (string, property.Map, error) {
	h.t.Helper()
	if _, err := h.server.Create(p.CreateRequest{Urn: h.urn(token, "r"), Properties: checked, DryRun: true}); err != nil {
		return "", property.Map{}, fmt.Errorf("preview: %w", err)
	}
	resp, err := h.server.Create(p.CreateRequest{Urn: h.urn(token, "r"), Properties: checked})
	return resp.ID, resp.Properties, err
}

func (h *harness) mustCreate(token string, inputs property.Map) (string, property.Map) {
	h.t.Helper()
	id, state, err := h.create(token, h.mustCheck(token, inputs))
	if err != nil {
		h.t.Fatalf("Create %s: %v", token, err)
	}
	return id, state
}

func (h *harness) read(token, id string, state, inputs property.Map) p.ReadResponse {
	h.t.Helper()
	resp, err := h.server.Read(p.ReadRequest{ID: id, Urn: h.urn(token, "r"), Properties: state, Inputs: inputs})
	if err != nil {
		h.t.Fatalf("Read %s %s: %v", token, id, err)
	}
	return resp
}

func (h *harness) diff(token, id string, state, checked property.Map) p.DiffResponse {
	h.t.Helper()
	resp, err := h.server.Diff(p.DiffRequest{ID: id, Urn: h.urn(token, "r"), State: state, Inputs: checked})
	if err != nil {
		h.t.Fatalf("Diff %s %s: %v", token, id, err)
	}
	return resp
}

func (h *harness) update(token, id string, state, checked property.Map) (property.Map, error) {
	h.t.Helper()
	if _, err := h.server.Update(p.UpdateRequest{ID: id, Urn: h.urn(token, "r"), State: state, Inputs: checked, DryRun: true}); err != nil {
		return property.Map{}, fmt.Errorf("preview: %w", err)
	}
	resp, err := h.server.Update(p.UpdateRequest{ID: id, Urn: h.urn(token, "r"), State: state, Inputs: checked})
	return resp.Properties, err
}

func (h *harness) mustUpdate(token, id string, state, checked property.Map) property.Map {
	h.t.Helper()
	out, err := h.update(token, id, state, checked)
	if err != nil {
		h.t.Fatalf("Update %s %s: %v", token, id, err)
	}
	return out
}

func (h *harness) delete(token, id string, state property.Map) error {
	h.t.Helper()
	return h.server.Delete(p.DeleteRequest{ID: id, Urn: h.urn(token, "r"), Properties: state})
}

// mustDeleteTwice deletes and deletes again: the second must succeed too,
// since an object already gone counts as deleted.
func (h *harness) mustDeleteTwice(token, id string, state property.Map) {
	h.t.Helper()
	if err := h.delete(token, id, state); err != nil {
		h.t.Fatalf("Delete %s %s: %v", token, id, err)
	}
	if err := h.delete(token, id, state); err != nil {
		h.t.Fatalf("second Delete %s %s (already gone must succeed): %v", token, id, err)
	}
}

// expectNoDrift reads the resource and requires the state and inputs to
// come back unchanged, which is what `pulumi refresh` shows as no change.
func (h *harness) expectNoDrift(token, id string, state, checked property.Map) {
	h.t.Helper()
	resp := h.read(token, id, state, checked)
	if resp.ID != id {
		h.t.Fatalf("Read %s: id %q, want %q", token, resp.ID, id)
	}
	if !resp.Properties.Equals(state) {
		h.t.Fatalf("Read %s of an unchanged object reports drift:\n got  %v\n want %v", token, resp.Properties, state)
	}
	if diff := h.diff(token, id, resp.Properties, checked); diff.HasChanges {
		h.t.Fatalf("Diff %s after a clean read has changes: %+v", token, diff.DetailedDiff)
	}
}

// expectUpdateOnly requires a diff with changes, none of them a replacement.
func expectUpdateOnly(t *testing.T, d p.DiffResponse, props ...string) {
	t.Helper()
	if !d.HasChanges {
		t.Fatalf("diff has no changes, want updates of %v", props)
	}
	for k, v := range d.DetailedDiff {
		if v.Kind != p.Update {
			t.Fatalf("diff of %s is %s, want an in-place update (diff %+v)", k, v.Kind, d.DetailedDiff)
		}
	}
	for _, k := range props {
		if _, ok := d.DetailedDiff[k]; !ok {
			t.Fatalf("diff %+v lacks %s", d.DetailedDiff, k)
		}
	}
}

// expectReplace requires prop to force a replacement.
func expectReplace(t *testing.T, d p.DiffResponse, prop string) {
	t.Helper()
	if v, ok := d.DetailedDiff[prop]; !ok || v.Kind != p.UpdateReplace {
		t.Fatalf("diff of %s = %+v, want update&replace (diff %+v)", prop, v, d.DetailedDiff)
	}
}

// expectFailure requires a check failure on prop whose reason contains all
// of the fragments.
func expectFailure(t *testing.T, failures []p.CheckFailure, prop string, fragments ...string) {
	t.Helper()
	for _, f := range failures {
		if f.Property != prop {
			continue
		}
		ok := true
		for _, frag := range fragments {
			ok = ok && strings.Contains(f.Reason, frag)
		}
		if ok {
			return
		}
	}
	t.Fatalf("no failure on %s containing %q; got %+v", prop, fragments, failures)
}

// admin returns the harness's admin connection to db ("" for the URL's
// database), opened on first use and closed after the test, so checks do
// not pile up connections on a server with a small max_connections.
func (h *harness) admin(db string) *pgx.Conn {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if conn, ok := h.conns[db]; ok && !conn.IsClosed() {
		return conn
	}
	conn, err := h.connectAs("", "", db)
	if err != nil {
		h.t.Fatalf("admin connection to %q: %v", db, err)
	}
	if h.conns == nil {
		h.conns = map[string]*pgx.Conn{}
	}
	h.conns[db] = conn
	h.t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// connectAs connects as user with password (the admin when user is empty),
// taking host and port from the admin URL. Credentials go in the config,
// not a URL, so no character needs escaping.
func (h *harness) connectAs(user, password, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(h.env.Postgres.AdminURL)
	if err != nil {
		return nil, err
	}
	if user != "" {
		cfg.User, cfg.Password = user, password
	}
	if db != "" {
		cfg.Database = db
	}
	cfg.ConnectTimeout = 10 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	return pgx.ConnectConfig(ctx, cfg)
}

// exec runs statements as the admin in db.
func (h *harness) exec(db string, stmts ...string) {
	h.t.Helper()
	conn := h.admin(db)
	for _, s := range stmts {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			h.t.Fatalf("%s: %v", s, err)
		}
	}
}

// queryBool runs a query returning one boolean as the admin in db.
func (h *harness) queryBool(db, query string, args ...any) bool {
	h.t.Helper()
	var b bool
	if err := h.admin(db).QueryRow(context.Background(), query, args...).Scan(&b); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
	return b
}

// dropRole is a teardown for a role created by the test.
func (h *harness) dropRole(name string) func(context.Context) error {
	return func(ctx context.Context) error {
		conn, err := h.connectAs("", "", "")
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{name}.Sanitize())
		return err
	}
}

// dropDatabase is a teardown for a database created by the test.
func (h *harness) dropDatabase(name string) func(context.Context) error {
	return func(ctx context.Context) error {
		conn, err := h.connectAs("", "", "")
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		return err
	}
}

// createDatabase creates a scratch database, dropped after the test.
func (h *harness) createDatabase(prefix string) string {
	h.t.Helper()
	name := uniqueName(prefix)
	teardown(h.t, "database "+name, h.dropDatabase(name))
	h.exec("", "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return name
}

// pgCode returns the SQLSTATE of err, or "".
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// redisAdmin returns a client on the admin URL.
func (h *harness) redisAdmin() *goredis.Client {
	h.t.Helper()
	opts, err := goredis.ParseURL(h.env.Redis.AdminURL)
	if err != nil {
		h.t.Fatal(err)
	}
	opts.DisableIdentity = true
	c := goredis.NewClient(opts)
	h.t.Cleanup(func() { c.Close() })
	return c
}

// redisAs returns a single-connection client authenticated as user.
func (h *harness) redisAs(user, password string) *goredis.Client {
	h.t.Helper()
	opts, err := goredis.ParseURL(h.env.Redis.AdminURL)
	if err != nil {
		h.t.Fatal(err)
	}
	opts.Username, opts.Password = user, password
	opts.DisableIdentity = true
	opts.PoolSize, opts.MaxRetries = 1, -1
	c := goredis.NewClient(opts)
	h.t.Cleanup(func() { c.Close() })
	return c
}

func str(m property.Map, k string) string { return m.Get(k).AsString() }

func strs(m property.Map, k string) []string {
	v := m.Get(k)
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, x := range v.AsArray().All {
		out = append(out, x.AsString())
	}
	return out
}

// diffReq builds a Diff request, for tests that expect Diff to fail.
func diffReq(h *harness, token, id string, state, checked property.Map) p.DiffRequest {
	return p.DiffRequest{ID: id, Urn: h.urn(token, "r"), State: state, Inputs: checked}
}
