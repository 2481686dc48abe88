package postgres

import (
	"strings"
	"testing"
)

// TestContractSteps holds the contract's invariants that the provider's
// Migration and the isolation probes rely on.
func TestContractSteps(t *testing.T) {
	steps := ContractSteps()
	for i, s := range steps {
		if s.Version != i+1 {
			t.Fatalf("step %d has version %d; versions must stay 1..n in order", i, s.Version)
		}
	}
	all := ""
	for _, s := range steps {
		all += s.SQL
	}
	for _, must := range []string{
		"SECURITY DEFINER", "SET search_path = pg_catalog, pg_temp", "session_user",
		"FORCE ROW LEVEL SECURITY", "WITH CHECK", "REVOKE ALL ON SCHEMA app FROM PUBLIC",
		"REVOKE ALL ON TABLE app.tenants FROM app_tenant", "REVOKE ALL ON FUNCTION app.enable_tenant_isolation",
	} {
		if !strings.Contains(all, must) {
			t.Errorf("contract lacks %q", must)
		}
	}
	for _, never := range []string{"current_setting", "set_config", "current_user"} {
		if strings.Contains(all, never) {
			t.Errorf("contract reads a client-settable or SET ROLE-dependent value: %q", never)
		}
	}
}
