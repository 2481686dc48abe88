package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantstack/tenantstack/internal/audit"
	"github.com/tenantstack/tenantstack/internal/backup"
)

// retentionDDL records the tenants deleted with a retention period, in the
// platform database: where their archive is and when they are purged.
const retentionDDL = `
CREATE SCHEMA IF NOT EXISTS tenantstack;
REVOKE ALL ON SCHEMA tenantstack FROM PUBLIC;
CREATE TABLE IF NOT EXISTS tenantstack.retention (
	tenant_id   text        PRIMARY KEY,
	tier        text        NOT NULL,
	archive_url text        NOT NULL,
	archive_key text        NOT NULL,
	deleted_at  timestamptz NOT NULL DEFAULT now(),
	purge_after timestamptz NOT NULL
);
REVOKE ALL ON TABLE tenantstack.retention FROM PUBLIC;
`

// purgeLock keys the session lock one purge holds ("tspg"): a second purge
// started by cron while one runs does nothing.
const purgeLock = 0x74737067

// Retention is a tenant deleted with a retention period.
type Retention struct {
	Tenant     string    `json:"tenant"`
	Tier       string    `json:"tier"`
	ArchiveURL string    `json:"archiveUrl"`
	ArchiveKey string    `json:"archiveKey"`
	DeletedAt  time.Time `json:"deletedAt"`
	PurgeAfter time.Time `json:"purgeAfter"`
}

func ensureRetention(ctx context.Context, conn *pgx.Conn) error {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('tenantstack.retention') IS NOT NULL`).Scan(&exists); err != nil || exists {
		return err
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('tenantstack.retention'))`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, retentionDDL)
		return err
	})
}

