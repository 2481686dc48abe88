package usage

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestWritePrometheus(t *testing.T) {
	reps := []Report{{Tenant: `ac"me`, Tier: "shared",
		Postgres:   PostgresUsage{Bytes: 1024, Rows: 3, Connections: 2, ConnectionLimit: 10},
		Redis:      RedisUsage{Keys: 4, MemoryBytes: 256},
		Kubernetes: []QuotaUsage{{Resource: "pods", Used: "1", Hard: "10", UsedN: 1, HardN: 10}}}}
	var b bytes.Buffer
	if err := WritePrometheus(&b, reps); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# TYPE tenantstack_tenant_postgres_bytes gauge\n",
		`tenantstack_tenant_postgres_bytes{tenant="ac\"me",tier="shared"} 1024` + "\n",
		`tenantstack_tenant_postgres_connection_limit{tenant="ac\"me",tier="shared"} 10` + "\n",
		`tenantstack_tenant_redis_memory_bytes{tenant="ac\"me",tier="shared"} 256` + "\n",
		`tenantstack_tenant_quota_used{tenant="ac\"me",tier="shared",resource="pods"} 1` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks %q:\n%s", want, out)
		}
	}
	// promtool parses it as Prometheus would.
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not found (Debian package prometheus)")
	}
	f := filepath.Join(t.TempDir(), "usage.prom")
	if err := os.WriteFile(f, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = bytes.NewReader(b.Bytes())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestEscapeGlob(t *testing.T) {
	if got := escapeGlob("t:a*b?[c]:"); got != `t:a\*b\?\[c\]:` {
		t.Fatalf("escapeGlob = %q", got)
	}
}
