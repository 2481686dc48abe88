package tenant

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const standbyPassword = "standby-password-0123456789"

// TestAlternateLoginHasTheSameGrants: the second login role reaches exactly
// what the first does, on every tier, so rotating to it changes nothing the
// application can do.
func TestAlternateLoginHasTheSameGrants(t *testing.T) {
	for _, tier := range Tiers() {
		t.Run(string(tier), func(t *testing.T) {
			rec, _ := mustRun(t, with(validArgs(tier), func(a *TenantStackArgs) { a.AlternateLogin = true }))
			got := grantsOf(t, rec)
			first, second := map[string]grant{}, map[string]grant{}
			for k, g := range got {
				if rest, ok := strings.CutPrefix(k, "alt-"); ok {
					if g.role != "tenant_acme_corp-2" {
						t.Errorf("grant %s is for %q, want tenant_acme_corp-2", k, g.role)
					}
					g.role = ""
					second[rest] = g
					continue
				}
				g.role = ""
				first[k] = g
			}
			if len(first) == 0 || len(first) != len(second) {
				t.Fatalf("first login has %d grants, second %d: %v", len(first), len(second), got)
			}
			for k, g := range first {
				if second[k] != g {
					t.Errorf("grant %s: first %+v, second %+v", k, g, second[k])
				}
			}
			a, b := rec.byName(t, "t-pg-role").Inputs, rec.byName(t, "t-pg-alt-role").Inputs
			for _, prop := range []string{"memberOf", "searchPath"} {
				if strings.Join(strList(t, a, prop), ",") != strings.Join(strList(t, b, prop), ",") {
					t.Errorf("%s differs: %v vs %v", prop, strList(t, a, prop), strList(t, b, prop))
				}
			}
			if numAt(t, a, "connectionLimit") != numAt(t, b, "connectionLimit") {
				t.Errorf("connection limits differ")
			}
			// Without a standby password the second role cannot log in.
			if login, _ := boolAt(t, b, "login"); login {
				t.Errorf("second role logs in without a standby password")
			}
			if pw := str(t, b, "password"); pw != "" {
				t.Errorf("second role has a password %q without a standby password", pw)
			}
			// The registry keeps the first role.
			if r := str(t, rec.ofType(tRegistration)[0].Inputs, "roleName"); r != "tenant_acme_corp" {
				t.Errorf("registration names %q, want tenant_acme_corp", r)
			}
		})
	}
}

// TestRotationSwitch: with PostgresLogin 1 the credentials name the second
// role, the first keeps the standby (old) password and can still log in,
// Redis takes both passwords and the pods get the new revision.
func TestRotationSwitch(t *testing.T) {
	rec, out := mustRun(t, with(validArgs(TierSchema), func(a *TenantStackArgs) {
		a.AlternateLogin = true
		a.PostgresLogin = 1
		a.StandbyPostgresPassword = pulumi.String(standbyPassword)
		a.StandbyRedisPassword = pulumi.String(standbyPassword)
		a.CredentialsRevision = "2026-12-03T12:00:00Z"
		a.Workload = &WorkloadArgs{Image: "registry.example/app:1"}
	}))
	if out.pgUser != "tenant_acme_corp-2" {
		t.Fatalf("PostgresUser = %q, want tenant_acme_corp-2", out.pgUser)
	}
	if !strings.Contains(out.poolerURL, "tenant_acme_corp-2:") {
		t.Fatalf("PoolerURL %q does not name the second role", out.poolerURL)
	}
	first, second := rec.byName(t, "t-pg-role").Inputs, rec.byName(t, "t-pg-alt-role").Inputs
	if str(t, first, "password") != standbyPassword || str(t, second, "password") != pgPassword {
		t.Fatalf("passwords: first %q second %q", str(t, first, "password"), str(t, second, "password"))
	}
	if login, _ := boolAt(t, first, "login"); !login {
		t.Fatal("the old role cannot log in during the grace")
	}
	if _, secret := unwrap(first["password"]); !secret {
		t.Fatal("the standby password is not a secret")
	}
	u := rec.ofType(tACLUser)[0].Inputs
	if str(t, u, "password") != redisPassword || str(t, u, "previousPassword") != standbyPassword {
		t.Fatalf("Redis passwords %q and %q", str(t, u, "password"), str(t, u, "previousPassword"))
	}
	if _, secret := unwrap(u["previousPassword"]); !secret {
		t.Fatal("the Redis standby password is not a secret")
	}
	sec := rec.byName(t, "t-credentials").Inputs
	if got := strMap(t, sec, "stringData")["PGUSER"]; got != "tenant_acme_corp-2" {
		t.Fatalf("Secret PGUSER = %q", got)
	}
	d := rec.byName(t, "t-deployment").Inputs
	if got := str(t, d, "spec", "template", "metadata", "annotations", CredentialsRevisionAnnotation); got != "2026-12-03T12:00:00Z" {
		t.Fatalf("pod template revision = %q", got)
	}
}

