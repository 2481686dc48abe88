package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/pulumi/pulumi-go-provider/infer"
)

// Database manages a PostgreSQL database (tenantstack:postgres:Database).
// Its id is the database name.
type Database struct{}

// DatabaseArgs are the inputs of a Database; the outputs echo them.
type DatabaseArgs struct {
	Name                string `pulumi:"name"`
	Owner               string `pulumi:"owner,optional"`
	RevokePublicConnect *bool  `pulumi:"revokePublicConnect,optional"`
	ForceDestroy        bool   `pulumi:"forceDestroy,optional"`
}

// DatabaseState is the recorded state of a Database.
type DatabaseState struct {
	DatabaseArgs
}

// Annotate sets the token and documents the resource.
func (*Database) Annotate(a infer.Annotator) {
	a.SetToken("postgres", "Database")
	a.Describe(&Database{}, "A PostgreSQL database. Renaming replaces it; the owner and PUBLIC's access change in place.")
}

// Annotate documents the inputs.
func (d *DatabaseArgs) Annotate(a infer.Annotator) {
	a.Describe(&d.Name, "Database name. "+identifierRule+". Changing it replaces the database.")
	a.Describe(&d.Owner, "Owning role; the provider's admin role when empty.")
	a.Describe(&d.RevokePublicConnect, "Revoke CONNECT and TEMPORARY from PUBLIC, so only roles granted CONNECT can connect.")
	a.SetDefault(&d.RevokePublicConnect, true)
	a.Describe(&d.ForceDestroy, "On delete, end other sessions connected to the database instead of refusing to drop it.")
}

// Check validates the inputs without contacting the server.
func (*Database) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[DatabaseArgs], error) {
	args, fails, err := infer.DefaultCheck[DatabaseArgs](ctx, req.NewInputs)
	if err != nil || len(fails) > 0 {
		return infer.CheckResponse[DatabaseArgs]{Inputs: args, Failures: fails}, err
	}
	f := newFailures(req.NewInputs)
	f.add("name", checkIdentifier("name", args.Name))
	switch args.Name {
	case "template0", "template1":
		f.add("name", fmt.Sprintf("name %q is a template database PostgreSQL needs; it cannot be managed as a resource", args.Name))
	}
	if args.Owner != "" {
		f.add("owner", checkRoleName("owner", args.Owner))
	}
	return infer.CheckResponse[DatabaseArgs]{Inputs: args, Failures: f.list}, nil
}

// Diff replaces on a rename and updates the rest in place.
func (*Database) Diff(_ context.Context, req infer.DiffRequest[DatabaseArgs, DatabaseState]) (infer.DiffResponse, error) {
	return diffDatabase(req.State.DatabaseArgs, req.Inputs), nil
}

func diffDatabase(old, new DatabaseArgs) infer.DiffResponse {
	c := newChanges()
	c.replace("name", old.Name != new.Name)
	c.update("owner", old.Owner != new.Owner)
	c.update("revokePublicConnect", boolOr(old.RevokePublicConnect, true) != boolOr(new.RevokePublicConnect, true))
	c.update("forceDestroy", old.ForceDestroy != new.ForceDestroy)
	return c.response()
}

// setPublicAccess revokes or restores PUBLIC's default CONNECT and TEMPORARY.
func setPublicAccess(ctx context.Context, conn *pgx.Conn, db string, revoke bool) error {
	stmt := "GRANT CONNECT, TEMPORARY ON DATABASE " + ident(db) + " TO PUBLIC"
	if revoke {
		stmt = "REVOKE CONNECT, TEMPORARY ON DATABASE " + ident(db) + " FROM PUBLIC"
	}
	_, err := conn.Exec(ctx, stmt)
	return err
}

