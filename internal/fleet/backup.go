package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/tenantstack/tenantstack/internal/backup"
	"github.com/tenantstack/tenantstack/internal/migrate"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/internal/version"
)

// BackupKey says how archives are encrypted and decrypted (backup.Key).
type BackupKey = backup.Key

func backupAdmin(p *Platform) backup.Admin {
	return backup.Admin{PostgresURL: p.PostgresAdminURL, RedisURL: p.RedisAdminURL, Kubeconfig: p.Kubeconfig, PlatformDatabase: p.Database}
}

// openStore opens the bucket at url; a URL that cannot be opened is bad
// input.
func openStore(ctx context.Context, url string) (*backup.Store, error) {
	st, err := backup.OpenStore(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return st, nil
}

// Backup writes one encrypted archive of the tenant to the bucket at to.
func (s *Service) Backup(ctx context.Context, name, to string, key BackupKey, progress io.Writer) (*backup.Result, error) {
	store, err := openStore(ctx, to)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	return s.backupTo(ctx, store, name, key, progress)
}

func (s *Service) backupTo(ctx context.Context, store *backup.Store, name string, key BackupKey, progress io.Writer) (*backup.Result, error) {
	_, cur, err := s.current(ctx, name)
	if err != nil {
		return nil, err
	}
	plat, err := s.platform(ctx)
	if err != nil {
		return nil, err
	}
	if cur.Moving != "" {
		return nil, fmt.Errorf("%w: tenant %q is moving between tiers; finish or abort the move (\"tenantctl move %s\") and back it up then", ErrInvalid, name, name)
	}
	versions, err := s.schemaVersions(ctx, plat)
	if err != nil {
		return nil, err
	}
	spec, err := json.Marshal(cur.Spec)
	if err != nil {
		return nil, err
	}
	res, err := backup.Backup(ctx, store, backup.Options{Admin: backupAdmin(plat), Tenant: name, Tier: tenantspec.Tier(cur.Spec.Tier),
		SchemaVersion: versions[name].Version, Spec: spec, Key: key, Tool: version.Version, Progress: progress})
	if errors.Is(err, backup.ErrKey) {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err != nil {
		return nil, fmt.Errorf("backing up tenant %q failed, no archive was written: %w", name, err)
	}
	return res, nil
}

// FleetBackupReport is what `backup --all` did.
type FleetBackupReport struct {
	Archives []*backup.Result  `json:"archives"`
	Failed   map[string]string `json:"failed,omitempty"`
}

// BackupAll backs up every tenant, parallel at a time.
func (s *Service) BackupAll(ctx context.Context, to string, key BackupKey, parallel int, progress io.Writer) (*FleetBackupReport, error) {
	if parallel < 1 {
		return nil, fmt.Errorf("%w: --parallel must be at least 1", ErrInvalid)
	}
	store, err := openStore(ctx, to)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	tenants, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	rep := &FleetBackupReport{Archives: []*backup.Result{}, Failed: map[string]string{}}
	var mu sync.Mutex
	var jobs []func()
	for _, t := range tenants {
		if t.Status == StatusIncomplete {
			continue
		}
		jobs = append(jobs, func() {
			r, err := s.backupTo(ctx, store, t.Name, key, progress)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				rep.Failed[t.Name] = err.Error()
				return
			}
			rep.Archives = append(rep.Archives, r)
		})
	}
	run(jobs, parallel)
	sort.Slice(rep.Archives, func(i, j int) bool { return rep.Archives[i].Tenant < rep.Archives[j].Tenant })
	if len(rep.Failed) > 0 {
		return rep, fmt.Errorf("%d of %d tenants were not backed up; run the backup again", len(rep.Failed), len(jobs))
	}
	rep.Failed = nil
	return rep, nil
}

// Backups lists the tenant's archives in the bucket at in, oldest first.
func (s *Service) Backups(ctx context.Context, name, in string) ([]backup.Entry, error) {
	if err := validateName(name); err != nil {
		return nil, err
	}
	store, err := openStore(ctx, in)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	list, err := store.List(ctx, name)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []backup.Entry{}
	}
	return list, nil
}

// RestoreOptions say what `tenantctl restore` does.
type RestoreOptions struct {
	// Name is the tenant the archive is of.
	Name string
	// From is the bucket URL; Archive the key in it (default: Name's
	// newest archive).
	From    string
	Archive string
	// As restores into another tenant, created when it does not exist.
	As string
	// Tier is the tier of a tenant the restore creates (default: the
	// archive's).
	Tier tenantspec.Tier
	Key  BackupKey
}

