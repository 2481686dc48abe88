//go:build integration

package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tenantstack/tenantstack/internal/backup"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

// BenchmarkBackup backs up and restores a tenant holding BENCH_ROWS rows
// (default 1,000,000: a fifth accounts, three fifths transactions, a fifth
// events) on each tier, while the tenant's application writes and reads
// through PgBouncer. It prints the backup and restore times, the archive's
// size, and the longest write the application saw during the backup next
// to the longest it saw for as long before it (the baseline). It prints
// figures and asserts none. Run it with `make bench-backup`.
func BenchmarkBackup(b *testing.B) {
	env := testenv.Platform(b)
	ctx := context.Background()
	rows := 1_000_000
	if v := os.Getenv("BENCH_ROWS"); v != "" {
		var err error
		if rows, err = strconv.Atoi(v); err != nil || rows < 5 {
			b.Fatalf("BENCH_ROWS=%q: want a number of at least 5", v)
		}
	}
	dir := b.TempDir()
	migrations := filepath.Join(dir, "migrations")
	os.MkdirAll(migrations, 0o755)
	testenv.CopyLedger(b, migrations, "0001_currencies.up.sql", "0001_currencies.down.sql", "0002_accounts.sql", "0003_transactions.sql")
	if err := os.WriteFile(filepath.Join(migrations, "0004_events.sql"), []byte(eventsMigration), 0o644); err != nil {
		b.Fatal(err)
	}
	keyFile := filepath.Join(dir, "backup.pass")
	if err := os.WriteFile(keyFile, []byte("bench passphrase, not a secret\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	bucket := "file://" + filepath.Join(dir, "archives")
	testenv.MustTenantctl(b, "platform", "up", "--migrations", migrations)
	testenv.MustTenantctl(b, "migrate", "up", "--yes")

	for _, tier := range tenantspec.Tiers() {
		name := "bb-" + string(tier)
		testenv.MustTenantctl(b, "create", name, "--tier", string(tier))
		t0 := time.Now()
		seed(b, env, name, tier, rows)
		fmt.Printf("backup-bench: %s: seeded %d rows on the %s tier in %.1fs\n", name, rows, tier, time.Since(t0).Seconds())

		credentials := func() (tenantspec.Credentials, error) {
			out, errOut, code := testenv.Tenantctl(b, "credentials", name, "-o", "json")
			if code != 0 {
				return tenantspec.Credentials{}, fmt.Errorf("tenantctl credentials %s: exit %d: %s", name, code, errOut)
			}
			var c tenantspec.Credentials
			return c, json.Unmarshal([]byte(out), &c)
		}

		// The baseline: the application alone, for about as long as the
		// backup takes (measured after the backup, see below).
		app := &testenv.App{Tenant: name, Amount: 3, Prefix: "bench-", Credentials: credentials}
		if err := app.Start(ctx); err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Second)
		began := time.Now()
		out := testenv.MustTenantctl(b, "backup", name, "--to", bucket, "--key-file", keyFile, "-o", "json")
		took := time.Since(began)
		time.Sleep(500 * time.Millisecond)
		during := app.Stop()
		var r backup.Result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			b.Fatalf("backup's report %q: %v", out, err)
		}

		base := &testenv.App{Tenant: name, Amount: 3, Prefix: "base-", Credentials: credentials}
		if err := base.Start(ctx); err != nil {
			b.Fatal(err)
		}
		time.Sleep(took + 1500*time.Millisecond)
		baseline := base.Stop()

		r0 := time.Now()
		rout := testenv.MustTenantctl(b, "restore", name, "--from", bucket, "--key-file", keyFile, "--yes", "-o", "json")
		restored := time.Since(r0)
		var rr fleet.RestoreReport
		if err := json.Unmarshal([]byte(rout), &rr); err != nil || rr.RestoreResult == nil {
			b.Fatalf("restore's report %q: %v", rout, err)
		}
		var back int64
		for _, t := range rr.Tables {
			back += t.Rows
		}

		fmt.Printf("backup-bench: %s tier: backup of %d rows in %.2fs (command), archive %d bytes (%.1f MiB, %.1f bytes/row), %d Redis keys\n",
			tier, r.Rows, took.Seconds(), r.Bytes, float64(r.Bytes)/(1<<20), float64(r.Bytes)/float64(max(r.Rows, 1)), r.Redis)
		fmt.Printf("backup-bench: %s tier: restore of %d rows in %.2fs (command, checks the whole archive first, then loads, replaces and verifies)\n",
			tier, back, restored.Seconds())
		fmt.Printf("backup-bench: %s tier: the tenant's writes during its backup: %d, longest %s, failed %d; without a backup: %d, longest %s\n",
			tier, len(during.Written), during.LongestWrite.Round(time.Millisecond), len(during.WriteErrors),
			len(baseline.Written), baseline.LongestWrite.Round(time.Millisecond))
		for _, e := range append(during.WriteErrors, during.ReadErrors...) {
			fmt.Printf("backup-bench: failure: %s\n", e)
		}
		testenv.MustTenantctl(b, "delete", name, "--yes")
	}
}
