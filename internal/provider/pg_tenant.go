package provider

import (
	"github.com/tenantstack/tenantstack/internal/tenantspec"

	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pulumi/pulumi-go-provider/infer"
)

// TenantRegistration manages a tenant's row in the registry tenantstack.tenants,
// which app.current_tenant() maps login roles through
// (tenantstack:postgres:TenantRegistration). Its id is "DATABASE/TENANTID".
type TenantRegistration struct{}

// TenantRegistrationArgs are the inputs of a TenantRegistration.
type TenantRegistrationArgs struct {
	TenantID string `pulumi:"tenantId"`
	RoleName string `pulumi:"roleName"`
	Tier     string `pulumi:"tier"`
	Database string `pulumi:"database,optional"`
}

// TenantRegistrationState is the recorded state of a TenantRegistration.
type TenantRegistrationState struct {
	TenantRegistrationArgs
}

// Annotate sets the token and documents the resource.
func (*TenantRegistration) Annotate(a infer.Annotator) {
	a.SetToken("postgres", "TenantRegistration")
	a.Describe(&TenantRegistration{}, "A tenant's row in the registry tenantstack.tenants (installed by the shared-tier contract Migration). "+
		"The role and tier change in place; the tenant id or database replace the row.")
}

// Annotate documents the inputs.
func (t *TenantRegistrationArgs) Annotate(a infer.Annotator) {
	a.Describe(&t.TenantID, "Tenant id: a DNS label (lowercase letters, digits, '-').")
	a.Describe(&t.RoleName, "The tenant's login role; app.current_tenant() returns tenantId for sessions of this role.")
	a.Describe(&t.Tier, "Isolation tier: shared, schema or database.")
	a.Describe(&t.Database, "Database holding tenantstack.tenants; the database of the provider's postgresUrl when empty.")
}

// Check validates the inputs without contacting the server.
func (*TenantRegistration) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[TenantRegistrationArgs], error) {
	args, fails, err := infer.DefaultCheck[TenantRegistrationArgs](ctx, req.NewInputs)
	if err != nil || len(fails) > 0 {
		return infer.CheckResponse[TenantRegistrationArgs]{Inputs: args, Failures: fails}, err
	}
	f := newFailures(req.NewInputs)
	f.add("tenantId", checkTenantID(args.TenantID))
	f.add("roleName", checkRoleName("roleName", args.RoleName))
	if want := tenantspec.RoleName(args.TenantID); f.known("roleName") && args.RoleName != want {
		f.add("roleName", fmt.Sprintf("roleName %q is not tenant %q's login role; use %q: app.current_tenant() derives the tenant from the login role's name", args.RoleName, args.TenantID, want))
	}
	if _, err := tenantspec.ParseTier(args.Tier); err != nil {
		f.add("tier", err.Error())
	}
	if args.Database != "" {
		f.add("database", checkIdentifier("database", args.Database))
	}
	return infer.CheckResponse[TenantRegistrationArgs]{Inputs: args, Failures: f.list}, nil
}

// Diff updates the role and tier in place; a new tenant id or database is a
// new row, replaced delete-first because the role name is unique.
func (*TenantRegistration) Diff(ctx context.Context, req infer.DiffRequest[TenantRegistrationArgs, TenantRegistrationState]) (infer.DiffResponse, error) {
	return diffTenantRegistration(req.State.TenantRegistrationArgs, req.Inputs, infer.GetConfig[Config](ctx).defaultDatabase()), nil
}

func diffTenantRegistration(old, new TenantRegistrationArgs, defaultDB string) infer.DiffResponse {
	c := newChanges()
	c.deleteFirst = true
	c.replace("tenantId", old.TenantID != new.TenantID)
	c.replace("database", orDefault(old.Database, defaultDB) != orDefault(new.Database, defaultDB))
	c.update("roleName", old.RoleName != new.RoleName)
	c.update("tier", old.Tier != new.Tier)
	return c.response()
}

// errNoRegistry explains a missing tenantstack.tenants.
func errNoRegistry(db string) error {
	return fmt.Errorf("tenantstack.tenants does not exist in database %q: install the shared-tier contract first "+
		"(a tenantstack:postgres:Migration with steps postgres.ContractSteps()) and make this resource depend on it", db)
}

