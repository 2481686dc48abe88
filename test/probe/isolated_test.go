//go:build integration

package probe_test

import (
	"testing"

	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/probe"
)

// TestIsolatedTenantsPassEveryProbe lays out two properly isolated tenants
// per tier and probes each against all the others: every probe passes,
// and every probe that applies to a pair of tiers ran.
func TestIsolatedTenantsPassEveryProbe(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	p.installContract(t)
	td := newTeardown(t)
	var tenants []fleet.Credentials
	for _, tier := range []string{"shared", "schema", "database"} {
		tenants = append(tenants, p.newTenant(t, td, tier), p.newTenant(t, td, tier))
	}

	for i, self := range tenants {
		var others []fleet.Credentials
		for j, o := range tenants {
			if j != i {
				others = append(others, o)
			}
		}
		t.Run(self.Tier+"/"+self.Tenant, func(t *testing.T) {
			probes := p.runProbes(t, self, others)
			t.Logf("%d probes:%s", len(probes), describe(probes))
			if !probe.Passed(probes) {
				t.Errorf("isolated tenant %s (%s) failed probes:%s", self.Tenant, self.Tier, describe(probe.Failed(probes)))
			}
			for _, want := range expectedProbes(self, others) {
				if _, ok := findProbe(probes, want.Layer, want.Name, want.Target); !ok {
					t.Errorf("probe %s/%q against %q did not run; ran:%s", want.Layer, want.Name, want.Target, describe(probes))
				}
			}
		})
	}
}

// expectedProbes lists the probes that must run for self against others,
// so that a suite that silently ran nothing cannot pass.
func expectedProbes(self fleet.Credentials, others []fleet.Credentials) []fleet.Probe {
	want := []fleet.Probe{
		{Layer: probe.LayerPostgres, Name: "role attributes"},
		{Layer: probe.LayerPostgres, Name: "privileged role membership"},
		{Layer: probe.LayerRedis, Name: "use own keys"},
		{Layer: probe.LayerRedis, Name: "log in without a password"},
		{Layer: probe.LayerRedis, Name: "command KEYS *"},
		{Layer: probe.LayerRedis, Name: "command FLUSHALL"},
		{Layer: probe.LayerKubernetes, Name: "use own namespace"},
		{Layer: probe.LayerKubernetes, Name: "read cluster-scoped resources"},
		{Layer: probe.LayerKubernetes, Name: "escalate with RBAC"},
		{Layer: probe.LayerKubernetes, Name: "weaken own guardrails"},
	}
	for _, layer := range []string{probe.LayerPostgres, probe.LayerPgBouncer} {
		want = append(want, fleet.Probe{Layer: layer, Name: "use own data"}, fleet.Probe{Layer: layer, Name: "read the tenant registry"})
	}
	for _, b := range others {
		want = append(want,
			fleet.Probe{Layer: probe.LayerPostgres, Name: "membership in other tenant's roles", Target: b.Tenant},
			fleet.Probe{Layer: probe.LayerRedis, Name: "read other tenant's keys", Target: b.Tenant},
			fleet.Probe{Layer: probe.LayerRedis, Name: "write other tenant's keys", Target: b.Tenant},
			fleet.Probe{Layer: probe.LayerRedis, Name: "subscribe to other tenant's channel", Target: b.Tenant},
			fleet.Probe{Layer: probe.LayerKubernetes, Name: "read other tenant's secrets", Target: b.Tenant},
		)
		for _, layer := range []string{probe.LayerPostgres, probe.LayerPgBouncer} {
			want = append(want,
				fleet.Probe{Layer: layer, Name: "set role to other tenant", Target: b.Tenant},
				fleet.Probe{Layer: layer, Name: "set session authorization to other tenant", Target: b.Tenant})
			switch b.Tier {
			case "shared":
				for _, name := range []string{"read other tenant's rows", "insert row as other tenant", "move own row to other tenant",
					"read with row_security off", "spoof tenant with settings"} {
					want = append(want, fleet.Probe{Layer: layer, Name: name, Target: b.Tenant})
				}
			case "schema":
				want = append(want, fleet.Probe{Layer: layer, Name: "use other tenant's schema", Target: b.Tenant})
			case "database":
				want = append(want, fleet.Probe{Layer: layer, Name: "connect to other tenant's database", Target: b.Tenant})
			}
		}
	}
	return want
}
