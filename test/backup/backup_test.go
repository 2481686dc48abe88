//go:build integration

package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/internal/audit"
	archive "github.com/tenantstack/tenantstack/internal/backup"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

const passphrase = "integration test passphrase, not a real one"

func must(t *testing.T, args ...string) string {
	t.Helper()
	return testenv.MustTenantctl(t, args...)
}

func credentials(t *testing.T, name string) (tenantspec.Credentials, error) {
	out, errOut, code := testenv.Tenantctl(t, "credentials", name, "-o", "json")
	if code != 0 {
		return tenantspec.Credentials{}, fmt.Errorf("tenantctl credentials %s: exit %d: %s", name, code, errOut)
	}
	var c tenantspec.Credentials
	return c, json.Unmarshal([]byte(out), &c)
}

// suite is the platform under test, as the admin.
type suite struct {
	t          *testing.T
	env        devEnv
	admin      string // admin URL of the platform database
	rdb        *redis.Client
	bucket     string
	keyFile    string
	migrations string
}

type devEnv = struct {
	Postgres   struct{ AdminURL string }
	Redis      struct{ AdminURL string }
	Kubeconfig string
}

func (s *suite) conn(db string) *pgx.Conn {
	s.t.Helper()
	cfg, err := pgx.ParseConfig(s.admin)
	if err != nil {
		s.t.Fatal(err)
	}
	if db != "" {
		cfg.Database = db
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	c, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *suite) scalar(db, sql string, args ...any) string {
	s.t.Helper()
	c := s.conn(db)
	defer c.Close(context.Background())
	var out string
	if err := c.QueryRow(context.Background(), sql, args...).Scan(&out); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// where is the database and schema holding the tenant's tables.
func where(name string, tier tenantspec.Tier) (db, schema string) {
	switch tier {
	case tenantspec.TierSchema:
		return "", tenantspec.SchemaName(name)
	case tenantspec.TierDatabase:
		return tenantspec.DatabaseName(name), "public"
	}
	return "", "app"
}

// digest sums the tenant's rows without their tenant column, so two
// tenants (or tiers) holding the same rows have the same digest.
func (s *suite) digest(name string, tier tenantspec.Tier, filter string) string {
	s.t.Helper()
	db, schema := where(name, tier)
	sc := pgx.Identifier{schema}.Sanitize()
	if filter == "" {
		filter = "true"
	}
	return s.scalar(db, `SELECT (SELECT count(*) || ':' || coalesce(sum(hashtextextended((a.id, a.display_name, a.currency, a.balance_minor, a.created_at)::text, 0)), 0)
		FROM `+sc+`.accounts a WHERE tenant_id = $1 AND `+filter+`) || '/' ||
		(SELECT count(*) || ':' || coalesce(sum(hashtextextended((x.id, x.account_id, x.amount_minor, x.booked_at)::text, 0)), 0)
		FROM `+sc+`.transactions x WHERE tenant_id = $1)`, name)
}

func (s *suite) kubectl(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("kubectl", append([]string{"--kubeconfig", s.env.Kubeconfig}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("kubectl %v: %v: %s", args, err, out)
	}
	return string(out)
}

// seed writes n accounts with a transaction each as the tenant, two Redis
// keys (one with a TTL) and a ConfigMap and Secret of its own.
func (s *suite) seed(name string, n int) {
	s.t.Helper()
	ctx := context.Background()
	c, err := credentials(s.t, name)
	if err != nil {
		s.t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, c.Postgres.URL)
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO accounts (name, currency) SELECT 'seed-' || g, 'EUR' FROM generate_series(1, $1::int) g`, n); err != nil {
		s.t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO transactions (account_id, amount_minor, memo) SELECT id, 7, 'tab	and "quotes", \N' FROM accounts`); err != nil {
		s.t.Fatal(err)
	}
	p := tenantspec.KeyPrefix(name)
	if err := s.rdb.Set(ctx, p+"session:1", "alive", time.Hour).Err(); err != nil {
		s.t.Fatal(err)
	}
	if err := s.rdb.HSet(ctx, p+"profile", "plan", "gold", "seats", "12").Err(); err != nil {
		s.t.Fatal(err)
	}
	ns := tenantspec.Namespace(name)
	s.kubectl("-n", ns, "create", "configmap", "app-settings", "--from-literal=theme=dark")
	s.kubectl("-n", ns, "create", "secret", "generic", "api-token", "--from-literal=token=s3cr3t-"+name)
}

// backup backs the tenant up and returns the archive written.
func (s *suite) backup(name string) *archive.Result {
	s.t.Helper()
	var r archive.Result
	out := must(s.t, "backup", name, "--to", s.bucket, "--key-file", s.keyFile, "-o", "json")
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		s.t.Fatalf("backup's report %q: %v", out, err)
	}
	return &r
}

func (s *suite) restore(args ...string) *fleet.RestoreReport {
	s.t.Helper()
	var r fleet.RestoreReport
	out := must(s.t, append([]string{"restore"}, append(args, "--yes", "-o", "json")...)...)
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		s.t.Fatalf("restore's report %q: %v", out, err)
	}
	return &r
}