// Create inserts the row, after checking the role exists.
func (*TenantRegistration) Create(ctx context.Context, req infer.CreateRequest[TenantRegistrationArgs]) (infer.CreateResponse[TenantRegistrationState], error) {
	a := req.Inputs
	cfg := infer.GetConfig[Config](ctx)
	db := cfg.database(a.Database)
	resp := infer.CreateResponse[TenantRegistrationState]{ID: db + "/" + a.TenantID, Output: TenantRegistrationState{a}}
	if req.DryRun {
		return resp, nil
	}
	err := cfg.withTx(ctx, db, func(tx pgx.Tx) error {
		if err := checkRegistryAndRole(ctx, tx, db, a.RoleName); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO tenantstack.tenants (tenant_id, role_name, tier) VALUES ($1, $2, $3)`, a.TenantID, a.RoleName, a.Tier)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			if pgErr.ConstraintName == "tenants_pkey" {
				return fmt.Errorf("tenant %q is already registered in database %q; adopt the row with \"pulumi import tenantstack:postgres:TenantRegistration <resource-name> %s/%s\"", a.TenantID, db, db, a.TenantID)
			}
			return fmt.Errorf("role %q is already registered to another tenant; each tenant needs its own login role", a.RoleName)
		}
		return err
	})
	return resp, err
}

func checkRegistryAndRole(ctx context.Context, tx pgx.Tx, db, role string) error {
	var registry, roleExists bool
	err := tx.QueryRow(ctx, `SELECT to_regclass('tenantstack.tenants') IS NOT NULL, EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1)`, role).
		Scan(&registry, &roleExists)
	if err != nil {
		return err
	}
	if !registry {
		return errNoRegistry(db)
	}
	if !roleExists {
		return fmt.Errorf("role %q does not exist; create the tenant's Role first (and make the registration depend on it)", role)
	}
	return nil
}

// Read reports the row as it is; a deleted row (or registry) is gone.
func (*TenantRegistration) Read(ctx context.Context, req infer.ReadRequest[TenantRegistrationArgs, TenantRegistrationState]) (infer.ReadResponse[TenantRegistrationArgs, TenantRegistrationState], error) {
	cfg := infer.GetConfig[Config](ctx)
	parts, err := splitID(req.ID, 2, "DATABASE/TENANTID")
	if err != nil {
		return infer.ReadResponse[TenantRegistrationArgs, TenantRegistrationState]{}, err
	}
	db, tenant := parts[0], parts[1]
	st := req.State
	if st.TenantID == "" && db != cfg.defaultDatabase() {
		st.Database = db
	}
	var found bool
	err = cfg.withConn(ctx, db, func(conn *pgx.Conn) error {
		err := conn.QueryRow(ctx, `SELECT role_name, tier FROM tenantstack.tenants WHERE tenant_id = $1`, tenant).Scan(&st.RoleName, &st.Tier)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if isGone(err) || (err == nil && !found) {
		return infer.ReadResponse[TenantRegistrationArgs, TenantRegistrationState]{}, nil
	}
	if err != nil {
		return infer.ReadResponse[TenantRegistrationArgs, TenantRegistrationState]{}, err
	}
	st.TenantID = tenant
	return infer.ReadResponse[TenantRegistrationArgs, TenantRegistrationState]{ID: req.ID, Inputs: st.TenantRegistrationArgs, State: st}, nil
}

// Update changes the role and tier of the row.
func (*TenantRegistration) Update(ctx context.Context, req infer.UpdateRequest[TenantRegistrationArgs, TenantRegistrationState]) (infer.UpdateResponse[TenantRegistrationState], error) {
	a := req.Inputs
	resp := infer.UpdateResponse[TenantRegistrationState]{Output: TenantRegistrationState{a}}
	if req.DryRun {
		return resp, nil
	}
	cfg := infer.GetConfig[Config](ctx)
	db := cfg.database(a.Database)
	err := cfg.withTx(ctx, db, func(tx pgx.Tx) error {
		if err := checkRegistryAndRole(ctx, tx, db, a.RoleName); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE tenantstack.tenants SET role_name = $2, tier = $3 WHERE tenant_id = $1`, a.TenantID, a.RoleName, a.Tier)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("tenant %q is no longer registered in database %q (deleted by hand?); run \"pulumi refresh\" and then \"pulumi up\" to register it again", a.TenantID, db)
		}
		return nil
	})
	return resp, err
}

// Delete removes the row; a row or registry already gone is fine.
func (*TenantRegistration) Delete(ctx context.Context, req infer.DeleteRequest[TenantRegistrationState]) (infer.DeleteResponse, error) {
	cfg := infer.GetConfig[Config](ctx)
	parts, err := splitID(req.ID, 2, "DATABASE/TENANTID")
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	err = cfg.withConn(ctx, parts[0], func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `DELETE FROM tenantstack.tenants WHERE tenant_id = $1`, parts[1])
		return err
	})
	if isGone(err) {
		err = nil
	}
	return infer.DeleteResponse{}, err
}