// RestoreReport is what a restore did.
type RestoreReport struct {
	*backup.RestoreResult
	// Created is set when the restore created the tenant.
	Created bool `json:"created"`
}

// Restore replaces the data of a tenant with an archive: Name's own, or
// those of As. A tenant that does not exist (As, or Name after a purge) is
// created first, on Tier or the archive's tier, with the archive's spec.
// The archive is checked whole before anything is created or changed.
func (s *Service) Restore(ctx context.Context, o RestoreOptions, progress io.Writer) (*RestoreReport, error) {
	if err := validateName(o.Name); err != nil {
		return nil, err
	}
	into := o.Name
	if o.As != "" {
		if err := validateName(o.As); err != nil {
			return nil, err
		}
		into = o.As
	}
	plat, err := s.platform(ctx)
	if err != nil {
		return nil, err
	}
	store, err := openStore(ctx, o.From)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	key := o.Archive
	if key == "" {
		if key, err = store.Latest(ctx, o.Name); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
		}
	}
	a, err := backup.Inspect(ctx, store, key, o.Key)
	if err != nil {
		return nil, restoreError(err)
	}
	if a.Manifest.Tenant != o.Name {
		_, err := backup.RestoreOptions{From: o.Name}.Check(a)
		return nil, restoreError(err)
	}
	fmt.Fprintf(progress, "%s: archive %s checked\n", into, key)

	rep := &RestoreReport{}
	t, err := s.Get(ctx, into)
	switch {
	case errors.Is(err, ErrNotFound):
		// A new tenant starts at the fleet's version: refuse a newer
		// archive before creating anything.
		conn, err := platformConn(ctx, plat)
		if err != nil {
			return nil, err
		}
		fv, err := migrate.FleetVersion(ctx, conn)
		conn.Close(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		if _, err := (backup.RestoreOptions{From: o.Name, Into: into, IntoVersion: fv, Migrations: plat.Migrations}).Check(a); err != nil {
			return nil, restoreError(err)
		}
		spec := Spec{}
		if len(a.Manifest.Spec) > 0 {
			if err := json.Unmarshal(a.Manifest.Spec, &spec); err != nil {
				return nil, fmt.Errorf("%w: the archive's spec: %v", ErrInvalid, err)
			}
		}
		spec.Name, spec.Tier = into, a.Manifest.Tier
		if o.Tier != "" {
			spec.Tier = string(o.Tier)
		}
		fmt.Fprintf(progress, "%s: creating the tenant on the %s tier to restore into\n", into, spec.Tier)
		if t, err = s.Create(ctx, spec, progress); err != nil {
			return nil, err
		}
		rep.Created = true
	case err != nil:
		return nil, err
	case t.Status == StatusIncomplete:
		return nil, fmt.Errorf("%w: the creation of tenant %q did not finish; complete it with \"tenantctl create %s\" first", ErrInvalid, into, into)
	case o.Tier != "" && string(o.Tier) != t.Tier:
		return nil, fmt.Errorf("%w: tenant %q exists on the %s tier; --tier only chooses the tier of a tenant the restore creates (move it with \"tenantctl move %s --tier %s\")",
			ErrInvalid, into, t.Tier, into, o.Tier)
	case t.Moving != "":
		return nil, fmt.Errorf("%w: tenant %q is moving between tiers; finish or abort the move first", ErrInvalid, into)
	}
	versions, err := s.schemaVersions(ctx, plat)
	if err != nil {
		return nil, err
	}
	res, err := backup.Restore(ctx, store, key, backup.RestoreOptions{Admin: backupAdmin(plat), Key: o.Key, From: o.Name, Into: into,
		IntoTier: tenantspec.Tier(t.Tier), IntoVersion: versions[into].Version, Migrations: plat.Migrations, Progress: progress})
	if err != nil {
		if rep.Created {
			return nil, fmt.Errorf("tenant %q was created for the restore, but the restore failed (its data are as new): %w", into, restoreError(err))
		}
		return nil, restoreError(err)
	}
	rep.RestoreResult = res
	return rep, nil
}

// restoreError marks a refused archive or key as bad input: nothing changed.
func restoreError(err error) error {
	if errors.Is(err, backup.ErrArchive) || errors.Is(err, backup.ErrKey) {
		return fmt.Errorf("%w: %w; nothing was changed", ErrInvalid, err)
	}
	if errors.Is(err, backup.ErrNoArchive) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}
