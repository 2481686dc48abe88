//go:build integration

package devplatform

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/components/tenant"
)

// TestRestartAfterPlatformStack runs what a new user does on the second day:
// dev up, platform up, a tenant, dev down, dev up. The platform stack revokes
// privileges from PUBLIC (CONNECT on "postgres" among them), and the local
// platform must start again whatever it did; the tenant then still logs in
// through PgBouncer and its isolation probes pass.
func TestRestartAfterPlatformStack(t *testing.T) {
	t.Parallel()
	p := startPlatform(t)
	p.mustRun("platform", "up")
	name := "restart-" + uniqueID(t)
	p.mustRun("create", name, "--tier", "shared")
	t.Cleanup(func() {
		if r := p.run("delete", name, "--yes"); r.code != 0 {
			t.Logf("cleanup: delete %s: exit %d: %s", name, r.code, r.stderr)
		}
	})

	p.mustRun("dev", "down")
	if left := p.processes(); len(left) > 0 {
		t.Fatalf("processes left after down: %v", left)
	}
	r := p.run("dev", "up")
	if r.code != 0 {
		t.Fatalf("dev up after dev down, with the platform stack applied: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "pgbouncer: ready") {
		t.Errorf("dev up did not report pgbouncer ready:\n%s", r.stderr)
	}

	var creds struct {
		Postgres struct {
			PoolerURL string `json:"pooler_url"`
		} `json:"postgres"`
	}
	out := p.mustRun("credentials", name, "-o", "json").stdout
	if err := json.Unmarshal([]byte(out), &creds); err != nil || creds.Postgres.PoolerURL == "" {
		t.Fatalf("credentials %s -o json: %v\n%s", name, err, out)
	}
	conn := pgConnect(t, creds.Postgres.PoolerURL, true)
	var who string
	if err := conn.QueryRow(context.Background(), "SELECT session_user").Scan(&who); err != nil {
		t.Fatalf("tenant query through pgbouncer after restart: %v", err)
	}
	if want := tenant.RoleName(name); who != want {
		t.Errorf("through pgbouncer the tenant ran as %q, want its own role %q", who, want)
	}
	p.mustRun("verify", name)
}
