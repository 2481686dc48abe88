package fleet

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tenantstack/tenantstack/components/tenant"
	"github.com/tenantstack/tenantstack/internal/migrate"
	"github.com/tenantstack/tenantstack/internal/probe"
)

// Delete offboards a tenant: it exports the tenant's data to exportDir if
// set, removes the tenant's rows from the shared tables, destroys its stack,
// and checks that nothing of the tenant is left. A delete that was
// interrupted is finished by running it again.
func (s *Service) Delete(ctx context.Context, name, exportDir string, progress io.Writer) (*DeleteReport, error) {
	if err := validateName(name); err != nil {
		return nil, err
	}
	st, err := s.selectStack(ctx, name)
	if err != nil {
		return nil, err
	}
	cur, err := readState(ctx, st)
	if err != nil {
		return nil, err
	}
	plat, err := s.platform(ctx)
	if err != nil {
		return nil, err
	}
	rep := &DeleteReport{Tenant: name, Removed: []string{}, Leftovers: []string{}}
	tier := ""
	if cur != nil {
		tier = cur.Spec.Tier
	}
	if exportDir != "" {
		if cur == nil {
			return nil, fmt.Errorf("%w: tenant %q was never completely created, so there is no data to export; delete it without --export", ErrInvalid, name)
		}
		dir, err := exportTenant(ctx, plat, cur.Credentials, exportDir, progress)
		if err != nil {
			return nil, fmt.Errorf("exporting tenant %q failed, nothing was deleted: %w", name, err)
		}
		rep.ExportedTo = dir
	}
	// A move under way holds a second copy and capture triggers.
	if err := s.abandonMove(ctx, plat, name, progress); err != nil {
		return nil, err
	}
	n, err := deleteSharedRows(ctx, plat, name)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		rep.Removed = append(rep.Removed, fmt.Sprintf("%d rows in shared tables", n))
	}
	if tier == string(tenant.TierSchema) {
		// The tenant's tables go with it; the Schema resource itself refuses
		// to drop a schema that is not empty, so that nothing else ever
		// drops data by accident.
		dropped, err := emptySchema(ctx, plat, tenant.SchemaName(name), tenant.OwnerRoleName(name))
		if err != nil {
			return nil, fmt.Errorf("removing the tables of tenant %q: %w", name, err)
		}
		if dropped > 0 {
			rep.Removed = append(rep.Removed, fmt.Sprintf("%d objects in schema %s", dropped, tenant.SchemaName(name)))
		}
	}
	if err := s.destroy(ctx, st, name, progress); err != nil {
		return nil, err
	}
	rep.Removed = append(rep.Removed, "stack "+s.stackName(name))
	if err := migrate.Forget(ctx, plat.PostgresAdminURL, plat.Database, name); err != nil {
		return nil, fmt.Errorf("removing the schema version records of tenant %q; run the delete again: %w", name, err)
	}
	// Keys are data the tenant wrote; they go with the tenant, after its ACL
	// user is gone so that nothing writes new ones.
	keys, err := deleteRedisKeys(ctx, plat, tenant.KeyPrefix(name))
	if err != nil {
		return nil, fmt.Errorf("removing the redis keys of tenant %q; run the delete again: %w", name, err)
	}
	if keys > 0 {
		rep.Removed = append(rep.Removed, fmt.Sprintf("%d redis keys", keys))
	}
	left, err := leftovers(ctx, plat, name, tier)
	if err != nil {
		return nil, fmt.Errorf("checking that nothing of tenant %q is left: %w", name, err)
	}
	rep.Leftovers = left
	if len(left) > 0 {
		return rep, fmt.Errorf("tenant %q was deleted but these are left: %s; run the delete again", name, strings.Join(left, ", "))
	}
	return rep, nil
}

// sharedTables lists the tables in schema app that carry a tenant_id
// column, except the registry, which the stack owns.
const sharedTables = `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
	WHERE n.nspname = 'app' AND c.relkind IN ('r', 'p') AND c.relname <> 'tenants' ORDER BY 1`

