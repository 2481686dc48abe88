// Package audit keeps the platform's audit log: one record for every
// mutating tenantctl command, appended to tenantstack.audit_log in the
// platform database (the control plane, which no tenant role can reach).
// The table is append-only: a trigger refuses UPDATE, DELETE and TRUNCATE,
// nothing but the admin may write to it, and this package only inserts.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Record is one mutating command.
type Record struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	User     string    `json:"user"`
	Host     string    `json:"host"`
	Backend  string    `json:"backend"`
	Command  string    `json:"command"`
	Tenant   string    `json:"tenant,omitempty"`
	Args     []string  `json:"args"`
	Result   string    `json:"result"`
	ExitCode int       `json:"exit_code"`
	Seconds  float64   `json:"seconds"`
	// Evidence is a report kept with the record (the deletion evidence of
	// a purge, as JSON text), and EvidenceSHA256 the hex SHA-256 of its
	// bytes. It is a string so that it is printed byte for byte.
	Evidence       string `json:"evidence,omitempty"`
	EvidenceSHA256 string `json:"evidence_sha256,omitempty"`
}

// ddl creates the log and its guard. The trigger fires for every role,
// the admin's too: a record, once written, stays.
const ddl = `
CREATE SCHEMA IF NOT EXISTS tenantstack;
REVOKE ALL ON SCHEMA tenantstack FROM PUBLIC;
CREATE TABLE IF NOT EXISTS tenantstack.audit_log (
	id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at        timestamptz NOT NULL DEFAULT now(),
	os_user   text        NOT NULL,
	host      text        NOT NULL,
	backend   text        NOT NULL,
	command   text        NOT NULL,
	tenant    text,
	args      text[]      NOT NULL,
	result    text        NOT NULL,
	exit_code integer     NOT NULL,
	seconds   double precision NOT NULL
);
ALTER TABLE tenantstack.audit_log ADD COLUMN IF NOT EXISTS evidence text, ADD COLUMN IF NOT EXISTS evidence_sha256 text;
REVOKE ALL ON TABLE tenantstack.audit_log FROM PUBLIC;
CREATE OR REPLACE FUNCTION tenantstack.audit_log_append_only() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RAISE EXCEPTION 'tenantstack.audit_log is append-only: % is refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
REVOKE ALL ON FUNCTION tenantstack.audit_log_append_only() FROM PUBLIC;
DROP TRIGGER IF EXISTS audit_log_append_only ON tenantstack.audit_log;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON tenantstack.audit_log
	FOR EACH ROW EXECUTE FUNCTION tenantstack.audit_log_append_only();
DROP TRIGGER IF EXISTS audit_log_no_truncate ON tenantstack.audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON tenantstack.audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION tenantstack.audit_log_append_only();
`

// ensure creates the log when it is missing (or lacks the evidence
// columns, added later), once per database.
func ensure(ctx context.Context, conn *pgx.Conn) error {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
		WHERE attrelid = to_regclass('tenantstack.audit_log') AND attname = 'evidence_sha256' AND NOT attisdropped)`).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('tenantstack.audit_log'))`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, ddl)
		return err
	})
}

