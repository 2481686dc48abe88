package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pulumi/pulumi-go-provider/infer"
)

// Migration applies an ordered set of SQL steps to one database, each at
// most once (tenantstack:postgres:Migration). Its id is "DATABASE/NAME".
//
// Applied versions are recorded in public.tenantstack_migrations with the
// SHA-256 of their SQL. A step whose SQL changed after it was applied is an
// error: migrations move forward by adding steps.
//
// Delete removes the records of the set and nothing else. SQL migrations
// have no reliable inverse, and undoing them would drop the data that was
// created on top (tenant rows in the shared tables). The objects stay; a new
// Migration of the same set applies its steps again, so steps are written to
// be idempotent (IF NOT EXISTS, CREATE OR REPLACE) as ContractSteps are.
type Migration struct{}

// MigrationStep is one versioned SQL script.
type MigrationStep struct {
	Version int    `pulumi:"version"`
	SQL     string `pulumi:"sql"`
}

// MigrationArgs are the inputs of a Migration.
type MigrationArgs struct {
	Name     string          `pulumi:"name"`
	Database string          `pulumi:"database,optional"`
	Steps    []MigrationStep `pulumi:"steps"`
}

// MigrationState is the recorded state: the inputs and the versions the
// database records as applied.
type MigrationState struct {
	MigrationArgs
	AppliedVersions []int `pulumi:"appliedVersions,optional"`
}

// migrationsTable records applied steps in every database that has any.
const migrationsTable = "public.tenantstack_migrations"

// Annotate sets the token and documents the resource.
func (*Migration) Annotate(a infer.Annotator) {
	a.SetToken("postgres", "Migration")
	a.Describe(&Migration{}, "Versioned SQL steps applied once each, in order, each in its own transaction, recorded in "+
		migrationsTable+". Deleting it removes only the records: SQL has no reliable inverse and undoing it would drop data.")
}

// Annotate documents the step fields.
func (s *MigrationStep) Annotate(a infer.Annotator) {
	a.Describe(&s.Version, "Version; versions are unique and ascending through the list.")
	a.Describe(&s.SQL, "SQL run in one transaction; it must not change once applied.")
}

// Annotate documents the inputs.
func (m *MigrationArgs) Annotate(a infer.Annotator) {
	a.Describe(&m.Name, "Migration set id. Changing it replaces the migration.")
	a.Describe(&m.Database, "Database; the database of the provider's postgresUrl when empty.")
	a.Describe(&m.Steps, "Ordered steps.")
}

// Annotate documents the outputs.
func (m *MigrationState) Annotate(a infer.Annotator) {
	a.Describe(&m.AppliedVersions, "Versions of this set recorded as applied, as last read.")
}

func checksum(sql string) string {
	sum := sha256.Sum256([]byte(sql))
	return hex.EncodeToString(sum[:])
}

// Check validates the inputs without contacting the server.
func (*Migration) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[MigrationArgs], error) {
	args, fails, err := infer.DefaultCheck[MigrationArgs](ctx, req.NewInputs)
	if err != nil || len(fails) > 0 {
		return infer.CheckResponse[MigrationArgs]{Inputs: args, Failures: fails}, err
	}
	f := newFailures(req.NewInputs)
	f.add("name", checkIdentifier("name", args.Name))
	if args.Database != "" {
		f.add("database", checkIdentifier("database", args.Database))
	}
	if f.known("steps") {
		if len(args.Steps) == 0 {
			f.add("steps", "steps must hold at least one step")
		}
		for i, s := range args.Steps {
			if s.Version <= 0 {
				f.add("steps", fmt.Sprintf("steps[%d].version must be a positive integer, got %d", i, s.Version))
			}
			if i > 0 && s.Version <= args.Steps[i-1].Version {
				f.add("steps", fmt.Sprintf("steps[%d].version %d does not follow %d: versions must be unique and ascending", i, s.Version, args.Steps[i-1].Version))
			}
			if strings.TrimSpace(s.SQL) == "" {
				f.add("steps", fmt.Sprintf("steps[%d] (version %d) has no SQL", i, s.Version))
			}
		}
	}
	return infer.CheckResponse[MigrationArgs]{Inputs: args, Failures: f.list}, nil
}