func deleteSharedRows(ctx context.Context, p *Platform, id string) (int64, error) {
	conn, err := platformConn(ctx, p)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	tables, err := queryStrings(ctx, conn, sharedTables)
	if err != nil {
		return 0, err
	}
	// One transaction, table by table; a table whose rows other rows of the
	// tenant still reference (a foreign key) waits for the next pass.
	var n int64
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for len(tables) > 0 {
			var later []string
			var lastErr error
			for _, t := range tables {
				sp, err := tx.Begin(ctx)
				if err != nil {
					return err
				}
				// t is quoted by quote_ident above; the value is a bind parameter.
				tag, err := sp.Exec(ctx, "DELETE FROM "+t+" WHERE tenant_id = $1", id)
				var pgErr *pgconn.PgError
				if errors.As(err, &pgErr) && pgErr.Code == "23503" {
					if rerr := sp.Rollback(ctx); rerr != nil {
						return rerr
					}
					later, lastErr = append(later, t), err
					continue
				}
				if err != nil {
					return fmt.Errorf("removing the rows of %q from %s: %w", id, t, err)
				}
				if err := sp.Commit(ctx); err != nil {
					return err
				}
				n += tag.RowsAffected()
			}
			if len(later) == len(tables) {
				return fmt.Errorf("removing the rows of %q: rows in other tables still reference them: %w", id, lastErr)
			}
			tables = later
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// emptySchema drops every object in the tenant's schema, keeping the schema
// itself for its stack to remove.
func emptySchema(ctx context.Context, p *Platform, schema, owner string) (int, error) {
	conn, err := platformConn(ctx, p)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = $1`, schema).Scan(&n)
	if err != nil || n == 0 {
		return 0, err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	s, o := pgx.Identifier{schema}.Sanitize(), pgx.Identifier{owner}.Sanitize()
	for _, sql := range []string{"DROP SCHEMA " + s + " CASCADE", "CREATE SCHEMA " + s + " AUTHORIZATION " + o} {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return 0, err
		}
	}
	return n, tx.Commit(ctx)
}

func queryStrings(ctx context.Context, conn *pgx.Conn, sql string, args ...any) ([]string, error) {
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// leftovers returns what still exists of the tenant after its stack was
// destroyed. The namespace is given time to finish terminating.
func leftovers(ctx context.Context, p *Platform, id, _ string) ([]string, error) {
	checks, err := goneChecks(ctx, p, id)
	if err != nil {
		return nil, err
	}
	var left []string
	for _, c := range checks {
		if !c.Gone {
			left = append(left, c.Found)
		}
	}
	return left, nil
}

// goneChecks checks, one by one, that nothing of the tenant exists: its
// roles, registry row, schema, database, schema version records, rows in
// every shared table, Redis ACL user and keys, and namespace (given time
// to finish terminating). Found names what is left.
func goneChecks(ctx context.Context, p *Platform, id string) ([]Check, error) {
	var out []Check
	conn, err := platformConn(ctx, p)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	checks := []struct {
		what, sql string
		args      []any
	}{
		{"role " + tenant.RoleName(id), `SELECT rolname::text FROM pg_roles WHERE rolname IN ($1, $2, $3)`, []any{tenant.RoleName(id), tenant.OwnerRoleName(id), tenant.AltRoleName(id)}},
		{"registry row", `SELECT tenant_id FROM tenantstack.tenants WHERE tenant_id = $1`, []any{id}},
		{"schema " + tenant.SchemaName(id), `SELECT nspname::text FROM pg_namespace WHERE nspname = $1`, []any{tenant.SchemaName(id)}},
		{"database " + tenant.DatabaseName(id), `SELECT datname::text FROM pg_database WHERE datname = $1`, []any{tenant.DatabaseName(id)}},
	}
	for _, c := range checks {
		found, err := queryStrings(ctx, conn, c.sql, c.args...)
		if err != nil {
			return nil, err
		}
		out = append(out, Check{What: c.what, Gone: len(found) == 0, Found: foundIf(len(found) > 0, c.what)})
	}
	n, err := migrate.Records(ctx, conn, id)
	if err != nil {
		return nil, err
	}
	out = append(out, Check{What: "schema version records", Gone: n == 0, Found: foundIf(n > 0, fmt.Sprintf("%d schema version records", n))})
	tables, err := queryStrings(ctx, conn, sharedTables)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+t+" WHERE tenant_id = $1", id).Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, Check{What: "rows in " + t, Gone: n == 0, Found: foundIf(n > 0, fmt.Sprintf("%d rows in %s", n, t))})
	}
	rdb, err := redisAdmin(p)
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	users, err := rdb.Do(ctx, "ACL", "USERS").StringSlice()
	if err != nil {
		return nil, err
	}
	userLeft := false
	for _, u := range users {
		userLeft = userLeft || u == tenant.RedisUsername(id)
	}
	out = append(out, Check{What: "redis ACL user " + tenant.RedisUsername(id), Gone: !userLeft, Found: foundIf(userLeft, "redis ACL user "+tenant.RedisUsername(id))})
	// Only a check: every SCAN page is read, nothing is deleted.
	var keys int
	iter := rdb.Scan(ctx, 0, redisKeyPattern(tenant.KeyPrefix(id)), 1000).Iterator()
	for iter.Next(ctx) {
		keys++
	}
	if err := iter.Err(); err != nil {
		return nil, err
	}
	out = append(out, Check{What: "redis keys " + tenant.KeyPrefix(id) + "*", Gone: keys == 0, Found: foundIf(keys > 0, fmt.Sprintf("%d redis keys", keys))})
	gone, err := namespaceGone(ctx, p.Kubeconfig, tenant.Namespace(id), 90*time.Second)
	if err != nil {
		return nil, err
	}
	out = append(out, Check{What: "namespace " + tenant.Namespace(id), Gone: gone, Found: foundIf(!gone, "namespace "+tenant.Namespace(id))})
	return out, nil
}

func foundIf(left bool, what string) string {
	if left {
		return what
	}
	return ""
}

// deleteRedisKeys deletes every key under prefix, reading every SCAN page,
// and returns how many it deleted.
func deleteRedisKeys(ctx context.Context, p *Platform, prefix string) (int, error) {
	rdb, err := redisAdmin(p)
	if err != nil {
		return 0, err
	}
	defer rdb.Close()
	n := 0
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
			return err
		}
		n += len(batch)
		batch = batch[:0]
		return nil
	}
	iter := rdb.Scan(ctx, 0, redisKeyPattern(prefix), 1000).Iterator()
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// redisKeyPattern is the SCAN MATCH pattern of the keys under prefix, with
// glob characters in the prefix escaped (tenant ids hold none today).
func redisKeyPattern(prefix string) string {
	var b strings.Builder
	for _, r := range prefix {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String() + "*"
}

// namespaceGone waits up to wait for the namespace to finish terminating,
// asking the API server (through the kubeconfig, as client-go reads it).
func namespaceGone(ctx context.Context, kubeconfig, ns string, wait time.Duration) (bool, error) {
	c, err := probe.LoadKubeconfig(kubeconfig)
	if err != nil {
		return false, err
	}
	defer c.Close()
	deadline := time.Now().Add(wait)
	for {
		err := c.Do(ctx, http.MethodGet, "/api/v1/namespaces/"+url.PathEscape(ns), nil, nil)
		switch {
		case probe.IsNotFound(err):
			return true, nil
		case err != nil:
			return false, fmt.Errorf("reading namespace %s: %w", ns, err)
		case time.Now().After(deadline):
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// exportTenant writes the tenant's data under dir/<tenant>-<time>/: its
// schema or database as a pg_dump, or its rows of the shared tables as CSV,
// and its Redis keys as JSON lines of DUMP payloads.
func exportTenant(ctx context.Context, p *Platform, c Credentials, dir string, progress io.Writer) (string, error) {
	out := filepath.Join(dir, c.Tenant+"-"+time.Now().UTC().Format("20060102T150405Z"))
	if err := os.MkdirAll(out, 0o700); err != nil {
		return "", err
	}
	switch tenant.Tier(c.Tier) {
	case tenant.TierSchema:
		if err := pgDump(ctx, p.PostgresAdminURL, p.Database, filepath.Join(out, "schema.sql"), "--schema", c.Postgres.Schema); err != nil {
			return "", err
		}
	case tenant.TierDatabase:
		if err := pgDump(ctx, p.PostgresAdminURL, c.Postgres.Database, filepath.Join(out, "database.sql")); err != nil {
			return "", err
		}
	default:
		if err := exportSharedRows(ctx, p, c.Tenant, out); err != nil {
			return "", err
		}
	}
	if err := exportRedis(ctx, p, c.Redis.KeyPrefix, filepath.Join(out, "redis.jsonl")); err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "%s: exported to %s\n", c.Tenant, out)
	return out, nil
}

func pgDump(ctx context.Context, adminURL, database, file string, args ...string) error {
	bin := "/usr/lib/postgresql/15/bin/pg_dump"
	if _, err := os.Stat(bin); err != nil {
		if bin, err = exec.LookPath("pg_dump"); err != nil {
			return fmt.Errorf("pg_dump not found; install postgresql-client-15")
		}
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return err
	}
	if database != "" {
		u.Path = "/" + database
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--dbname", u.String(), "--file", file, "--no-owner"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_dump: %v: %s", err, out)
	}
	return nil
}

func exportSharedRows(ctx context.Context, p *Platform, id, out string) error {
	conn, err := platformConn(ctx, p)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	tables, err := queryStrings(ctx, conn, sharedTables)
	if err != nil {
		return err
	}
	for _, t := range tables {
		f, err := os.Create(filepath.Join(out, strings.ReplaceAll(t, `"`, "")+".csv"))
		if err != nil {
			return err
		}
		_, err = conn.PgConn().CopyTo(ctx, f, "COPY (SELECT * FROM "+t+" WHERE tenant_id = "+quoteLiteral(id)+") TO STDOUT WITH (FORMAT csv, HEADER)")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("exporting %s: %w", t, err)
		}
	}
	return nil
}

// quoteLiteral quotes s as an SQL string literal. COPY takes no bind
// parameters; tenant ids are validated DNS labels in any case.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func exportRedis(ctx context.Context, p *Platform, prefix, file string) error {
	rdb, err := redisAdmin(p)
	if err != nil {
		return err
	}
	defer rdb.Close()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		dump, err := rdb.Dump(ctx, key).Result()
		if err != nil {
			return fmt.Errorf("DUMP %s: %w", key, err)
		}
		ttl, _ := rdb.PTTL(ctx, key).Result()
		rec := struct {
			Key   string `json:"key"`
			TTLMs int64  `json:"ttl_ms"`
			Dump  string `json:"dump"`
		}{key, ttl.Milliseconds(), base64.StdEncoding.EncodeToString([]byte(dump))}
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
	return iter.Err()
}