// Create runs CREATE DATABASE, which cannot run inside a transaction, then
// sets PUBLIC's access. A failure after the create drops the database again
// so that a retry starts clean.
func (*Database) Create(ctx context.Context, req infer.CreateRequest[DatabaseArgs]) (infer.CreateResponse[DatabaseState], error) {
	a := req.Inputs
	resp := infer.CreateResponse[DatabaseState]{ID: a.Name, Output: DatabaseState{a}}
	if req.DryRun {
		return resp, nil
	}
	cfg := infer.GetConfig[Config](ctx)
	err := cfg.withConn(ctx, "", func(conn *pgx.Conn) error {
		var exists bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1)`, a.Name).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("database %q already exists; adopt it with \"pulumi import tenantstack:postgres:Database <resource-name> %s\" or choose another name", a.Name, a.Name)
		}
		stmt := "CREATE DATABASE " + ident(a.Name)
		if a.Owner != "" {
			stmt += " OWNER " + ident(a.Owner)
		}
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("creating database %q: %w", a.Name, err)
		}
		if err := setPublicAccess(ctx, conn, a.Name, boolOr(a.RevokePublicConnect, true)); err != nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(a.Name))
			return fmt.Errorf("setting PUBLIC's access to database %q: %w", a.Name, err)
		}
		return nil
	})
	return resp, err
}

// Read reports the owner and whether PUBLIC can connect or create
// temporary tables.
func (*Database) Read(ctx context.Context, req infer.ReadRequest[DatabaseArgs, DatabaseState]) (infer.ReadResponse[DatabaseArgs, DatabaseState], error) {
	cfg := infer.GetConfig[Config](ctx)
	st := req.State
	name := req.ID
	var found bool
	err := cfg.withConn(ctx, "", func(conn *pgx.Conn) error {
		var owner, admin string
		var publicAccess bool
		err := conn.QueryRow(ctx, `
			SELECT pg_catalog.pg_get_userbyid(d.datdba), current_user,
			       EXISTS (SELECT 1 FROM aclexplode(COALESCE(d.datacl, acldefault('d', d.datdba))) a
			               WHERE a.grantee = 0 AND a.privilege_type IN ('CONNECT', 'TEMPORARY'))
			FROM pg_catalog.pg_database d WHERE d.datname = $1`, name).Scan(&owner, &admin, &publicAccess)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		st.Name = name
		// An empty owner input means the admin; keep it empty while true.
		if st.Owner != "" || owner != admin {
			st.Owner = owner
		}
		st.RevokePublicConnect = ptr(!publicAccess)
		return nil
	})
	if err != nil || !found {
		return infer.ReadResponse[DatabaseArgs, DatabaseState]{}, err
	}
	return infer.ReadResponse[DatabaseArgs, DatabaseState]{ID: name, Inputs: st.DatabaseArgs, State: st}, nil
}

// Update changes the owner and PUBLIC's access in place.
func (*Database) Update(ctx context.Context, req infer.UpdateRequest[DatabaseArgs, DatabaseState]) (infer.UpdateResponse[DatabaseState], error) {
	a := req.Inputs
	resp := infer.UpdateResponse[DatabaseState]{Output: DatabaseState{a}}
	if req.DryRun {
		return resp, nil
	}
	cfg := infer.GetConfig[Config](ctx)
	err := cfg.withConn(ctx, "", func(conn *pgx.Conn) error {
		owner := ident(a.Owner)
		if a.Owner == "" {
			owner = "CURRENT_USER"
		}
		if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident(a.Name)+" OWNER TO "+owner); err != nil {
			return fmt.Errorf("changing the owner of database %q: %w", a.Name, err)
		}
		if err := setPublicAccess(ctx, conn, a.Name, boolOr(a.RevokePublicConnect, true)); err != nil {
			return fmt.Errorf("setting PUBLIC's access to database %q: %w", a.Name, err)
		}
		return nil
	})
	return resp, err
}

// Delete drops the database. While other sessions are connected it refuses,
// unless forceDestroy: then it blocks new connections, ends the sessions
// with pg_terminate_backend and drops.
func (*Database) Delete(ctx context.Context, req infer.DeleteRequest[DatabaseState]) (infer.DeleteResponse, error) {
	cfg := infer.GetConfig[Config](ctx)
	name := req.ID
	err := cfg.withConn(ctx, "", func(conn *pgx.Conn) error {
		var exists bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return nil
		}
		var sessions int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()`, name).Scan(&sessions); err != nil {
			return err
		}
		if sessions > 0 && !req.State.ForceDestroy {
			return fmt.Errorf("database %q has %d other session(s) connected; disconnect them, or set forceDestroy: true to end them and drop the database", name, sessions)
		}
		if sessions > 0 {
			if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident(name)+" ALLOW_CONNECTIONS false"); err != nil {
				return fmt.Errorf("blocking new connections to database %q: %w", name, err)
			}
			if _, err := conn.Exec(ctx, `SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()`, name); err != nil {
				return fmt.Errorf("ending the sessions connected to database %q: %w", name, err)
			}
		}
		stmt := "DROP DATABASE IF EXISTS " + ident(name)
		if req.State.ForceDestroy {
			// Closes the window between terminating and dropping.
			stmt += " WITH (FORCE)"
		}
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("dropping database %q: %w", name, err)
		}
		return nil
	})
	return infer.DeleteResponse{}, err
}
