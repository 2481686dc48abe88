//go:build integration

package provider_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/sdk/postgres"
)

// contractSteps is the shared-tier contract as Migration input.
func contractSteps() []any {
	var steps []any
	for _, s := range postgres.ContractSteps() {
		steps = append(steps, map[string]any{"version": s.Version, "sql": s.SQL})
	}
	return steps
}

// tenantConn is a session of a tenant login role in the test database.
type tenantConn struct {
	t    *testing.T
	conn *pgx.Conn
}

func (h *harness) tenant(role, password, db string) *tenantConn {
	h.t.Helper()
	conn, err := h.connectAs(role, password, db)
	if err != nil {
		h.t.Fatalf("login as %s: %v", role, err)
	}
	h.t.Cleanup(func() { conn.Close(context.Background()) })
	return &tenantConn{t: h.t, conn: conn}
}

func (c *tenantConn) exec(sql string, args ...any) error {
	_, err := c.conn.Exec(context.Background(), sql, args...)
	return err
}

func (c *tenantConn) mustExec(sql string, args ...any) {
	c.t.Helper()
	if err := c.exec(sql, args...); err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
}

// tenants returns the tenant ids of the rows this session can see.
func (c *tenantConn) tenants() []string {
	c.t.Helper()
	rows, err := c.conn.Query(context.Background(), `SELECT tenant_id FROM app.items ORDER BY 1`)
	if err != nil {
		c.t.Fatalf("select: %v", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		c.t.Fatalf("select: %v", err)
	}
	return ids
}

// expectDenied requires err to be a permission or policy violation.
func expectDenied(t *testing.T, what string, err error) {
	t.Helper()
	if code := pgCode(err); code != "42501" {
		t.Fatalf("%s: err = %v (SQLSTATE %q), want insufficient_privilege / RLS violation 42501", what, err, code)
	}
}

// TestSharedTier installs the shared-tier contract with a Migration,
// isolates a shared table with TableIsolation, registers two tenants and
// proves with their login roles that rows are isolated and cannot be
// spoofed; then drift (policy dropped, RLS not forced, row deleted by hand)
// is seen by Read and repaired.
func TestSharedTier(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	db := h.createDatabase("ts_shared")
	// A tenant's login role is named after it (app.current_tenant() derives
	// the tenant from the name); C's role is not a tenant's.
	tenantA, tenantB := strings.ReplaceAll(uniqueName("acme"), "_", "-"), strings.ReplaceAll(uniqueName("beta"), "_", "-")
	roleA, roleB, roleC := tenantspec.RoleName(tenantA), tenantspec.RoleName(tenantB), uniqueName("ts_tc")
	pwA, pwB, pwC := nastyPassword+"A", "b-"+unicodePassword, "c-password"
	teardown(t, "tenant roles", func(ctx context.Context) error {
		if err := h.dropDatabase(db)(ctx); err != nil {
			return err
		}
		for _, r := range []string{roleA, roleB, roleC} {
			if err := h.dropRole(r)(ctx); err != nil {
				return err
			}
		}
		return nil
	})

	// The contract, through a Migration.
	migIn := props(map[string]any{"name": postgres.ContractMigrationName, "database": db, "steps": contractSteps()})
	migChecked := h.mustCheck(migrationToken, migIn)
	migID, migState := h.mustCreate(migrationToken, migIn)
	if got := migState.Get("appliedVersions").AsArray().Len(); got != len(postgres.ContractSteps()) {
		t.Fatalf("applied %d contract steps, want %d", got, len(postgres.ContractSteps()))
	}
	h.expectNoDrift(migrationToken, migID, migState, migChecked)
	// Inlinable: a plain STABLE SQL function, no SECURITY DEFINER, no SET.
	if !h.queryBool(db, `SELECT NOT p.prosecdef AND p.provolatile = 's' AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'sql') AND p.proconfig IS NULL
		FROM pg_proc p WHERE p.oid = 'app.current_tenant()'::regprocedure`) {
		t.Fatal("app.current_tenant() is not a plain STABLE SQL function the planner can inline")
	}
	if h.queryBool(db, `SELECT has_schema_privilege('public', 'app', 'USAGE') OR has_function_privilege('public', 'app.current_tenant()', 'EXECUTE')
		OR has_function_privilege('public', 'app.enable_tenant_isolation(regclass, name)', 'EXECUTE')`) {
		t.Fatal("PUBLIC holds privileges on the contract")
	}

	// A shared table, created by the admin, isolated through the provider.
	h.exec(db, `CREATE TABLE app.items (
		tenant_id text NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, body text,
		PRIMARY KEY (tenant_id, id))`)
	isoIn := props(map[string]any{"table": "app.items", "database": db})
	isoChecked := h.mustCheck(isolationToken, isoIn)
	isoID, isoState := h.mustCreate(isolationToken, isoIn)
	if isoID != db+"/app.items" {
		t.Fatalf("TableIsolation id = %q", isoID)
	}
	h.expectNoDrift(isolationToken, isoID, isoState, isoChecked)

	// Two tenants and an unregistered member of app_tenant.
	var regs []struct {
		id    string
		state property.Map
		in    property.Map
	}
	for _, r := range []struct{ role, pw, tenant string }{{roleA, pwA, tenantA}, {roleB, pwB, tenantB}, {roleC, pwC, ""}} {
		h.mustCreate(roleToken, props(map[string]any{"name": r.role, "login": true, "password": r.pw, "connectionLimit": 5, "memberOf": []string{"app_tenant"}}, "password"))
		if r.tenant == "" {
			continue
		}
		in := props(map[string]any{"tenantId": r.tenant, "roleName": r.role, "tier": "shared", "database": db})
		id, state := h.mustCreate(tenantToken, in)
		regs = append(regs, struct {
			id    string
			state property.Map
			in    property.Map
		}{id, state, h.mustCheck(tenantToken, in)})
	}
	for _, reg := range regs {
		h.expectNoDrift(tenantToken, reg.id, reg.state, reg.in)
	}

	a, b, c := h.tenant(roleA, pwA, db), h.tenant(roleB, pwB, db), h.tenant(roleC, pwC, db)
	a.mustExec(`INSERT INTO app.items (body) VALUES ('a1'), ('a2')`)
	b.mustExec(`INSERT INTO app.items (body) VALUES ('b1')`)

	t.Run("tenants see only their rows", func(t *testing.T) {
		if got := a.tenants(); !slices.Equal(got, []string{tenantA, tenantA}) {
			t.Fatalf("tenant A sees %v", got)
		}
		if got := b.tenants(); !slices.Equal(got, []string{tenantB}) {
			t.Fatalf("tenant B sees %v", got)
		}
		if got := c.tenants(); len(got) != 0 {
			t.Fatalf("an unregistered role sees %v", got)
		}
	})
	t.Run("tenants cannot write other tenants' rows", func(t *testing.T) {
		expectDenied(t, "A inserts a row for B", a.exec(`INSERT INTO app.items (tenant_id, body) VALUES ($1, 'forged')`, tenantB))
		expectDenied(t, "A moves its row to B", a.exec(`UPDATE app.items SET tenant_id = $1`, tenantB))
		tag, err := a.conn.Exec(context.Background(), `UPDATE app.items SET body = 'hacked' WHERE tenant_id = $1`, tenantB)
		if err != nil || tag.RowsAffected() != 0 {
			t.Fatalf("A updating B's rows: %v, %d rows", err, tag.RowsAffected())
		}
		tag, err = a.conn.Exec(context.Background(), `DELETE FROM app.items WHERE tenant_id = $1`, tenantB)
		if err != nil || tag.RowsAffected() != 0 {
			t.Fatalf("A deleting B's rows: %v, %d rows", err, tag.RowsAffected())
		}
		if err := c.exec(`INSERT INTO app.items (body) VALUES ('orphan')`); err == nil {
			t.Fatal("an unregistered role inserted a row")
		}
		if got := b.tenants(); !slices.Equal(got, []string{tenantB}) {
			t.Fatalf("B's rows changed: %v", got)
		}
	})
	t.Run("identity cannot be spoofed", func(t *testing.T) {
		a.mustExec(`SELECT set_config('app.tenant_id', $1, false), set_config('app.current_tenant', $1, false)`, tenantB)
		a.mustExec(`SET ROLE app_tenant`)
		if got := a.tenants(); !slices.Equal(got, []string{tenantA, tenantA}) {
			t.Fatalf("after SET ROLE and set_config tenant A sees %v", got)
		}
		var who string
		if err := a.conn.QueryRow(context.Background(), `SELECT app.current_tenant()`).Scan(&who); err != nil || who != tenantA {
			t.Fatalf("app.current_tenant() = %q, %v; want %q", who, err, tenantA)
		}
		a.mustExec(`RESET ROLE`)
		expectDenied(t, "SET SESSION AUTHORIZATION", a.exec(`SET SESSION AUTHORIZATION `+pgx.Identifier{roleB}.Sanitize()))
		expectDenied(t, "SET ROLE to another tenant", a.exec(`SET ROLE `+pgx.Identifier{roleB}.Sanitize()))
	})
	t.Run("the registry and the controls are out of reach", func(t *testing.T) {
		expectDenied(t, "read tenantstack.tenants", a.exec(`SELECT * FROM tenantstack.tenants`))
		expectDenied(t, "write tenantstack.tenants", a.exec(`UPDATE tenantstack.tenants SET role_name = session_user WHERE tenant_id = $1`, tenantB))
		expectDenied(t, "call enable_tenant_isolation", a.exec(`SELECT app.enable_tenant_isolation('app.items')`))
		expectDenied(t, "disable RLS", a.exec(`ALTER TABLE app.items DISABLE ROW LEVEL SECURITY`))
		expectDenied(t, "create in app", a.exec(`CREATE TABLE app.mine (x int)`))
	})

	t.Run("drift of the isolation", func(t *testing.T) {
		h.exec(db, `DROP POLICY tenant_isolation ON app.items`)
		if got := a.tenants(); len(got) != 0 {
			t.Fatalf("with the policy dropped (RLS still forced) tenant A sees %v: not failing closed", got)
		}
		read := h.read(isolationToken, isoID, isoState, isoChecked)
		if drift := strs(read.Properties, "drift"); !slices.Contains(drift, "policy tenant_isolation is missing") {
			t.Fatalf("Read missed the dropped policy: drift %v", drift)
		}
		expectUpdateOnly(t, h.diff(isolationToken, isoID, read.Properties, isoChecked), "drift")
		isoState = h.mustUpdate(isolationToken, isoID, read.Properties, isoChecked)
		if got := a.tenants(); !slices.Equal(got, []string{tenantA, tenantA}) {
			t.Fatalf("after repair tenant A sees %v", got)
		}
		h.exec(db, `ALTER TABLE app.items NO FORCE ROW LEVEL SECURITY`, `ALTER TABLE app.items ALTER COLUMN tenant_id DROP DEFAULT`)
		read = h.read(isolationToken, isoID, isoState, isoChecked)
		if drift := strs(read.Properties, "drift"); len(drift) != 2 {
			t.Fatalf("Read after NO FORCE and DROP DEFAULT: drift %v, want both", drift)
		}
		isoState = h.mustUpdate(isolationToken, isoID, read.Properties, isoChecked)
		h.expectNoDrift(isolationToken, isoID, isoState, isoChecked)
		imp := h.read(isolationToken, isoID, property.Map{}, property.Map{})
		if imp.ID != isoID || str(imp.Inputs, "table") != "app.items" || str(imp.Inputs, "column") != "tenant_id" {
			t.Fatalf("import read: %q %v", imp.ID, imp.Inputs)
		}
		expectReplace(t, h.diff(isolationToken, isoID, isoState, h.mustCheck(isolationToken, props(map[string]any{"table": "app.other", "database": db}))), "table")
	})

	t.Run("registration", func(t *testing.T) {
		reg := regs[1]
		// The tier changes in place; the tenant id replaces, delete first.
		moved := h.mustCheck(tenantToken, props(map[string]any{"tenantId": tenantB, "roleName": roleB, "tier": "schema", "database": db}))
		expectUpdateOnly(t, h.diff(tenantToken, reg.id, reg.state, moved), "tier")
		reg.state = h.mustUpdate(tenantToken, reg.id, reg.state, moved)
		if !h.queryBool(db, `SELECT tier = 'schema' FROM tenantstack.tenants WHERE tenant_id = $1`, tenantB) {
			t.Fatal("tier not updated")
		}
		d := h.diff(tenantToken, reg.id, reg.state, h.mustCheck(tenantToken, props(map[string]any{"tenantId": tenantB + "x", "roleName": tenantspec.RoleName(tenantB + "x"), "tier": "schema", "database": db})))
		expectReplace(t, d, "tenantId")
		if !d.DeleteBeforeReplace {
			t.Fatal("a new tenant id must delete the old row first (the role name is unique)")
		}
		imp := h.read(tenantToken, reg.id, property.Map{}, property.Map{})
		if imp.ID != reg.id || str(imp.Inputs, "roleName") != roleB || str(imp.Inputs, "tier") != "schema" {
			t.Fatalf("import read: %q %v", imp.ID, imp.Inputs)
		}
		// Another tenant's role is refused before anything runs.
		if _, failures := h.check(tenantToken, props(map[string]any{"tenantId": "dup-" + tenantB, "roleName": roleB, "tier": "shared", "database": db})); len(failures) == 0 ||
			!strings.Contains(failures[0].Reason, tenantspec.RoleName("dup-"+tenantB)) {
			t.Fatalf("registering another tenant's role: %v", failures)
		}
		// The row deleted by hand: gone on read. B's identity follows its
		// login role's name, not the registry (app.current_tenant() reads
		// no table), so it still sees its own rows and never another's.
		h.exec(db, `DELETE FROM tenantstack.tenants WHERE tenant_id = '`+tenantB+`'`)
		if gone := h.read(tenantToken, reg.id, reg.state, moved); gone.ID != "" {
			t.Fatalf("Read of a row deleted by hand returned %q", gone.ID)
		}
		for _, got := range b.tenants() {
			if got != tenantB {
				t.Fatalf("a deregistered tenant sees rows of %q", got)
			}
		}
		h.mustDeleteTwice(tenantToken, reg.id, reg.state)
		for _, bad := range []map[string]any{
			{"tenantId": "Acme", "roleName": roleA, "tier": "shared"},
			{"tenantId": "acme", "roleName": roleA, "tier": "gold"},
			{"tenantId": "acme", "roleName": "x'y", "tier": "shared"},
		} {
			if _, failures := h.check(tenantToken, props(bad)); len(failures) == 0 {
				t.Fatalf("check accepted %v", bad)
			}
		}
	})

	t.Run("contract migration drift", func(t *testing.T) {
		h.exec(db, `DELETE FROM public.tenantstack_migrations WHERE set_name = '`+postgres.ContractMigrationName+`' AND version = 5`)
		read := h.read(migrationToken, migID, migState, migChecked)
		if got := read.Properties.Get("appliedVersions").AsArray().Len(); got != len(postgres.ContractSteps())-1 {
			t.Fatalf("Read after a record deleted by hand: %d applied", got)
		}
		expectUpdateOnly(t, h.diff(migrationToken, migID, read.Properties, migChecked), "appliedVersions")
		// The contract is idempotent: re-applying step 5 succeeds.
		migState = h.mustUpdate(migrationToken, migID, read.Properties, migChecked)
		h.expectNoDrift(migrationToken, migID, migState, migChecked)
	})

	// Deleting the isolation fails closed: RLS stays forced, no policy.
	if err := h.delete(isolationToken, isoID, isoState); err != nil {
		t.Fatal(err)
	}
	if !h.queryBool(db, `SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'app.items'::regclass`) {
		t.Fatal("deleting the isolation disabled RLS")
	}
	if got := a.tenants(); len(got) != 0 {
		t.Fatalf("after the isolation was deleted tenant A sees %v, want nothing (fail closed)", got)
	}
	h.mustDeleteTwice(isolationToken, isoID, isoState)
}
