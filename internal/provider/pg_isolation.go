package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pulumi/pulumi-go-provider/infer"
)

// TableIsolation protects a shared table with row-level security keyed on
// the tenant column, by calling app.enable_tenant_isolation
// (tenantstack:postgres:TableIsolation). Its id is "DATABASE/SCHEMA.TABLE".
type TableIsolation struct{}

// TableIsolationArgs are the inputs of a TableIsolation.
type TableIsolationArgs struct {
	Table    string  `pulumi:"table"`
	Column   *string `pulumi:"column,optional"`
	Database string  `pulumi:"database,optional"`
}

// TableIsolationState is the recorded state: the inputs, and what Read
// found missing (empty when the table is isolated as it should be).
type TableIsolationState struct {
	TableIsolationArgs
	Drift []string `pulumi:"drift,optional"`
}

// isolationPolicy is the policy name app.enable_tenant_isolation creates.
const isolationPolicy = "tenant_isolation"

// Annotate sets the token and documents the resource.
func (*TableIsolation) Annotate(a infer.Annotator) {
	a.SetToken("postgres", "TableIsolation")
	a.Describe(&TableIsolation{}, "Row-level security on a shared table: RLS enabled and forced, one policy for all commands "+
		"with USING and WITH CHECK column = app.current_tenant(), and that as the column default (app.enable_tenant_isolation). "+
		"Deleting it drops the policy but leaves RLS enabled and forced, so the table fails closed.")
}

// Annotate documents the inputs.
func (t *TableIsolationArgs) Annotate(a infer.Annotator) {
	a.Describe(&t.Table, "Table, as TABLE (in schema public) or SCHEMA.TABLE.")
	a.Describe(&t.Column, "Tenant column.")
	a.SetDefault(&t.Column, "tenant_id")
	a.Describe(&t.Database, "Database; the database of the provider's postgresUrl when empty.")
}

// Annotate documents the outputs.
func (t *TableIsolationState) Annotate(a infer.Annotator) {
	a.Describe(&t.Drift, "What the last read found out of place (RLS disabled or not forced, policy missing or changed, "+
		"default missing); the next update restores it.")
}

// splitTable splits "schema.table" or "table" (schema public).
func splitTable(t string) (schema, table string) {
	if s, tbl, ok := strings.Cut(t, "."); ok {
		return s, tbl
	}
	return "public", t
}

// Check validates the inputs without contacting the server.
func (*TableIsolation) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[TableIsolationArgs], error) {
	args, fails, err := infer.DefaultCheck[TableIsolationArgs](ctx, req.NewInputs)
	if err != nil || len(fails) > 0 {
		return infer.CheckResponse[TableIsolationArgs]{Inputs: args, Failures: fails}, err
	}
	f := newFailures(req.NewInputs)
	if strings.Count(args.Table, ".") > 1 {
		f.add("table", fmt.Sprintf("table %q has more than one \".\"; give TABLE or SCHEMA.TABLE", args.Table))
	} else {
		schema, table := splitTable(args.Table)
		f.add("table", checkIdentifier("table's schema", schema))
		f.add("table", checkIdentifier("table", table))
	}
	f.add("column", checkIdentifier("column", stringOr(args.Column, "tenant_id")))
	if args.Database != "" {
		f.add("database", checkIdentifier("database", args.Database))
	}
	return infer.CheckResponse[TableIsolationArgs]{Inputs: args, Failures: f.list}, nil
}

// Diff replaces for another table or database, updates a new column in
// place, and updates to repair drift seen by Read.
func (*TableIsolation) Diff(ctx context.Context, req infer.DiffRequest[TableIsolationArgs, TableIsolationState]) (infer.DiffResponse, error) {
	return diffTableIsolation(req.State, req.Inputs, infer.GetConfig[Config](ctx).defaultDatabase()), nil
}

func diffTableIsolation(old TableIsolationState, new TableIsolationArgs, defaultDB string) infer.DiffResponse {
	c := newChanges()
	os, ot := splitTable(old.Table)
	ns, nt := splitTable(new.Table)
	c.replace("table", os != ns || ot != nt)
	c.replace("database", orDefault(old.Database, defaultDB) != orDefault(new.Database, defaultDB))
	c.update("column", stringOr(old.Column, "tenant_id") != stringOr(new.Column, "tenant_id"))
	c.drift("drift", len(old.Drift) > 0)
	return c.response()
}

