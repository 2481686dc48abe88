package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/tenantstack/tenantstack/internal/migrate"
	"github.com/tenantstack/tenantstack/internal/migrate/source"
)

// Migrator returns the migration engine of the platform, over the
// directory the platform stack names (config tenantstack:migrations).
func (s *Service) Migrator(ctx context.Context) (*migrate.Engine, error) {
	plat, err := s.platform(ctx)
	if err != nil {
		return nil, err
	}
	if plat.Migrations == "" {
		return nil, fmt.Errorf("%w: the platform stack %q names no migrations directory; set it with \"tenantctl platform up --migrations DIR\" (config tenantstack:migrations)",
			ErrInvalid, s.Platform)
	}
	return s.engine(plat)
}

func (s *Service) engine(plat *Platform) (*migrate.Engine, error) {
	set, err := source.Load(plat.Migrations)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return &migrate.Engine{AdminURL: plat.PostgresAdminURL, PlatformDB: plat.Database, Set: set}, nil
}

// bringToFleet brings a tenant's own tables to the fleet's version, when
// the platform has an application schema. A tenant is not ready before.
func (s *Service) bringToFleet(ctx context.Context, name string, progress io.Writer) error {
	plat, err := s.platform(ctx)
	if err != nil || plat.Migrations == "" {
		return err
	}
	e, err := s.engine(plat)
	if err != nil {
		return err
	}
	r, err := e.Bring(ctx, name)
	if err != nil {
		var f *migrate.Failure
		if errors.As(err, &f) {
			return fmt.Errorf("tenant %q is created but not ready: its schema migration failed and it stays at version %d:\n  %w\nfix the migration or the tenant's data, then run \"tenantctl create %s\" again to complete it",
				name, r.From, err, name)
		}
		return fmt.Errorf("tenant %q is created but not ready: bringing its tables to the fleet's version: %w; run \"tenantctl create %s\" again to complete it", name, err, name)
	}
	if len(r.Applied) > 0 && progress != nil {
		fmt.Fprintf(progress, "%s: schema at version %d (%d migrations applied in %.1fs)\n", name, r.To, len(r.Applied), r.Seconds)
	}
	return nil
}

// schemaVersions reads every tenant's schema version; an empty map when the
// platform has no application schema or never ran a migration.
func (s *Service) schemaVersions(ctx context.Context, plat *Platform) (map[string]migrate.TenantVersion, error) {
	conn, err := platformConn(ctx, plat)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return migrate.Versions(ctx, conn)
}