// Diff replaces for another set or database, updates for new steps or
// versions missing from the record, and refuses a changed applied step.
func (*Migration) Diff(ctx context.Context, req infer.DiffRequest[MigrationArgs, MigrationState]) (infer.DiffResponse, error) {
	return diffMigration(req.State, req.Inputs, infer.GetConfig[Config](ctx).defaultDatabase())
}

func diffMigration(old MigrationState, new MigrationArgs, defaultDB string) (infer.DiffResponse, error) {
	c := newChanges()
	c.replace("name", old.Name != new.Name)
	c.replace("database", orDefault(old.Database, defaultDB) != orDefault(new.Database, defaultDB))
	if old.Name == new.Name {
		for _, s := range new.Steps {
			i := slices.IndexFunc(old.Steps, func(o MigrationStep) bool { return o.Version == s.Version })
			if i >= 0 && old.Steps[i].SQL != s.SQL && slices.Contains(old.AppliedVersions, s.Version) {
				return infer.DiffResponse{}, fmt.Errorf("migration %q: step version %d was already applied and its SQL changed; "+
					"applied steps are immutable: restore its SQL and add a new step with a higher version", new.Name, s.Version)
			}
		}
	}
	c.update("steps", !slices.Equal(old.Steps, new.Steps))
	pending := slices.ContainsFunc(new.Steps, func(s MigrationStep) bool { return !slices.Contains(old.AppliedVersions, s.Version) })
	c.drift("appliedVersions", pending && slices.Equal(old.Steps, new.Steps))
	return c.response(), nil
}