// Append writes r to the log of conn's database (the platform database).
func Append(ctx context.Context, conn *pgx.Conn, r Record) error {
	if err := ensure(ctx, conn); err != nil {
		return fmt.Errorf("creating the audit log: %w", err)
	}
	var tenant *string
	if r.Tenant != "" {
		tenant = &r.Tenant
	}
	var evidence, sum *string
	if len(r.Evidence) > 0 {
		// Kept as text, byte for byte, so its SHA-256 can be checked again.
		e, h := r.Evidence, SHA256([]byte(r.Evidence))
		evidence, sum = &e, &h
	}
	_, err := conn.Exec(ctx, `INSERT INTO tenantstack.audit_log (os_user, host, backend, command, tenant, args, result, exit_code, seconds, evidence, evidence_sha256)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, r.User, r.Host, r.Backend, r.Command, tenant, Redact(r.Args), r.Result, r.ExitCode, r.Seconds, evidence, sum)
	return err
}

// List reads the log, oldest first: every record, or those of tenant, at
// or after since (zero: all).
func List(ctx context.Context, conn *pgx.Conn, tenant string, since time.Time) ([]Record, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('tenantstack.audit_log') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return []Record{}, err
	}
	if err := ensure(ctx, conn); err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT id, at, os_user, host, backend, command, coalesce(tenant, ''), args, result, exit_code, seconds,
		coalesce(evidence, ''), coalesce(evidence_sha256, '')
		FROM tenantstack.audit_log WHERE ($1 = '' OR tenant = $1) AND at >= $2 ORDER BY id`, tenant, since)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Record, error) {
		var r Record
		err := row.Scan(&r.ID, &r.At, &r.User, &r.Host, &r.Backend, &r.Command, &r.Tenant, &r.Args, &r.Result, &r.ExitCode, &r.Seconds,
			&r.Evidence, &r.EvidenceSHA256)
		r.At = r.At.UTC()
		return r, err
	})
}

// SHA256 is the hex SHA-256 of b.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// secretKeys are configuration keys whose values are secrets, as --set
// KEY=VALUE passes them.
var secretKeys = []string{"postgresadminurl", "postgrespoolerurl", "redisadminurl", "password", "secret", "token", "key"}

// Redact returns args with every secret replaced: the value of a --set
// whose key names a secret, a password in any URL, and the value of any
// flag named like a secret.
func Redact(args []string) []string {
	out := make([]string, len(args))
	prevSecretFlag := false
	for i, a := range args {
		switch {
		case prevSecretFlag:
			a = "[secret]"
		case strings.HasPrefix(a, "--") && strings.Contains(a, "="):
			name, v, _ := strings.Cut(a, "=")
			if secretName(name) {
				a = name + "=[secret]"
			} else {
				a = name + "=" + redactValue(v)
			}
		default:
			a = redactValue(a)
		}
		prevSecretFlag = strings.HasPrefix(a, "--") && !strings.Contains(a, "=") && secretName(a)
		out[i] = a
	}
	return out
}

// redactValue hides a URL's password and a KEY=VALUE's value whose key
// names a secret.
func redactValue(v string) string {
	if k, val, ok := strings.Cut(v, "="); ok && !strings.Contains(k, "://") {
		if secretName(k) {
			return k + "=[secret]"
		}
		return k + "=" + redactValue(val)
	}
	if strings.Contains(v, "://") {
		if u, err := url.Parse(v); err == nil && u.User != nil {
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
				return u.String()
			}
		}
	}
	return v
}

// urlPassword matches the password of a URL in free text.
var urlPassword = regexp.MustCompile(`(://[^:/@\s]*):[^@\s]*@`)

// Scrub hides URL passwords in free text, such as an error message.
func Scrub(s string) string { return urlPassword.ReplaceAllString(s, "${1}:xxxxx@") }

func secretName(name string) bool {
	n := strings.ToLower(strings.TrimPrefix(strings.TrimLeft(name, "-"), "tenantstack:"))
	n = strings.ReplaceAll(n, "-", "")
	for _, s := range secretKeys {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// mutating are the command paths (without "tenantctl") that change the
// platform and are logged.
var mutating = []string{
	"create", "update", "suspend", "resume", "delete", "apply", "move", "rotate",
	"migrate up", "platform up", "platform destroy",
	// Backup and restore, offboarding with retention.
	"restore",
	"purge",
	// Rotation (its verb comes with the day-2 rotation work).
	"rotate",
}

// Mutating reports whether the command at path (as cobra's CommandPath,
// "tenantctl migrate up") changes the platform, and so is logged.
func Mutating(path string) bool {
	p := strings.TrimSpace(strings.TrimPrefix(path, "tenantctl"))
	for _, m := range mutating {
		if p == m {
			return true
		}
	}
	return false
}
