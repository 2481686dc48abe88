//go:build integration

package probe_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/retry"

	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/probe"
)

// wantFailure is a probe a weakening must make fail, and what its detail
// must say. Target "other" stands for tenant B.
type wantFailure struct {
	layer, name, target, detail string
}

// weakening is a deliberate hole in the isolation between tenants A and B.
type weakening struct {
	name            string
	selfTier, bTier string
	copySharedTable bool // weaken a private copy of the shared table, probed instead of app.isolation_probe
	weaken          func(t *testing.T, p *platform, a, b fleet.Credentials, table string)
	want            []wantFailure
	selfCheckBroken bool // the weakening locks A out of its own data rather than leaking B's
}

func sql(db func(a, b fleet.Credentials) string, stmts ...func(a, b fleet.Credentials, table string) string) func(*testing.T, *platform, fleet.Credentials, fleet.Credentials, string) {
	return func(t *testing.T, p *platform, a, b fleet.Credentials, table string) {
		t.Helper()
		qs := make([]string, len(stmts))
		for i, s := range stmts {
			qs[i] = s(a, b, table)
		}
		p.mustExec(t, db(a, b), qs...)
	}
}

func platformDB(a, b fleet.Credentials) string { return "" }

func redisACL(rules ...string) func(*testing.T, *platform, fleet.Credentials, fleet.Credentials, string) {
	return func(t *testing.T, p *platform, a, b fleet.Credentials, table string) {
		t.Helper()
		args := []any{"ACL", "SETUSER", a.Redis.Username}
		for _, r := range rules {
			args = append(args, r)
		}
		p.redis(t, args...)
	}
}

// bindInB binds roleRef to A's service account in B's namespace.
func bindInB(kind, name string, rules []map[string]any) func(*testing.T, *platform, fleet.Credentials, fleet.Credentials, string) {
	return func(t *testing.T, p *platform, a, b fleet.Credentials, table string) {
		t.Helper()
		ns := b.Kubernetes.Namespace
		if rules != nil {
			p.kubeApply(t, http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/namespaces/"+ns+"/roles", map[string]any{
				"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": map[string]any{"name": name}, "rules": rules,
			})
		}
		p.kubeApply(t, http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/namespaces/"+ns+"/rolebindings", map[string]any{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": map[string]any{"name": "leak-" + name},
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name},
			"subjects": []map[string]any{{"kind": "ServiceAccount", "name": a.Kubernetes.ServiceAccount, "namespace": a.Kubernetes.Namespace}},
		})
	}
}