// applySteps applies the steps not yet recorded, each in its own
// transaction, and returns the versions of the set recorded as applied.
func applySteps(ctx context.Context, cfg Config, db string, a MigrationArgs) (applied []int, ran int, err error) {
	err = cfg.withConn(ctx, db, func(conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+migrationsTable+` (
			set_name   text        NOT NULL,
			version    integer     NOT NULL,
			checksum   text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now(),
			PRIMARY KEY (set_name, version))`); err != nil {
			return fmt.Errorf("creating %s: %w", migrationsTable, err)
		}
		if _, err := conn.Exec(ctx, `REVOKE ALL ON `+migrationsTable+` FROM PUBLIC`); err != nil {
			return err
		}
		for _, s := range a.Steps {
			sum := checksum(s.SQL)
			err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				// Serialises concurrent runs of the same set.
				if _, err := tx.Exec(ctx, `SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('tenantstack_migrations'), pg_catalog.hashtext($1))`, a.Name); err != nil {
					return err
				}
				var recorded string
				err := tx.QueryRow(ctx, `SELECT checksum FROM `+migrationsTable+` WHERE set_name = $1 AND version = $2`, a.Name, s.Version).Scan(&recorded)
				switch {
				case err == nil && recorded == sum:
					return nil
				case err == nil:
					return fmt.Errorf("step version %d of migration %q was applied with different SQL (checksum %.12s, now %.12s); "+
						"applied steps are immutable: restore its SQL and add a new step with a higher version", s.Version, a.Name, recorded, sum)
				case !errors.Is(err, pgx.ErrNoRows):
					return err
				}
				if _, err := tx.Exec(ctx, s.SQL); err != nil {
					return fmt.Errorf("step version %d of migration %q failed, nothing of it was applied: %w", s.Version, a.Name, err)
				}
				_, err = tx.Exec(ctx, `INSERT INTO `+migrationsTable+` (set_name, version, checksum) VALUES ($1, $2, $3)`, a.Name, s.Version, sum)
				if err == nil {
					ran++
				}
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	// Whatever happened, report what is recorded now.
	if rerr := cfg.withConn(ctx, db, func(conn *pgx.Conn) error {
		var rerr error
		applied, rerr = appliedVersions(ctx, conn, a.Name)
		return rerr
	}); err == nil {
		err = rerr
	}
	return applied, ran, err
}

func appliedVersions(ctx context.Context, conn *pgx.Conn, set string) ([]int, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, migrationsTable).Scan(&exists); err != nil || !exists {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT version FROM `+migrationsTable+` WHERE set_name = $1 ORDER BY version`, set)
	if err != nil {
		return nil, err
	}
	v, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out, nil
}

// run applies the steps; when this run applied some before one failed, the
// resource is recorded with what was applied, so the next run continues.
func (*Migration) run(ctx context.Context, a MigrationArgs) (MigrationState, error) {
	cfg := infer.GetConfig[Config](ctx)
	applied, ran, err := applySteps(ctx, cfg, cfg.database(a.Database), a)
	st := MigrationState{MigrationArgs: a, AppliedVersions: applied}
	if err != nil && ran > 0 {
		return st, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return st, err
}

// Create applies every step.
func (m *Migration) Create(ctx context.Context, req infer.CreateRequest[MigrationArgs]) (infer.CreateResponse[MigrationState], error) {
	a := req.Inputs
	cfg := infer.GetConfig[Config](ctx)
	resp := infer.CreateResponse[MigrationState]{ID: cfg.database(a.Database) + "/" + a.Name}
	if req.DryRun {
		resp.Output = MigrationState{MigrationArgs: a}
		return resp, nil
	}
	var err error
	resp.Output, err = m.run(ctx, a)
	return resp, err
}

// Update applies the steps not applied yet.
func (m *Migration) Update(ctx context.Context, req infer.UpdateRequest[MigrationArgs, MigrationState]) (infer.UpdateResponse[MigrationState], error) {
	if req.DryRun {
		return infer.UpdateResponse[MigrationState]{Output: MigrationState{MigrationArgs: req.Inputs, AppliedVersions: req.State.AppliedVersions}}, nil
	}
	st, err := m.run(ctx, req.Inputs)
	return infer.UpdateResponse[MigrationState]{Output: st}, err
}

// Read reports the versions recorded as applied; the steps' SQL cannot be
// read back, so an import records none and the next update adopts them by
// checksum.
func (*Migration) Read(ctx context.Context, req infer.ReadRequest[MigrationArgs, MigrationState]) (infer.ReadResponse[MigrationArgs, MigrationState], error) {
	cfg := infer.GetConfig[Config](ctx)
	parts, err := splitID(req.ID, 2, "DATABASE/NAME")
	if err != nil {
		return infer.ReadResponse[MigrationArgs, MigrationState]{}, err
	}
	st := req.State
	imported := st.Name == ""
	if imported {
		st.Name = parts[1]
		if parts[0] != cfg.defaultDatabase() {
			st.Database = parts[0]
		}
	}
	err = cfg.withConn(ctx, parts[0], func(conn *pgx.Conn) error {
		applied, err := appliedVersions(ctx, conn, parts[1])
		if err != nil {
			return err
		}
		if !sameInts(applied, st.AppliedVersions) {
			st.AppliedVersions = applied
		}
		return nil
	})
	if isGone(err) {
		return infer.ReadResponse[MigrationArgs, MigrationState]{}, nil
	}
	if err != nil {
		return infer.ReadResponse[MigrationArgs, MigrationState]{}, err
	}
	if imported && len(st.AppliedVersions) == 0 {
		return infer.ReadResponse[MigrationArgs, MigrationState]{}, nil
	}
	return infer.ReadResponse[MigrationArgs, MigrationState]{ID: req.ID, Inputs: st.MigrationArgs, State: st}, nil
}

func sameInts(a, b []int) bool {
	return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b))
}

// Delete forgets the set's records and keeps the objects (see Migration).
func (*Migration) Delete(ctx context.Context, req infer.DeleteRequest[MigrationState]) (infer.DeleteResponse, error) {
	cfg := infer.GetConfig[Config](ctx)
	parts, err := splitID(req.ID, 2, "DATABASE/NAME")
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	err = cfg.withConn(ctx, parts[0], func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `DELETE FROM `+migrationsTable+` WHERE set_name = $1`, parts[1])
		return err
	})
	if isGone(err) {
		err = nil
	}
	return infer.DeleteResponse{}, err
}