func (s *suite) records(name string) []audit.Record {
	s.t.Helper()
	var recs []audit.Record
	if err := json.Unmarshal([]byte(must(s.t, "audit", name, "-o", "json")), &recs); err != nil {
		s.t.Fatal(err)
	}
	return recs
}

func TestBackupAndRestore(t *testing.T) {
	pe := testenv.Platform(t)
	var env devEnv
	env.Postgres.AdminURL, env.Redis.AdminURL, env.Kubeconfig = pe.Postgres.AdminURL, pe.Redis.AdminURL, pe.Kubernetes.Kubeconfig
	ropt, err := redis.ParseURL(env.Redis.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &suite{t: t, env: env, admin: strings.TrimSuffix(env.Postgres.AdminURL, "/postgres") + "/platform", rdb: redis.NewClient(ropt),
		bucket: "file://" + filepath.Join(dir, "archives"), keyFile: filepath.Join(dir, "backup.pass"), migrations: filepath.Join(dir, "migrations")}
	defer s.rdb.Close()
	if err := os.WriteFile(s.keyFile, []byte(passphrase+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(s.migrations, 0o755)
	testenv.CopyLedger(t, s.migrations, "0001_currencies.up.sql", "0001_currencies.down.sql", "0002_accounts.sql", "0003_transactions.sql",
		"0004_accounts_display_name_expand.up.sql", "0004_accounts_display_name_expand.down.sql")
	must(t, "platform", "up", "--migrations", s.migrations)
	must(t, "migrate", "up", "--yes")

	suffix := strings.ToLower(random.UniqueId())
	sh, ot, sc, db, cp := "sh-"+suffix, "ot-"+suffix, "sc-"+suffix, "db-"+suffix, "cp-"+suffix
	tiers := map[string]tenantspec.Tier{sh: tenantspec.TierShared, ot: tenantspec.TierShared, sc: tenantspec.TierSchema, db: tenantspec.TierDatabase}
	for _, n := range []string{sh, ot, sc, db} {
		must(t, "create", n, "--tier", string(tiers[n]))
	}
	t.Cleanup(func() {
		if os.Getenv("SKIP_teardown") != "" {
			return
		}
		for _, n := range []string{sh, ot, sc, db, cp} {
			testenv.Tenantctl(t, "delete", n, "--yes")
		}
	})
	for _, n := range []string{sh, ot, sc, db} {
		s.seed(n, 200)
	}
	before := map[string]string{}
	for n, tier := range tiers {
		before[n] = s.digest(n, tier, "")
	}

	archives := map[string]*archive.Result{}
	t.Run("a backup of each tier holds the tenant's rows, keys and own objects only", func(t *testing.T) {
		s.t = t
		for _, n := range []string{sh, sc, db} {
			r := s.backup(n)
			archives[n] = r
			if r.Rows != 400 || r.Redis != 2 || len(r.Objects) != 2 || r.Version != 4 {
				t.Errorf("%s (%s): %d rows, %d keys, objects %v, version %d; want 400 rows, 2 keys, the ConfigMap and Secret, version 4",
					n, tiers[n], r.Rows, r.Redis, r.Objects, r.Version)
			}
			raw, err := os.ReadFile(filepath.Join(strings.TrimPrefix(s.bucket, "file://"), r.Key))
			if err != nil {
				t.Fatal(err)
			}
			for _, plain := range []string{"seed-1", "s3cr3t", "alive", "tenant_id"} {
				if bytes.Contains(raw, []byte(plain)) {
					t.Errorf("the archive of %s holds %q in the clear", n, plain)
				}
			}
		}
		var list []archive.Entry
		if err := json.Unmarshal([]byte(must(t, "backups", sh, "--in", s.bucket, "-o", "json")), &list); err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Key != archives[sh].Key || list[0].Tier != "shared" || list[0].SchemaVersion != 4 {
			t.Errorf("backups %s: %+v; want its one archive", sh, list)
		}
		var all fleet.FleetBackupReport
		allBucket := "file://" + filepath.Join(dir, "all")
		if err := json.Unmarshal([]byte(must(t, "backup", "--all", "--parallel", "2", "--to", allBucket, "--key-file", s.keyFile, "-o", "json")), &all); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, a := range all.Archives {
			got[a.Tenant] = true
		}
		for n := range tiers {
			if !got[n] {
				t.Errorf("backup --all wrote no archive of %s: %+v", n, all.Archives)
			}
		}
	})

	t.Run("restore replaces only the tenant's data while another tenant writes", func(t *testing.T) {
		s.t = t
		ctx := context.Background()
		app := &testenv.App{Tenant: ot, Amount: 3, Prefix: "r-", Credentials: func() (tenantspec.Credentials, error) { return credentials(t, ot) }}
		if err := app.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{sh, sc, db} {
			// Damage: rows gone and added, a key gone and one added, an
			// object changed and one added.
			c := s.conn(map[string]string{sh: "", sc: "", db: tenantspec.DatabaseName(db)}[n])
			_, schema := where(n, tiers[n])
			q := pgx.Identifier{schema}.Sanitize()
			if _, err := c.Exec(ctx, `DELETE FROM `+q+`.transactions WHERE tenant_id = $1 AND id % 3 = 0`, n); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Exec(ctx, `UPDATE `+q+`.accounts SET balance_minor = -1 WHERE tenant_id = $1`, n); err != nil {
				t.Fatal(err)
			}
			c.Close(ctx)
			p := tenantspec.KeyPrefix(n)
			s.rdb.Del(ctx, p+"profile")
			s.rdb.Set(ctx, p+"junk", "x", 0)
			ns := tenantspec.Namespace(n)
			s.kubectl("-n", ns, "create", "configmap", "junk", "--from-literal=a=b")
			s.kubectl("-n", ns, "patch", "configmap", "app-settings", "-p", `{"data":{"theme":"light"}}`)
			if s.digest(n, tiers[n], "") == before[n] {
				t.Fatalf("the damage to %s did not change its rows", n)
			}
			r := s.restore(n, "--from", s.bucket, "--key-file", s.keyFile)
			for _, tr := range r.Tables {
				if !tr.Verified {
					t.Errorf("%s: table %s not verified after the restore: %+v", n, tr.Table, tr)
				}
			}
			if got := s.digest(n, tiers[n], ""); got != before[n] {
				t.Errorf("%s (%s) after the restore: %s; before the backup %s", n, tiers[n], got, before[n])
			}
			if v, _ := s.rdb.HGet(ctx, p+"profile", "plan").Result(); v != "gold" {
				t.Errorf("%s: the hash key is %q after the restore", n, v)
			}
			if ttl := s.rdb.PTTL(ctx, p+"session:1").Val(); ttl <= 0 || ttl > time.Hour {
				t.Errorf("%s: the TTL of the session key is %s after the restore; want it kept", n, ttl)
			}
			if s.rdb.Exists(ctx, p+"junk").Val() != 0 {
				t.Errorf("%s: a key written after the backup is still there", n)
			}
			if theme := s.kubectl("-n", ns, "get", "configmap", "app-settings", "-o", "jsonpath={.data.theme}"); theme != "dark" {
				t.Errorf("%s: app-settings theme %q after the restore", n, theme)
			}
			if out := s.kubectl("-n", ns, "get", "configmap", "junk", "--ignore-not-found", "-o", "name"); strings.TrimSpace(out) != "" {
				t.Errorf("%s: a ConfigMap made after the backup is still there", n)
			}
			if out := s.kubectl("-n", ns, "get", "secret", "tenant-credentials", "-o", "name"); !strings.Contains(out, "tenant-credentials") {
				t.Errorf("%s: the stack's Secret is gone", n)
			}
		}
		time.Sleep(300 * time.Millisecond)
		st := app.Stop()
		if len(st.WriteErrors) > 0 || len(st.ReadErrors) > 0 || len(st.Written) == 0 {
			t.Errorf("the other tenant's application: %d writes, errors %v %v", len(st.Written), st.WriteErrors, st.ReadErrors)
		}
		t.Logf("the other tenant wrote %d times during the restores; longest write %s", len(st.Written), st.LongestWrite)
		if got := s.digest(ot, tenantspec.TierShared, "a.name LIKE 'seed-%'"); !strings.HasPrefix(got, strings.Split(before[ot], "/")[0]+"/") {
			t.Errorf("the other tenant's seed accounts changed: %s, were %s", got, before[ot])
		}
		n := s.scalar("", `SELECT count(*) FROM app.accounts WHERE tenant_id = $1 AND name LIKE 'app-r-%'`, ot)
		if n != fmt.Sprint(len(st.Written)) {
			t.Errorf("the other tenant holds %s of the %d accounts its application wrote during the restores", n, len(st.Written))
		}
	})

	t.Run("a shared-tier archive restores into a new schema-tier tenant", func(t *testing.T) {
		s.t = t
		r := s.restore(sh, "--from", s.bucket, "--key-file", s.keyFile, "--as", cp, "--tier", "schema")
		if !r.Created || r.Tier != "schema" || r.ArchiveTier != "shared" {
			t.Errorf("restore --as: created %v, tier %s from %s", r.Created, r.Tier, r.ArchiveTier)
		}
		if got := s.digest(cp, tenantspec.TierSchema, ""); got != before[sh] {
			t.Errorf("%s holds %s; the archive of %s held %s", cp, got, sh, before[sh])
		}
		c, err := credentials(t, cp)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, c.Postgres.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var mine, foreign int
		if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE tenant_id = $1), count(*) FILTER (WHERE tenant_id <> $1) FROM accounts`, cp).Scan(&mine, &foreign); err != nil {
			t.Fatal(err)
		}
		if mine != 200 || foreign != 0 {
			t.Errorf("%s reads %d of its accounts and %d of others; want 200 and 0", cp, mine, foreign)
		}
		// New rows take ids after the restored ones.
		if _, err := conn.Exec(ctx, `INSERT INTO accounts (name, currency) VALUES ('after-restore', 'EUR')`); err != nil {
			t.Errorf("%s writes after the restore: %v", cp, err)
		}
		if v := s.rdb.HGet(ctx, tenantspec.KeyPrefix(cp)+"profile", "plan").Val(); v != "gold" {
			t.Errorf("%s: the archive's Redis key is not under its prefix (%q)", cp, v)
		}
	})

	t.Run("bad archives and keys are refused and change nothing", func(t *testing.T) {
		s.t = t
		bad := filepath.Join(dir, "bad")
		good, err := os.ReadFile(filepath.Join(strings.TrimPrefix(s.bucket, "file://"), archives[sh].Key))
		if err != nil {
			t.Fatal(err)
		}
		put := func(tenant, name string, b []byte) string {
			os.MkdirAll(filepath.Join(bad, tenant), 0o700)
			key := tenant + "/" + tenant + "-" + name + archive.Suffix
			if err := os.WriteFile(filepath.Join(bad, key), b, 0o600); err != nil {
				t.Fatal(err)
			}
			return key
		}
		flipped := bytes.Clone(good)
		flipped[len(flipped)/2] ^= 1
		wrongKey := filepath.Join(dir, "wrong.pass")
		os.WriteFile(wrongKey, []byte("this is not the passphrase\n"), 0o600)
		newer := reencrypt(t, good, func(m map[string]any) { m["schemaVersion"] = 99 })
		for _, tc := range []struct {
			name, tenant, key, keyFile, says string
		}{
			{"wrong key", sh, archives[sh].Key, wrongKey, "does not decrypt"},
			{"truncated", sh, put(sh, "truncated", good[:len(good)/2]), s.keyFile, "truncated"},
			{"corrupt", sh, put(sh, "corrupt", flipped), s.keyFile, "damaged"},
			{"not an archive", sh, put(sh, "plain", []byte("-- PostgreSQL database dump\n")), s.keyFile, "not an age-encrypted"},
			{"another tenant's", ot, put(ot, "foreign", good), s.keyFile, "of tenant \"" + sh + "\", not \"" + ot + "\""},
			{"a newer schema version", sh, put(sh, "newer", newer), s.keyFile, "schema version 99"},
		} {
			from := "file://" + bad
			if tc.key == archives[sh].Key {
				from = s.bucket
			}
			_, errOut, code := testenv.Tenantctl(t, "restore", tc.tenant, "--from", from, "--archive", tc.key, "--key-file", tc.keyFile, "--yes")
			if code != 2 || !strings.Contains(errOut, tc.says) || !strings.Contains(errOut, "nothing was changed") {
				t.Errorf("%s: exit %d, %q; want exit 2 saying %q and that nothing was changed", tc.name, code, errOut, tc.says)
			}
		}
		if got := s.digest(sh, tenantspec.TierShared, ""); got != before[sh] {
			t.Errorf("the refusals changed %s: %s, was %s", sh, got, before[sh])
		}
		if n := s.scalar("", `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenantstack\_restore\_%'`); n != "0" {
			t.Errorf("%s scratch schemas are left", n)
		}
	})

	t.Run("an archive of an older schema version is migrated forward", func(t *testing.T) {
		s.t = t
		// Version 5 derives a column from the rows: the restore must run it
		// on the archive's rows, not only add the column.
		if err := os.WriteFile(filepath.Join(s.migrations, "0005_accounts_tag.up.sql"),
			[]byte("ALTER TABLE accounts ADD COLUMN tag text;\nUPDATE accounts SET tag = 'v5:' || display_name;\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		must(t, "migrate", "up", "--yes")
		for _, n := range []string{sh, db} {
			r := s.restore(n, "--from", s.bucket, "--key-file", s.keyFile, "--archive", archives[n].Key)
			if !r.Migrated || r.ArchiveVersion != 4 || r.SchemaVersion != 5 {
				t.Errorf("%s: migrated %v from %d to %d; want 4 to 5", n, r.Migrated, r.ArchiveVersion, r.SchemaVersion)
			}
			dbName, schema := where(n, tiers[n])
			got := s.scalar(dbName, `SELECT count(*) || '/' || count(*) FILTER (WHERE tag = 'v5:' || display_name) FROM `+pgx.Identifier{schema}.Sanitize()+`.accounts WHERE tenant_id = $1`, n)
			if got != "200/200" {
				t.Errorf("%s after restoring a version 4 archive at version 5: %s accounts/tagged; want 200/200", n, got)
			}
			if got := s.digest(n, tiers[n], ""); got != before[n] {
				t.Errorf("%s: %s after the migrated restore, %s before", n, got, before[n])
			}
		}
	})

	t.Run("delete with retention, restore and resume, then a purge with evidence", func(t *testing.T) {
		s.t = t
		ctx := context.Background()
		offboard := "file://" + filepath.Join(dir, "offboarded")
		var rr fleet.RetainReport
		if err := json.Unmarshal([]byte(must(t, "delete", sc, "--retain", "30d", "--to", offboard, "--key-file", s.keyFile, "--yes", "-o", "json")), &rr); err != nil {
			t.Fatal(err)
		}
		if d := time.Until(rr.PurgeAfter); d < 29*24*time.Hour || d > 31*24*time.Hour {
			t.Errorf("purge after %s; want in 30 days", rr.PurgeAfter)
		}
		var got fleet.Tenant
		json.Unmarshal([]byte(must(t, "get", sc, "-o", "json")), &got)
		if got.Status != fleet.StatusSuspended {
			t.Errorf("after delete --retain %s is %s; want suspended", sc, got.Status)
		}
		var pr fleet.PurgeResult
		json.Unmarshal([]byte(must(t, "purge", "--yes", "-o", "json")), &pr)
		if len(pr.Purged) != 0 || len(pr.Pending) != 1 || pr.Pending[0].Tenant != sc {
			t.Fatalf("a purge before the retention ended: %+v", pr)
		}
		// Lose data while retained, then bring it back from the archive.
		c := s.conn("")
		if _, err := c.Exec(ctx, `DELETE FROM `+pgx.Identifier{tenantspec.SchemaName(sc)}.Sanitize()+`.transactions`); err != nil {
			t.Fatal(err)
		}
		c.Close(ctx)
		s.restore(sc, "--from", offboard, "--key-file", s.keyFile)
		must(t, "resume", sc)
		json.Unmarshal([]byte(must(t, "get", sc, "-o", "json")), &got)
		if got.Status != fleet.StatusActive {
			t.Errorf("after restore and resume %s is %s", sc, got.Status)
		}
		if got := s.digest(sc, tenantspec.TierSchema, ""); got != before[sc] {
			t.Errorf("%s after restore and resume: %s, was %s", sc, got, before[sc])
		}
		json.Unmarshal([]byte(must(t, "purge", "--yes", "-o", "json")), &pr)
		if len(pr.Pending) != 0 || len(pr.Purged) != 0 {
			t.Errorf("resume did not cancel the purge: %+v", pr)
		}

		must(t, "delete", sc, "--retain", "1d", "--to", offboard, "--key-file", s.keyFile, "--yes")
		// The retention ends now: the test moves the date, not the clock.
		c = s.conn("")
		if _, err := c.Exec(ctx, `UPDATE tenantstack.retention SET purge_after = now() - interval '1 second' WHERE tenant_id = $1`, sc); err != nil {
			t.Fatal(err)
		}
		c.Close(ctx)
		json.Unmarshal([]byte(must(t, "purge", "--yes", "-o", "json")), &pr)
		if len(pr.Purged) != 1 || pr.Purged[0].Tenant != sc {
			t.Fatalf("the due purge: %+v", pr)
		}
		var ev fleet.Evidence
		if err := json.Unmarshal([]byte(pr.Purged[0].Evidence), &ev); err != nil {
			t.Fatal(err)
		}
		whats := map[string]bool{}
		for _, ch := range ev.Checks {
			whats[strings.Fields(ch.What)[0]] = true
			if !ch.Gone {
				t.Errorf("evidence: %s is not gone (%s)", ch.What, ch.Found)
			}
		}
		for _, w := range []string{"role", "schema", "database", "rows", "redis", "namespace", "stack"} {
			if !whats[w] {
				t.Errorf("the evidence has no check of %s: %+v", w, ev.Checks)
			}
		}
		// Checked again here, independently of the evidence.
		if n := s.scalar("", `SELECT count(*) FROM pg_roles WHERE rolname = $1`, tenantspec.RoleName(sc)); n != "0" {
			t.Errorf("the role of %s is left after the purge", sc)
		}
		if n := s.rdb.Exists(ctx, tenantspec.KeyPrefix(sc)+"profile").Val(); n != 0 {
			t.Errorf("a Redis key of %s is left", sc)
		}
		if _, _, code := testenv.Tenantctl(t, "get", sc); code != 3 {
			t.Errorf("get %s after the purge: exit %d, want 3", sc, code)
		}
		recs := s.records(sc)
		last := recs[len(recs)-1]
		if last.Command != "purge evidence" || last.EvidenceSHA256 != pr.Purged[0].SHA256 || audit.SHA256([]byte(last.Evidence)) != last.EvidenceSHA256 {
			t.Errorf("the audit log's last record of %s: %s %s; want the evidence with sha256 %s", sc, last.Command, last.EvidenceSHA256, pr.Purged[0].SHA256)
		}
		sum := sha256.Sum256([]byte(last.Evidence))
		if hex.EncodeToString(sum[:]) != pr.Purged[0].SHA256 {
			t.Errorf("the SHA-256 of the stored evidence is not the one reported")
		}
		// Idempotent and safe from cron: nothing more to do, and nothing
		// at all while another purge holds the lock.
		json.Unmarshal([]byte(must(t, "purge", "--yes", "-o", "json")), &pr)
		if len(pr.Purged) != 0 {
			t.Errorf("a second purge purged %+v", pr.Purged)
		}
		c = s.conn("")
		if _, err := c.Exec(ctx, `SELECT pg_advisory_lock($1, 0)`, 0x74737067); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := testenv.Tenantctl(t, "purge", "--yes")
		if code != 0 || !strings.Contains(errOut, "Another purge is running") {
			t.Errorf("a purge while another runs: exit %d, %q", code, errOut)
		}
		c.Close(ctx)

		// The archive outlives the purge: restore brings the tenant back.
		r := s.restore(sc, "--from", offboard, "--key-file", s.keyFile, "--archive", rr.ArchiveKey)
		if !r.Created || r.Tier != "schema" {
			t.Errorf("restore after the purge: created %v on %s; want the tenant created again on its tier", r.Created, r.Tier)
		}
		if got := s.digest(sc, tenantspec.TierSchema, ""); got != before[sc] {
			t.Errorf("%s restored after the purge: %s, was %s", sc, got, before[sc])
		}
	})

	t.Run("the audit log has one record per mutating command and no secret", func(t *testing.T) {
		s.t = t
		var got []string
		for _, r := range s.records(sc) {
			got = append(got, r.Command)
		}
		want := "create restore delete restore resume delete purge evidence restore"
		if strings.Join(got, " ") != want {
			t.Errorf("the audit records of %s: %q; want %q (backups and gets are not logged)", sc, strings.Join(got, " "), want)
		}
		var all []audit.Record
		json.Unmarshal([]byte(must(t, "audit", "--since", "1h", "-o", "json")), &all)
		raw, _ := json.Marshal(all)
		for _, secret := range []string{passphrase, "s3cr3t"} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("the audit log holds %q", secret)
			}
		}
		// sh was restored twice and refused five archives; restore sh --as
		// cp is recorded under cp.
		byExit := map[int]int{}
		for _, r := range all {
			if r.Command == "restore" && r.Tenant == sh {
				byExit[r.ExitCode]++
			}
		}
		if byExit[0] != 2 || byExit[2] != 5 || len(byExit) != 2 {
			t.Errorf("restore records of %s by exit code: %v; want 2 ok and 5 refused", sh, byExit)
		}
		if recs := s.records(cp); len(recs) != 1 || recs[0].Command != "restore" {
			t.Errorf("the records of %s: %+v; want the one restore that created it", cp, recs)
		}
	})
}

// reencrypt decrypts an archive with the suite's passphrase, changes its
// manifest with f (keeping the trailer bound to it) and encrypts it again:
// a well-formed archive that says what f says.
func reencrypt(t *testing.T, archive []byte, f func(map[string]any)) []byte {
	t.Helper()
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := age.Decrypt(bytes.NewReader(archive), id)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(dec)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out bytes.Buffer
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(10)
	enc, _ := age.Encrypt(&out, r)
	gw := gzip.NewWriter(enc)
	tw := tar.NewWriter(gw)
	var manifestSum string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		switch h.Name {
		case "manifest.json", "trailer.json":
			var m map[string]any
			json.Unmarshal(b, &m)
			if h.Name == "manifest.json" {
				f(m)
			} else {
				m["manifestSha256"] = manifestSum
			}
			b, _ = json.MarshalIndent(m, "", "  ")
			if h.Name == "manifest.json" {
				s := sha256.Sum256(b)
				manifestSum = hex.EncodeToString(s[:])
			}
		}
		h.Size = int64(len(b))
		tw.WriteHeader(h)
		tw.Write(b)
	}
	tw.Close()
	gw.Close()
	enc.Close()
	return out.Bytes()
}