var weakenings = []weakening{
	{
		name: "B's login role granted to A", selfTier: "shared", bTier: "shared",
		weaken: sql(platformDB, func(a, b fleet.Credentials, _ string) string {
			return "GRANT " + b.Postgres.User + " TO " + a.Postgres.User
		}),
		want: []wantFailure{
			{probe.LayerPostgres, "membership in other tenant's roles", "other", "is a member of"},
			{probe.LayerPostgres, "set role to other tenant", "other", "can SET ROLE"},
			{probe.LayerPgBouncer, "set role to other tenant", "other", "can SET ROLE"},
		},
	},
	{
		name: "B's schema owner granted to A", selfTier: "shared", bTier: "schema",
		weaken: sql(platformDB, func(a, b fleet.Credentials, _ string) string {
			return "GRANT " + b.Postgres.User + "_owner TO " + a.Postgres.User
		}),
		want: []wantFailure{
			{probe.LayerPostgres, "membership in other tenant's roles", "other", "_owner"},
			{probe.LayerPostgres, "set role to other tenant", "other", "_owner"},
		},
	},
	{
		name: "A has BYPASSRLS", selfTier: "shared", bTier: "shared",
		weaken: sql(platformDB, func(a, _ fleet.Credentials, _ string) string { return "ALTER ROLE " + a.Postgres.User + " BYPASSRLS" }),
		want: []wantFailure{
			{probe.LayerPostgres, "role attributes", "", "has BYPASSRLS"},
			{probe.LayerPostgres, "read other tenant's rows", "other", "rows of tenant"},
			{probe.LayerPgBouncer, "read other tenant's rows", "other", "rows of tenant"},
			{probe.LayerPostgres, "insert row as other tenant", "other", "inserted a row with tenant_id"},
		},
	},
	{
		name: "A member of pg_read_all_data", selfTier: "schema", bTier: "schema",
		weaken: sql(platformDB, func(a, _ fleet.Credentials, _ string) string { return "GRANT pg_read_all_data TO " + a.Postgres.User }),
		want: []wantFailure{
			{probe.LayerPostgres, "privileged role membership", "", "pg_read_all_data"},
			{probe.LayerPostgres, "use other tenant's schema", "other", "rows of tenant"},
		},
	},
	{
		name: "tenant policy dropped", selfTier: "shared", bTier: "shared", copySharedTable: true,
		weaken: sql(platformDB, func(_, _ fleet.Credentials, table string) string { return "DROP POLICY tenant_isolation ON " + table }),
		want: []wantFailure{
			{probe.LayerPostgres, "row-level security on shared tables", "", "no policy for all commands keyed on app.current_tenant()"},
			{probe.LayerPostgres, "use own data", "", "of its own rows"},
		},
	},
	{
		name: "row-level security not forced", selfTier: "shared", bTier: "shared", copySharedTable: true,
		weaken: sql(platformDB, func(_, _ fleet.Credentials, table string) string {
			return "ALTER TABLE " + table + " NO FORCE ROW LEVEL SECURITY"
		}),
		want: []wantFailure{
			{probe.LayerPostgres, "row-level security on shared tables", "", "not forced"},
		},
	},
	{
		name: "row-level security disabled", selfTier: "shared", bTier: "shared", copySharedTable: true,
		weaken: sql(platformDB, func(_, _ fleet.Credentials, table string) string {
			return "ALTER TABLE " + table + " DISABLE ROW LEVEL SECURITY"
		}),
		want: []wantFailure{
			{probe.LayerPostgres, "row-level security on shared tables", "", "row-level security is disabled"},
			{probe.LayerPostgres, "read other tenant's rows", "other", "rows of tenant"},
			{probe.LayerPgBouncer, "read other tenant's rows", "other", "rows of tenant"},
			{probe.LayerPostgres, "insert row as other tenant", "other", "inserted a row with tenant_id"},
			{probe.LayerPostgres, "move own row to other tenant", "other", "changed the tenant_id of its row"},
		},
	},
	{
		name: "permissive policy USING (true) added", selfTier: "shared", bTier: "shared", copySharedTable: true,
		weaken: sql(platformDB, func(_, _ fleet.Credentials, table string) string {
			return "CREATE POLICY open ON " + table + " FOR SELECT USING (true)"
		}),
		want: []wantFailure{
			{probe.LayerPostgres, "row-level security on shared tables", "", "permissive policy open"},
			{probe.LayerPostgres, "read other tenant's rows", "other", "rows of tenant"},
			{probe.LayerPostgres, "spoof tenant with settings", "other", "rows of tenant"},
		},
	},
	{
		name: "A granted USAGE and SELECT on B's schema", selfTier: "schema", bTier: "schema",
		weaken: sql(platformDB,
			func(a, b fleet.Credentials, _ string) string {
				return "GRANT USAGE ON SCHEMA " + b.Postgres.Schema + " TO " + a.Postgres.User
			},
			// Default privileges, so the table the probe seeds later is covered.
			func(a, b fleet.Credentials, _ string) string {
				return "ALTER DEFAULT PRIVILEGES FOR ROLE " + b.Postgres.User + "_owner IN SCHEMA " + b.Postgres.Schema + " GRANT SELECT ON TABLES TO " + a.Postgres.User
			}),
		want: []wantFailure{
			{probe.LayerPostgres, "use other tenant's schema", "other", "rows of tenant"},
			{probe.LayerPgBouncer, "use other tenant's schema", "other", "rows of tenant"},
		},
	},
	{
		name: "CONNECT on B's database granted to PUBLIC", selfTier: "shared", bTier: "database",
		weaken: sql(platformDB, func(_, b fleet.Credentials, _ string) string {
			return "GRANT CONNECT ON DATABASE " + b.Postgres.Database + " TO PUBLIC"
		}),
		want: []wantFailure{
			{probe.LayerPostgres, "connect to other tenant's database", "other", "connected to database"},
		},
	},
	{
		name: "Redis ACL ~* for A", selfTier: "shared", bTier: "shared",
		weaken: redisACL("~*"),
		want: []wantFailure{
			{probe.LayerRedis, "read other tenant's keys", "other", "and got \"marker of"},
			{probe.LayerRedis, "write other tenant's keys", "other", "overwrote"},
			{probe.LayerRedis, "delete other tenant's keys", "other", "ran DEL"},
			{probe.LayerRedis, "sort by other tenant's keys", "other", "ran SORT"},
		},
	},
	{
		name: "Redis ACL +keys for A", selfTier: "schema", bTier: "schema",
		weaken: redisACL("+keys"),
		want: []wantFailure{
			{probe.LayerRedis, "command KEYS *", "", "ran KEYS *"},
		},
	},
	{
		name: "Redis ACL +flushall for A", selfTier: "schema", bTier: "schema",
		weaken: redisACL("+flushall"),
		want: []wantFailure{
			{probe.LayerRedis, "command FLUSHALL", "", "may run FLUSHALL (ACL DRYRUN says OK; not run)"},
		},
	},
	{
		name: "Redis ACL allchannels for A", selfTier: "database", bTier: "database",
		weaken: redisACL("allchannels", "+psubscribe"),
		want: []wantFailure{
			{probe.LayerRedis, "subscribe to other tenant's channel", "other", "subscribed to tenant"},
			{probe.LayerRedis, "publish to other tenant's channel", "other", "published to tenant"},
			{probe.LayerRedis, "command PSUBSCRIBE *", "", "ran PSUBSCRIBE *"},
		},
	},
	{
		name: "cluster-admin bound to A in B's namespace", selfTier: "shared", bTier: "schema",
		weaken: bindInB("ClusterRole", "cluster-admin", nil),
		want: []wantFailure{
			{probe.LayerKubernetes, "read other tenant's secrets", "other", "cluster-admin"},
			{probe.LayerKubernetes, "run in other tenant's namespace", "other", "may create pods in namespace"},
		},
	},
	{
		name: "Role with * bound to A in B's namespace", selfTier: "database", bTier: "shared",
		weaken: bindInB("Role", "everything", []map[string]any{{"apiGroups": []string{"*"}, "resources": []string{"*"}, "verbs": []string{"*"}}}),
		want: []wantFailure{
			{probe.LayerKubernetes, "read other tenant's secrets", "other", "may get secrets in namespace"},
			{probe.LayerKubernetes, "read other tenant's configmaps", "other", "may get configmaps in namespace"},
			{probe.LayerKubernetes, "read other tenant's pods", "other", "may get pods in namespace"},
		},
	},
	{
		name: "A may write RoleBindings and NetworkPolicies in its own namespace", selfTier: "shared", bTier: "shared",
		weaken: func(t *testing.T, p *platform, a, _ fleet.Credentials, _ string) {
			t.Helper()
			ns := a.Kubernetes.Namespace
			p.kubeApply(t, http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/namespaces/"+ns+"/roles", map[string]any{
				"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": map[string]any{"name": "too-much"},
				"rules": []map[string]any{
					{"apiGroups": []string{"rbac.authorization.k8s.io"}, "resources": []string{"rolebindings"}, "verbs": []string{"create"}},
					{"apiGroups": []string{"networking.k8s.io"}, "resources": []string{"networkpolicies"}, "verbs": []string{"delete"}},
				},
			})
			p.kubeApply(t, http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/namespaces/"+ns+"/rolebindings", map[string]any{
				"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": map[string]any{"name": "too-much"},
				"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "too-much"},
				"subjects": []map[string]any{{"kind": "ServiceAccount", "name": a.Kubernetes.ServiceAccount, "namespace": ns}},
			})
		},
		want: []wantFailure{
			{probe.LayerKubernetes, "escalate with RBAC", "", "may create rolebindings"},
			{probe.LayerKubernetes, "weaken own guardrails", "", "may delete networkpolicies"},
		},
	},
	// Self checks: a tenant locked out of its own data fails verify even
	// though every attack on B is refused.
	{
		name: "A no longer in app_tenant", selfTier: "shared", bTier: "shared", selfCheckBroken: true,
		weaken: sql(platformDB, func(a, _ fleet.Credentials, _ string) string { return "REVOKE app_tenant FROM " + a.Postgres.User }),
		want: []wantFailure{
			{probe.LayerPostgres, "use own data", "", "cannot call app.current_tenant()"},
			{probe.LayerPgBouncer, "use own data", "", "cannot call app.current_tenant()"},
		},
	},
	{
		name: "A's Redis keys reset", selfTier: "shared", bTier: "shared", selfCheckBroken: true,
		weaken: redisACL("resetkeys"),
		want: []wantFailure{
			{probe.LayerRedis, "use own keys", "", "cannot SET its own key"},
		},
	},
	{
		name: "A's RoleBinding deleted", selfTier: "shared", bTier: "shared", selfCheckBroken: true,
		weaken: func(t *testing.T, p *platform, a, _ fleet.Credentials, _ string) {
			t.Helper()
			p.kubeApply(t, http.MethodDelete, "/apis/rbac.authorization.k8s.io/v1/namespaces/"+a.Kubernetes.Namespace+"/rolebindings/tenant", nil)
		},
		want: []wantFailure{
			{probe.LayerKubernetes, "use own namespace", "", "may not get configmaps"},
		},
	},
}

