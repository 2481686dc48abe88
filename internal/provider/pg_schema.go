package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pulumi/pulumi-go-provider/infer"
)

// Schema manages a schema in one database (tenantstack:postgres:Schema).
// Its id is "DATABASE/SCHEMA".
type Schema struct{}

// SchemaArgs are the inputs of a Schema.
type SchemaArgs struct {
	Name     string `pulumi:"name"`
	Owner    string `pulumi:"owner,optional"`
	Database string `pulumi:"database,optional"`
}

// SchemaState is the recorded state of a Schema: the inputs, and the
// privileges PUBLIC holds on it, which must stay empty.
type SchemaState struct {
	SchemaArgs
	PublicPrivileges []string `pulumi:"publicPrivileges,optional"`
}

// Annotate sets the token and documents the resource.
func (*Schema) Annotate(a infer.Annotator) {
	a.SetToken("postgres", "Schema")
	a.Describe(&Schema{}, "A PostgreSQL schema with nothing granted to PUBLIC. Changing its name or database replaces it.")
}

// Annotate documents the inputs.
func (s *SchemaArgs) Annotate(a infer.Annotator) {
	a.Describe(&s.Name, "Schema name. "+identifierRule+"; not starting with pg_.")
	a.Describe(&s.Owner, "Owning role; the provider's admin role when empty.")
	a.Describe(&s.Database, "Database holding the schema; the database of the provider's postgresUrl when empty.")
}

// Annotate documents the outputs.
func (s *SchemaState) Annotate(a infer.Annotator) {
	a.Describe(&s.PublicPrivileges, "Privileges PUBLIC holds on the schema as last read; anything here was granted by hand and is revoked by the next update.")
}

// Check validates the inputs without contacting the server.
func (*Schema) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[SchemaArgs], error) {
	args, fails, err := infer.DefaultCheck[SchemaArgs](ctx, req.NewInputs)
	if err != nil || len(fails) > 0 {
		return infer.CheckResponse[SchemaArgs]{Inputs: args, Failures: fails}, err
	}
	f := newFailures(req.NewInputs)
	f.add("name", checkSchemaName("name", args.Name))
	if strings.EqualFold(args.Name, "public") || strings.EqualFold(args.Name, "information_schema") {
		f.add("name", fmt.Sprintf("name %q is a schema PostgreSQL creates itself; it cannot be managed as a resource", args.Name))
	}
	if args.Owner != "" {
		f.add("owner", checkRoleName("owner", args.Owner))
	}
	if args.Database != "" {
		f.add("database", checkIdentifier("database", args.Database))
	}
	return infer.CheckResponse[SchemaArgs]{Inputs: args, Failures: f.list}, nil
}

// Diff replaces when the name or the (resolved) database changes.
func (*Schema) Diff(ctx context.Context, req infer.DiffRequest[SchemaArgs, SchemaState]) (infer.DiffResponse, error) {
	return diffSchema(req.State, req.Inputs, infer.GetConfig[Config](ctx).defaultDatabase()), nil
}

