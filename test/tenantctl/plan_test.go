//go:build integration

package tenantctl_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

func plans(t *testing.T, out string) []fleet.Plan {
	t.Helper()
	var ps []fleet.Plan
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		t.Fatalf("not a JSON list of plans: %v\n%s", err, out)
	}
	return ps
}

// hasChange reports whether p changes a resource of a type ending in typ
// with op.
func hasChange(p fleet.Plan, op, typ string) bool {
	for _, c := range p.Changes {
		if c.Op == op && strings.HasSuffix(c.Type, typ) {
			return true
		}
	}
	return false
}

// TestPlanBeforeChange previews a create, an update, a fleet file and a
// move against the live platform and checks that each changed nothing;
// then changes a tenant's role by hand and checks that drift reports it
// with exit 7 until --reconcile puts it back.
func TestPlanBeforeChange(t *testing.T) {
	platformUp(t)
	name, other := uniqueName("plan"), uniqueName("plannew")
	t.Cleanup(func() { tenantctl(t, "delete", name, "--yes") })

	// A create's preview lists what it would make, and makes nothing.
	ps := plans(t, mustTenantctl(t, "create", name, "--tier", "schema", "--dry-run", "-o", "json"))
	if len(ps) != 1 || ps[0].Action != fleet.PlanCreate || !hasChange(ps[0], "create", ":Role") || !hasChange(ps[0], "create", ":Namespace") {
		t.Fatalf("create --dry-run planned %+v; want a create with a Role and a Namespace", ps)
	}
	if _, _, code := tenantctl(t, "get", name); code != 3 {
		t.Fatalf("get after create --dry-run exited %d, want 3 (not found): the dry run left a tenant", code)
	}

	mustTenantctl(t, "create", name, "--tier", "schema")

	// The same stack run by hand (stacks/tenant) plans no change either.
	home := os.Getenv("TENANTSTACK_HOME")
	pulumi := exec.Command("pulumi", "preview", "--stack", "local-"+name, "--expect-no-changes", "--non-interactive")
	pulumi.Dir = "../../stacks/tenant"
	pulumi.Env = append(os.Environ(), "PULUMI_BACKEND_URL=file://"+home+"/state", "PULUMI_CONFIG_PASSPHRASE_FILE="+home+"/passphrase",
		"PULUMI_HOME="+home+"/pulumi", "PULUMI_SKIP_UPDATE_CHECK=true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true")
	t.Cleanup(func() { os.Remove("../../stacks/tenant/Pulumi.local-" + name + ".yaml") })
	if out, err := pulumi.CombinedOutput(); err != nil {
		t.Errorf("pulumi preview of stacks/tenant by hand after tenantctl create: %v\n%s", err, out)
	}

	// Right after a create the stack matches: its preview changes nothing.
	ps = plans(t, mustTenantctl(t, "update", name, "--reconcile", "--dry-run", "-o", "json"))
	if ps[0].Action != fleet.PlanUnchanged || len(ps[0].Changes) != 0 {
		t.Errorf("update --reconcile --dry-run right after create planned %+v; want no change", ps[0])
	}
	// An update's preview names the quota, and the quota stays.
	ps = plans(t, mustTenantctl(t, "update", name, "--quota", "cpu=3", "--dry-run", "-o", "json"))
	if !hasChange(ps[0], "update", ":ResourceQuota") {
		t.Errorf("update --quota --dry-run planned %+v; want the ResourceQuota updated", ps[0])
	}
	var got fleet.Tenant
	if err := json.Unmarshal([]byte(mustTenantctl(t, "get", name, "-o", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Quota.CPU == "3" {
		t.Errorf("update --dry-run changed the quota: %+v", got.Quota)
	}

	// A fleet file's diff is Markdown naming both tenants; nothing changes.
	file := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(file, []byte("tenants:\n  - {name: "+name+", tier: schema, quota: {cpu: \"3\"}}\n  - {name: "+other+", tier: shared}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	md := mustTenantctl(t, "diff", "-f", file)
	for _, want := range []string{"| " + name + " | update | 0 | 1 |", "| " + other + " | create |", "~ kubernetes:core/v1:ResourceQuota"} {
		if !strings.Contains(md, want) {
			t.Errorf("diff lacks %q:\n%s", want, md)
		}
	}
	if _, _, code := tenantctl(t, "get", other); code != 3 {
		t.Errorf("get %s after diff exited %d, want 3: diff created it", other, code)
	}

	// A move's preview: the schema copy's resources would go, the tenant stays.
	ps = plans(t, mustTenantctl(t, "move", name, "--tier", "shared", "--dry-run", "-o", "json"))
	if ps[0].Action != fleet.PlanMove || len(ps[0].Notes) == 0 {
		t.Errorf("move --dry-run planned %+v; want a move with its phases in the notes", ps[0])
	}
	if err := json.Unmarshal([]byte(mustTenantctl(t, "get", name, "-o", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Tier != "schema" || got.Moving != "" {
		t.Errorf("move --dry-run changed the tenant: tier %s, moving %q", got.Tier, got.Moving)
	}

	// Drift: none, then a connection limit changed by hand is found.
	if out, errOut, code := tenantctl(t, "drift", name); code != 0 {
		t.Fatalf("drift right after create exited %d:\n%s\n%s", code, out, errOut)
	}
	ctx := t.Context()
	admin, err := pgx.Connect(ctx, testenv.Platform(t).Postgres.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	role := tenantspec.RoleName(name)
	if _, err := admin.Exec(ctx, "ALTER ROLE "+pgx.Identifier{role}.Sanitize()+" CONNECTION LIMIT 1"); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := tenantctl(t, "drift", name, "-o", "json")
	if code != 7 {
		t.Fatalf("drift after a change by hand exited %d, want 7:\n%s\n%s", code, out, errOut)
	}
	if ps = plans(t, out); !hasChange(ps[0], "update", ":Role") {
		t.Errorf("drift reported %+v; want the Role updated", ps[0])
	}
	var limit int
	if err := admin.QueryRow(ctx, "SELECT rolconnlimit FROM pg_roles WHERE rolname = $1", role).Scan(&limit); err != nil || limit != 1 {
		t.Errorf("drift changed the live role (limit %d, err %v): it must only read", limit, err)
	}
	mustTenantctl(t, "update", name, "--reconcile")
	if out, errOut, code := tenantctl(t, "drift", name); code != 0 {
		t.Errorf("drift after --reconcile exited %d:\n%s\n%s", code, out, errOut)
	}
}