// TestWeakenedIsolationFailsTheMatchingProbe lays out a fresh pair of
// tenants per weakening, checks they pass every probe, weakens their
// isolation in one way and checks that the matching probes now fail and say
// what leaked.
func TestWeakenedIsolationFailsTheMatchingProbe(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	p.installContract(t)
	for _, w := range weakenings {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			td := newTeardown(t)
			a := p.newTenant(t, td, w.selfTier)
			b := p.newTenant(t, td, w.bTier)
			var opts []probe.Option
			var table string
			if w.copySharedTable {
				table = p.sharedTableCopy(t, td)
				opts = append(opts, probe.WithSharedTable(table))
			}

			before := p.runProbes(t, a, []fleet.Credentials{b}, opts...)
			if !probe.Passed(before) {
				t.Fatalf("before the weakening, probes failed:%s", describe(probe.Failed(before)))
			}
			w.weaken(t, p, a, b, table)

			// The API server's RBAC cache follows bindings within moments.
			retry.DoWithRetry(t, "probing after: "+w.name, 10, time.Second, func() (string, error) {
				after := p.runProbes(t, a, []fleet.Credentials{b}, opts...)
				if probe.Passed(after) {
					return "", fmt.Errorf("every probe still passes after the weakening")
				}
				var problems []string
				for _, want := range w.want {
					target := want.target
					if target == "other" {
						target = b.Tenant
					}
					got, ok := findProbe(after, want.layer, want.name, target)
					switch {
					case !ok:
						problems = append(problems, fmt.Sprintf("probe %s/%q [%s] did not run", want.layer, want.name, target))
					case got.Passed:
						problems = append(problems, fmt.Sprintf("probe %s/%q [%s] still passes: %s", want.layer, want.name, target, got.Detail))
					case !strings.Contains(got.Detail, want.detail):
						problems = append(problems, fmt.Sprintf("probe %s/%q [%s] failed but its detail %q does not say %q",
							want.layer, want.name, target, got.Detail, want.detail))
					case strings.HasPrefix(got.Detail, "could not run the probe"):
						problems = append(problems, fmt.Sprintf("probe %s/%q [%s] failed for want of running, not on a finding: %s",
							want.layer, want.name, target, got.Detail))
					}
				}
				if w.selfCheckBroken {
					// Only self checks fail: every attack on B is still
					// refused, which verify would have passed on its own.
					for _, f := range probe.Failed(after) {
						if f.Target != "" {
							problems = append(problems, fmt.Sprintf("attack probe %s/%q [%s] failed too: %s", f.Layer, f.Name, f.Target, f.Detail))
						}
					}
				}
				if len(problems) > 0 {
					return "", fmt.Errorf("%s\nall failures:%s", strings.Join(problems, "\n"), describe(probe.Failed(after)))
				}
				t.Logf("failed as expected:%s", describe(probe.Failed(after)))
				return "ok", nil
			})
		})
	}
}