func readRetention(ctx context.Context, conn *pgx.Conn, where string, args ...any) ([]Retention, error) {
	if err := ensureRetention(ctx, conn); err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT tenant_id, tier, archive_url, archive_key, deleted_at, purge_after FROM tenantstack.retention WHERE `+where+` ORDER BY purge_after, tenant_id`, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Retention, error) {
		var x Retention
		err := r.Scan(&x.Tenant, &x.Tier, &x.ArchiveURL, &x.ArchiveKey, &x.DeletedAt, &x.PurgeAfter)
		x.DeletedAt, x.PurgeAfter = x.DeletedAt.UTC(), x.PurgeAfter.UTC()
		return x, err
	})
}

// RetainReport is what `delete --retain` did.
type RetainReport struct {
	Retention
	Archive *backup.Result `json:"archive,omitempty"`
	// Already is set when the tenant was already deleted with retention.
	Already bool `json:"already"`
}

// DeleteRetained offboards a tenant with a retention period: it suspends
// it, writes an archive to the bucket at to, and records when it is due
// for purge. Its data stay until then; resume brings it back.
func (s *Service) DeleteRetained(ctx context.Context, name, to string, key BackupKey, retain time.Duration, progress io.Writer) (*RetainReport, error) {
	if retain <= 0 {
		return nil, fmt.Errorf("%w: the retention must be positive", ErrInvalid)
	}
	plat, err := s.platform(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := platformConn(ctx, plat)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if have, err := readRetention(ctx, conn, `tenant_id = $1`, name); err != nil {
		return nil, err
	} else if len(have) > 0 {
		return &RetainReport{Retention: have[0], Already: true}, nil
	}
	if _, _, err := s.current(ctx, name); err != nil {
		return nil, err
	}
	store, err := openStore(ctx, to)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	// Suspended first, so that the archive holds its last writes.
	t, err := s.Suspend(ctx, name, progress)
	if err != nil {
		return nil, err
	}
	res, err := s.backupTo(ctx, store, name, key, progress)
	if err != nil {
		return nil, fmt.Errorf("tenant %q is suspended but its archive could not be written, so it is not deleted; fix the cause and run the delete again, or \"tenantctl resume %s\": %w", name, name, err)
	}
	r := Retention{Tenant: name, Tier: t.Tier, ArchiveURL: store.URL, ArchiveKey: res.Key}
	if err := conn.QueryRow(ctx, `INSERT INTO tenantstack.retention (tenant_id, tier, archive_url, archive_key, purge_after)
		VALUES ($1, $2, $3, $4, now() + $5::interval) RETURNING deleted_at, purge_after`,
		name, r.Tier, r.ArchiveURL, r.ArchiveKey, fmt.Sprintf("%d milliseconds", retain.Milliseconds())).Scan(&r.DeletedAt, &r.PurgeAfter); err != nil {
		return nil, fmt.Errorf("tenant %q is suspended and archived to %s, but its purge date was not recorded; run the delete again: %w", name, res.Key, err)
	}
	r.DeletedAt, r.PurgeAfter = r.DeletedAt.UTC(), r.PurgeAfter.UTC()
	return &RetainReport{Retention: r, Archive: res}, nil
}

// cancelRetention forgets a pending purge of the tenant (resume, delete).
func (s *Service) cancelRetention(ctx context.Context, name string) (bool, error) {
	plat, err := s.platform(ctx)
	if err != nil {
		return false, err
	}
	conn, err := platformConn(ctx, plat)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := ensureRetention(ctx, conn); err != nil {
		return false, err
	}
	tag, err := conn.Exec(ctx, `DELETE FROM tenantstack.retention WHERE tenant_id = $1`, name)
	return tag.RowsAffected() > 0, err
}

// Check is one check of the deletion evidence that something is gone.
type Check struct {
	What string `json:"what"`
	Gone bool   `json:"gone"`
	// Found says what is left, when it is not gone.
	Found string `json:"found,omitempty"`
}

// Evidence is the deletion evidence of a purge: what was removed and the
// checks that nothing of the tenant is left. Its SHA-256 (over the JSON
// kept in the audit log) is recorded beside it.
type Evidence struct {
	Tenant     string    `json:"tenant"`
	Tier       string    `json:"tier"`
	DeletedAt  time.Time `json:"deletedAt"`
	PurgeAfter time.Time `json:"purgeAfter"`
	PurgedAt   time.Time `json:"purgedAt"`
	Removed    []string  `json:"removed"`
	Checks     []Check   `json:"checks"`
	// Archive is the encrypted archive written at the delete, which the
	// purge keeps (the bucket's own lifecycle rules expire it).
	Archive string `json:"archive"`
}

// PurgeReport is one tenant purged.
type PurgeReport struct {
	Tenant string `json:"tenant"`
	// Evidence is the report as JSON text, byte for byte as recorded.
	Evidence string `json:"evidence"`
	SHA256   string `json:"sha256"`
}

// PurgeResult is what one purge did.
type PurgeResult struct {
	Purged []PurgeReport `json:"purged"`
	// Pending are the tenants whose retention has not ended.
	Pending []Retention       `json:"pending"`
	Failed  map[string]string `json:"failed,omitempty"`
	// Busy is set when another purge was running, so this one did nothing.
	Busy bool `json:"busy,omitempty"`
}

// Purge removes every tenant whose retention has ended, checks that nothing
// of it is left and appends the deletion evidence to the audit log. It is
// safe to run from cron: a purge while another runs does nothing, and a
// purge interrupted is completed by the next.
func (s *Service) Purge(ctx context.Context, progress io.Writer) (*PurgeResult, error) {
	plat, err := s.platform(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := platformConn(ctx, plat)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	res := &PurgeResult{Purged: []PurgeReport{}, Pending: []Retention{}, Failed: map[string]string{}}
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_catalog.pg_try_advisory_lock($1, 0)`, purgeLock).Scan(&locked); err != nil {
		return nil, err
	}
	if !locked {
		res.Busy = true
		return res, nil
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_catalog.pg_advisory_unlock($1, 0)`, purgeLock) //nolint:errcheck
	due, err := readRetention(ctx, conn, `purge_after <= now()`)
	if err != nil {
		return nil, err
	}
	if res.Pending, err = readRetention(ctx, conn, `purge_after > now()`); err != nil {
		return nil, err
	}
	for _, r := range due {
		fmt.Fprintf(progress, "%s: retention ended %s; purging\n", r.Tenant, r.PurgeAfter.Format(time.RFC3339))
		rep, err := s.purgeOne(ctx, conn, plat, r, progress)
		if err != nil {
			res.Failed[r.Tenant] = err.Error()
			continue
		}
		res.Purged = append(res.Purged, *rep)
	}
	if len(res.Failed) > 0 {
		return res, fmt.Errorf("%d of %d due tenants were not purged; run the purge again", len(res.Failed), len(due))
	}
	res.Failed = nil
	return res, nil
}

func (s *Service) purgeOne(ctx context.Context, conn *pgx.Conn, plat *Platform, r Retention, progress io.Writer) (*PurgeReport, error) {
	ev := Evidence{Tenant: r.Tenant, Tier: r.Tier, DeletedAt: r.DeletedAt, PurgeAfter: r.PurgeAfter, Removed: []string{}, Archive: r.ArchiveURL + " " + r.ArchiveKey}
	start := time.Now()
	dr, err := s.Delete(ctx, r.Tenant, "", progress)
	switch {
	case errors.Is(err, ErrNotFound):
		// The stack went in an interrupted purge; the checks below say
		// whether anything else is left.
	case err != nil:
		return nil, err
	default:
		ev.Removed = append(ev.Removed, dr.Removed...)
	}
	checks, err := goneChecks(ctx, plat, r.Tenant)
	if err != nil {
		return nil, fmt.Errorf("checking that nothing of tenant %q is left: %w", r.Tenant, err)
	}
	stackGone := Check{What: "stack " + s.stackName(r.Tenant), Gone: true}
	if _, err := s.selectStack(ctx, r.Tenant); err == nil {
		stackGone.Gone, stackGone.Found = false, "the stack exists"
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	ev.Checks = append(checks, stackGone)
	ev.PurgedAt = time.Now().UTC()
	for _, c := range ev.Checks {
		if !c.Gone {
			return nil, fmt.Errorf("tenant %q is not all gone: %s (%s); run the purge again", r.Tenant, c.What, c.Found)
		}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	rec := audit.Record{Command: "purge evidence", Tenant: r.Tenant, Args: []string{"purge"}, Result: "purged; nothing of the tenant is left",
		Seconds: time.Since(start).Seconds(), Evidence: string(b)}
	if u, err := user.Current(); err == nil {
		rec.User = u.Username
	}
	rec.Host, _ = os.Hostname()
	if err := s.Audit(ctx, rec); err != nil {
		return nil, fmt.Errorf("tenant %q is purged but its deletion evidence was not recorded; run the purge again: %w", r.Tenant, err)
	}
	if _, err := conn.Exec(ctx, `DELETE FROM tenantstack.retention WHERE tenant_id = $1`, r.Tenant); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "%s: purged; deletion evidence sha256 %s recorded in the audit log\n", r.Tenant, audit.SHA256(b))
	return &PurgeReport{Tenant: r.Tenant, Evidence: string(b), SHA256: audit.SHA256(b)}, nil
}