func diffSchema(old SchemaState, new SchemaArgs, defaultDB string) infer.DiffResponse {
	c := newChanges()
	c.replace("name", old.Name != new.Name)
	c.replace("database", orDefault(old.Database, defaultDB) != orDefault(new.Database, defaultDB))
	c.update("owner", old.Owner != new.Owner)
	c.drift("publicPrivileges", len(old.PublicPrivileges) > 0)
	return c.response()
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// splitID splits an id of n parts joined by "/".
func splitID(id string, n int, form string) ([]string, error) {
	parts := strings.Split(id, "/")
	if len(parts) != n {
		return nil, fmt.Errorf("id %q is not of the form %s", id, form)
	}
	return parts, nil
}

// Create creates the schema and revokes everything from PUBLIC.
func (*Schema) Create(ctx context.Context, req infer.CreateRequest[SchemaArgs]) (infer.CreateResponse[SchemaState], error) {
	a := req.Inputs
	cfg := infer.GetConfig[Config](ctx)
	db := cfg.database(a.Database)
	resp := infer.CreateResponse[SchemaState]{ID: db + "/" + a.Name, Output: SchemaState{SchemaArgs: a}}
	if req.DryRun {
		return resp, nil
	}
	err := cfg.withTx(ctx, db, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)`, a.Name).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("schema %q already exists in database %q; adopt it with \"pulumi import tenantstack:postgres:Schema <resource-name> %s/%s\" or choose another name", a.Name, db, db, a.Name)
		}
		stmt := "CREATE SCHEMA " + ident(a.Name)
		if a.Owner != "" {
			stmt += " AUTHORIZATION " + ident(a.Owner)
		}
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("creating schema %q in database %q: %w", a.Name, db, err)
		}
		_, err := tx.Exec(ctx, "REVOKE ALL ON SCHEMA "+ident(a.Name)+" FROM PUBLIC")
		return err
	})
	return resp, err
}

// Read reports the owner and any privilege PUBLIC holds on the schema.
func (*Schema) Read(ctx context.Context, req infer.ReadRequest[SchemaArgs, SchemaState]) (infer.ReadResponse[SchemaArgs, SchemaState], error) {
	cfg := infer.GetConfig[Config](ctx)
	parts, err := splitID(req.ID, 2, "DATABASE/SCHEMA")
	if err != nil {
		return infer.ReadResponse[SchemaArgs, SchemaState]{}, err
	}
	db, name := parts[0], parts[1]
	st := req.State
	if st.Name == "" && db != cfg.defaultDatabase() { // import
		st.Database = db
	}
	var found bool
	err = cfg.withConn(ctx, db, func(conn *pgx.Conn) error {
		var owner, admin string
		var public []string
		err := conn.QueryRow(ctx, `
			SELECT pg_catalog.pg_get_userbyid(n.nspowner), current_user,
			       ARRAY(SELECT a.privilege_type FROM aclexplode(COALESCE(n.nspacl, acldefault('n', n.nspowner))) a
			             WHERE a.grantee = 0 ORDER BY 1)
			FROM pg_catalog.pg_namespace n WHERE n.nspname = $1`, name).Scan(&owner, &admin, &public)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		st.Name = name
		if st.Owner != "" || owner != admin {
			st.Owner = owner
		}
		st.PublicPrivileges = public
		if len(public) == 0 {
			st.PublicPrivileges = nil
		}
		return nil
	})
	if isGone(err) {
		return infer.ReadResponse[SchemaArgs, SchemaState]{}, nil
	}
	if err != nil || !found {
		return infer.ReadResponse[SchemaArgs, SchemaState]{}, err
	}
	return infer.ReadResponse[SchemaArgs, SchemaState]{ID: req.ID, Inputs: st.SchemaArgs, State: st}, nil
}

// Update changes the owner and revokes whatever PUBLIC was given by hand.
func (*Schema) Update(ctx context.Context, req infer.UpdateRequest[SchemaArgs, SchemaState]) (infer.UpdateResponse[SchemaState], error) {
	a := req.Inputs
	resp := infer.UpdateResponse[SchemaState]{Output: SchemaState{SchemaArgs: a}}
	if req.DryRun {
		return resp, nil
	}
	cfg := infer.GetConfig[Config](ctx)
	err := cfg.withTx(ctx, cfg.database(a.Database), func(tx pgx.Tx) error {
		owner := ident(a.Owner)
		if a.Owner == "" {
			owner = "CURRENT_USER"
		}
		if _, err := tx.Exec(ctx, "ALTER SCHEMA "+ident(a.Name)+" OWNER TO "+owner); err != nil {
			return fmt.Errorf("changing the owner of schema %q: %w", a.Name, err)
		}
		_, err := tx.Exec(ctx, "REVOKE ALL ON SCHEMA "+ident(a.Name)+" FROM PUBLIC")
		return err
	})
	return resp, err
}

// Delete drops the schema if it is empty; a schema or database already gone
// is fine. It never cascades: tenant data is not dropped implicitly.
func (*Schema) Delete(ctx context.Context, req infer.DeleteRequest[SchemaState]) (infer.DeleteResponse, error) {
	cfg := infer.GetConfig[Config](ctx)
	parts, err := splitID(req.ID, 2, "DATABASE/SCHEMA")
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	db, name := parts[0], parts[1]
	err = cfg.withConn(ctx, db, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+ident(name)+" RESTRICT")
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "2BP01" {
			return fmt.Errorf("schema %q in database %q is not empty (%s); drop or move its objects first", name, db, pgErr.Detail)
		}
		return err
	})
	if isGone(err) {
		err = nil
	}
	return infer.DeleteResponse{}, err
}

// isGone reports errors meaning the object's container no longer exists
// (its database, schema, table, role or function), so there is nothing
// left to read or delete.
func isGone(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "3D000", // invalid_catalog_name: database does not exist
		"3F000", // invalid_schema_name
		"42P01", // undefined_table
		"42704", // undefined_object (role)
		"42883": // undefined_function
		return true
	}
	return false
}