// enableIsolation calls the contract's function, with the table and column
// as bind parameters.
func enableIsolation(ctx context.Context, tx pgx.Tx, db, schema, table, column string) error {
	_, err := tx.Exec(ctx, `SELECT app.enable_tenant_isolation($1::regclass, $2::name)`, ident(schema, table), column)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "42883", "3F000":
			return fmt.Errorf("app.enable_tenant_isolation does not exist in database %q: install the shared-tier contract first "+
				"(a tenantstack:postgres:Migration with steps postgres.ContractSteps()) and make this resource depend on it", db)
		case "42P01":
			return fmt.Errorf("table %s.%s does not exist in database %q; create it first", schema, table, db)
		}
	}
	if err != nil {
		return fmt.Errorf("enabling tenant isolation on %s.%s: %w", schema, table, err)
	}
	return nil
}

// Create enables isolation on the table.
func (*TableIsolation) Create(ctx context.Context, req infer.CreateRequest[TableIsolationArgs]) (infer.CreateResponse[TableIsolationState], error) {
	a := req.Inputs
	cfg := infer.GetConfig[Config](ctx)
	db := cfg.database(a.Database)
	schema, table := splitTable(a.Table)
	resp := infer.CreateResponse[TableIsolationState]{ID: db + "/" + schema + "." + table, Output: TableIsolationState{TableIsolationArgs: a}}
	if req.DryRun {
		return resp, nil
	}
	err := cfg.withTx(ctx, db, func(tx pgx.Tx) error {
		return enableIsolation(ctx, tx, db, schema, table, stringOr(a.Column, "tenant_id"))
	})
	return resp, err
}

// isolationDrift lists what differs from what app.enable_tenant_isolation
// sets up, or found=false when the table is gone.
func isolationDrift(ctx context.Context, conn *pgx.Conn, schema, table, column string) (drift []string, found bool, err error) {
	// Pinning search_path makes pg_get_expr qualify app.current_tenant()
	// the same way whatever the admin's settings are.
	if _, err := conn.Exec(ctx, `SET search_path = pg_catalog, pg_temp`); err != nil {
		return nil, false, err
	}
	var enabled, forced, policy, policyOK, colDefault bool
	err = conn.QueryRow(ctx, `
		WITH t AS (
			SELECT c.oid, c.relrowsecurity, c.relforcerowsecurity FROM pg_catalog.pg_class c
			JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = $1 AND c.relname = $2),
		want AS (SELECT format('(%I = app.current_tenant())', $3::text) AS expr)
		SELECT t.relrowsecurity, t.relforcerowsecurity,
		       EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = t.oid AND p.polname = $4),
		       EXISTS (SELECT 1 FROM pg_catalog.pg_policy p, want
		               WHERE p.polrelid = t.oid AND p.polname = $4 AND p.polcmd = '*' AND p.polpermissive
		                 AND p.polroles = '{0}'
		                 AND pg_catalog.pg_get_expr(p.polqual, p.polrelid) = want.expr
		                 AND pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) = want.expr),
		       EXISTS (SELECT 1 FROM pg_catalog.pg_attrdef d
		               JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
		               WHERE d.adrelid = t.oid AND a.attname = $3
		                 AND pg_catalog.pg_get_expr(d.adbin, d.adrelid) = 'app.current_tenant()')
		FROM t`, schema, table, column, isolationPolicy).Scan(&enabled, &forced, &policy, &policyOK, &colDefault)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !enabled {
		drift = append(drift, "row level security is disabled")
	}
	if !forced {
		drift = append(drift, "row level security is not forced, so the table owner bypasses it")
	}
	switch {
	case !policy:
		drift = append(drift, "policy "+isolationPolicy+" is missing")
	case !policyOK:
		drift = append(drift, fmt.Sprintf("policy %s no longer restricts all commands for everyone to %s = app.current_tenant()", isolationPolicy, column))
	}
	if !colDefault {
		drift = append(drift, fmt.Sprintf("column %s no longer defaults to app.current_tenant()", column))
	}
	return drift, true, nil
}