// TestSecretWaitsForTheLogin: the credentials Secret depends on the current
// login role and its grants, so no pod reads a login that cannot work yet.
func TestSecretWaitsForTheLogin(t *testing.T) {
	rec, _ := mustRun(t, with(validArgs(TierDatabase), func(a *TenantStackArgs) {
		a.AlternateLogin, a.PostgresLogin = true, 1
		a.StandbyPostgresPassword = pulumi.String(standbyPassword)
	}))
	deps := map[string]bool{}
	for _, d := range rec.byName(t, "t-credentials").RegisterRPC.GetDependencies() {
		deps[d[strings.LastIndex(d, "::")+2:]] = true
	}
	n := 0
	for _, a := range rec.all() {
		if strings.HasPrefix(a.Name, "t-pg-alt-") {
			n++
			if !deps[a.Name] {
				t.Errorf("the Secret does not depend on %s", a.Name)
			}
		}
	}
	if n < 2 {
		t.Fatalf("only %d resources of the second login", n)
	}
}

func TestRotationArgsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(a *TenantStackArgs)
		want   string
	}{
		{"second login without alternate", func(a *TenantStackArgs) { a.PostgresLogin = 1 }, "needs AlternateLogin"},
		{"slot out of range", func(a *TenantStackArgs) { a.AlternateLogin, a.PostgresLogin = true, 2 }, "PostgresLogin 2"},
		{"standby without alternate", func(a *TenantStackArgs) { a.StandbyPostgresPassword = pulumi.String(standbyPassword) }, "needs AlternateLogin"},
		{"short standby", func(a *TenantStackArgs) { a.StandbyRedisPassword = pulumi.String("short") }, "StandbyRedisPassword is 5 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := run(t, with(validArgs(TierShared), tc.change))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestRoleSettingsOnBothLogins: a plan's per-role limits are on each login
// role, so a rotation does not lift them.
func TestRoleSettingsOnBothLogins(t *testing.T) {
	settings := map[string]string{"statement_timeout": "5s", "work_mem": "4MB"}
	rec, _ := mustRun(t, with(validArgs(TierShared), func(a *TenantStackArgs) {
		a.AlternateLogin, a.RoleSettings = true, settings
	}))
	for _, name := range []string{"t-pg-role", "t-pg-alt-role"} {
		got := strMap(t, rec.byName(t, name).Inputs, "settings")
		if len(got) != 2 || got["statement_timeout"] != "5s" || got["work_mem"] != "4MB" {
			t.Errorf("%s settings %v, want %v", name, got, settings)
		}
	}
	_, _, err := run(t, with(validArgs(TierShared), func(a *TenantStackArgs) { a.RoleSettings = map[string]string{"search_path": "x"} }))
	if err == nil || !strings.Contains(err.Error(), `RoleSettings key "search_path"`) {
		t.Errorf("search_path as a setting: %v", err)
	}
}
