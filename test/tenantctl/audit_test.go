//go:build integration

package tenantctl_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tenantstack/tenantstack/internal/audit"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

// TestAuditLog: every mutating verb leaves exactly one record, a refused
// one too; no secret is in it; a tenant cannot read it; nobody can change
// or remove a record.
func TestAuditLog(t *testing.T) {
	platformUp(t)
	env := testenv.Platform(t)
	name := uniqueName("audit")
	records := func() []audit.Record {
		t.Helper()
		var recs []audit.Record
		if err := json.Unmarshal([]byte(mustTenantctl(t, "audit", name, "-o", "json")), &recs); err != nil {
			t.Fatal(err)
		}
		return recs
	}

	if _, _, code := tenantctl(t, "create", name, "--tier", "gold"); code != 2 {
		t.Fatalf("create --tier gold: exit %d, want 2", code)
	}
	mustTenantctl(t, "create", name, "--tier", "schema")
	t.Cleanup(func() { tenantctl(t, "delete", name, "--yes") })
	mustTenantctl(t, "update", name, "--quota", "cpu=3")
	mustTenantctl(t, "suspend", name)
	mustTenantctl(t, "resume", name)
	mustTenantctl(t, "get", name) // reads are not logged

	recs := records()
	var got []string
	for _, r := range recs {
		got = append(got, r.Command+":"+strings.Join(r.Args, " ")+":"+map[bool]string{true: "ok", false: "failed"}[r.ExitCode == 0])
		if r.User == "" || r.Host == "" || r.Backend == "" || r.At.IsZero() || r.Tenant != name {
			t.Errorf("a record lacks who, where or when: %+v", r)
		}
	}
	want := []string{
		"create:create " + name + " --tier gold:failed",
		"create:create " + name + " --tier schema:ok",
		"update:update " + name + " --quota cpu=3:ok",
		"suspend:suspend " + name + ":ok",
		"resume:resume " + name + ":ok",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("audit records\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if recs[0].ExitCode != 2 || !strings.Contains(recs[0].Result, `tier "gold" is unknown`) {
		t.Fatalf("the refused create: %+v", recs[0])
	}

	// A secret passed on the command line is not kept.
	mustTenantctl(t, "platform", "up", "--set", "postgresAdminUrl="+env.Postgres.AdminURL)
	var all []audit.Record
	if err := json.Unmarshal([]byte(mustTenantctl(t, "audit", "--since", "1h", "-o", "json")), &all); err != nil {
		t.Fatal(err)
	}
	u, err := pgx.ParseConfig(env.Postgres.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(all)
	if strings.Contains(string(raw), u.Password) {
		t.Fatal("the audit log holds the admin password")
	}
	if last := all[len(all)-1]; last.Command != "platform up" || !slices.Contains(last.Args, "postgresAdminUrl=[secret]") {
		t.Fatalf("the last record is %+v", last)
	}

	ctx := context.Background()
	c := credentials(t, name)
	tenant, err := pgx.Connect(ctx, c.Postgres.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer tenant.Close(ctx)
	if _, err := tenant.Exec(ctx, `SELECT * FROM tenantstack.audit_log`); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("a tenant reading the audit log: %v", err)
	}
	admin, err := pgx.Connect(ctx, strings.TrimSuffix(env.Postgres.AdminURL, "/postgres")+"/platform")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, q := range []string{`UPDATE tenantstack.audit_log SET result = 'ok'`, `DELETE FROM tenantstack.audit_log`, `TRUNCATE tenantstack.audit_log`} {
		if _, err := admin.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("%s as the admin: %v", q, err)
		}
	}
}