// Read reports drift: a dropped or changed policy, RLS disabled or not
// forced, a removed column default.
func (*TableIsolation) Read(ctx context.Context, req infer.ReadRequest[TableIsolationArgs, TableIsolationState]) (infer.ReadResponse[TableIsolationArgs, TableIsolationState], error) {
	cfg := infer.GetConfig[Config](ctx)
	parts, err := splitID(req.ID, 2, "DATABASE/SCHEMA.TABLE")
	if err != nil {
		return infer.ReadResponse[TableIsolationArgs, TableIsolationState]{}, err
	}
	db := parts[0]
	schema, table := splitTable(parts[1])
	st := req.State
	imported := st.Table == ""
	if imported {
		st.Table = schema + "." + table
		if db != cfg.defaultDatabase() {
			st.Database = db
		}
	}
	var found bool
	err = cfg.withConn(ctx, db, func(conn *pgx.Conn) error {
		if imported {
			// The column whose default is app.current_tenant(), if any.
			col := "tenant_id"
			err := conn.QueryRow(ctx, `
				SELECT a.attname FROM pg_catalog.pg_attrdef d
				JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
				JOIN pg_catalog.pg_class c ON c.oid = d.adrelid
				JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = $1 AND c.relname = $2 AND pg_catalog.pg_get_expr(d.adbin, d.adrelid) LIKE '%current_tenant()'
				LIMIT 1`, schema, table).Scan(&col)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			st.Column = &col
		}
		var err error
		st.Drift, found, err = isolationDrift(ctx, conn, schema, table, stringOr(st.Column, "tenant_id"))
		return err
	})
	if isGone(err) || (err == nil && !found) {
		return infer.ReadResponse[TableIsolationArgs, TableIsolationState]{}, nil
	}
	if err != nil {
		return infer.ReadResponse[TableIsolationArgs, TableIsolationState]{}, err
	}
	if imported && slices.Contains(st.Drift, "policy "+isolationPolicy+" is missing") {
		return infer.ReadResponse[TableIsolationArgs, TableIsolationState]{}, nil // not isolated: nothing to import
	}
	return infer.ReadResponse[TableIsolationArgs, TableIsolationState]{ID: req.ID, Inputs: st.TableIsolationArgs, State: st}, nil
}

// Update moves the isolation to a new column, or repairs drift, by calling
// app.enable_tenant_isolation again (it is idempotent).
func (*TableIsolation) Update(ctx context.Context, req infer.UpdateRequest[TableIsolationArgs, TableIsolationState]) (infer.UpdateResponse[TableIsolationState], error) {
	a := req.Inputs
	resp := infer.UpdateResponse[TableIsolationState]{Output: TableIsolationState{TableIsolationArgs: a}}
	if req.DryRun {
		return resp, nil
	}
	cfg := infer.GetConfig[Config](ctx)
	db := cfg.database(a.Database)
	schema, table := splitTable(a.Table)
	oldCol, newCol := stringOr(req.State.Column, "tenant_id"), stringOr(a.Column, "tenant_id")
	err := cfg.withTx(ctx, db, func(tx pgx.Tx) error {
		if oldCol != newCol {
			if _, err := tx.Exec(ctx, "ALTER TABLE "+ident(schema, table)+" ALTER COLUMN "+ident(oldCol)+" DROP DEFAULT"); err != nil {
				var pgErr *pgconn.PgError
				if !errors.As(err, &pgErr) || pgErr.Code != "42703" { // the old column may be gone
					return fmt.Errorf("dropping the default of %s.%s.%s: %w", schema, table, oldCol, err)
				}
			}
		}
		return enableIsolation(ctx, tx, db, schema, table, newCol)
	})
	return resp, err
}

// Delete drops the policy and the column default but leaves RLS enabled and
// forced: with no policy the table shows no rows to anyone subject to RLS,
// which fails closed, where disabling RLS would expose every tenant's rows.
func (*TableIsolation) Delete(ctx context.Context, req infer.DeleteRequest[TableIsolationState]) (infer.DeleteResponse, error) {
	cfg := infer.GetConfig[Config](ctx)
	parts, err := splitID(req.ID, 2, "DATABASE/SCHEMA.TABLE")
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	schema, table := splitTable(parts[1])
	col := stringOr(req.State.Column, "tenant_id")
	err = cfg.withTx(ctx, parts[0], func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DROP POLICY IF EXISTS "+ident(isolationPolicy)+" ON "+ident(schema, table)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "ALTER TABLE "+ident(schema, table)+" ALTER COLUMN "+ident(col)+" DROP DEFAULT")
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42703" {
			return nil
		}
		return err
	})
	if isGone(err) {
		err = nil
	}
	return infer.DeleteResponse{}, err
}
