package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/engine"
)

func TestValidateSpec(t *testing.T) {
	cases := []struct {
		name    string
		spec    Spec
		wantErr string
	}{
		{name: "defaults filled", spec: Spec{Name: "acme", Tier: "shared"}},
		{name: "uppercase", spec: Spec{Name: "Acme", Tier: "shared"}, wantErr: "uppercase"},
		{name: "reserved", spec: Spec{Name: "postgres", Tier: "shared"}, wantErr: "reserved"},
		{name: "unknown tier", spec: Spec{Name: "acme", Tier: "gold"}, wantErr: "gold"},
		{name: "negative connection limit", spec: Spec{Name: "acme", Tier: "schema", ConnectionLimit: -1}, wantErr: "connection limit"},
		{name: "negative pods", spec: Spec{Name: "acme", Tier: "schema", Quota: Quota{Pods: -2}}, wantErr: "negative"},
		{name: "workload without image", spec: Spec{Name: "acme", Tier: "database", Workload: &Workload{}}, wantErr: "image"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.spec
			err := ValidateSpec(&s)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if s.ConnectionLimit != 20 {
					t.Errorf("connection limit default = %d, want 20", s.ConnectionLimit)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want one mentioning %q", err, tc.wantErr)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid (exit code 2)", err)
			}
		})
	}
}

func TestCredentialsFor(t *testing.T) {
	p := &Platform{PostgresHost: "127.0.0.1", PostgresPort: 5432, PoolerHost: "127.0.0.1", PoolerPort: 6432,
		Database: "platform", RedisHost: "127.0.0.1", RedisPort: 6379}
	pw := "p@ss:/?#word"
	cases := []struct {
		tier, db, schema string
	}{
		{"shared", "platform", "app"},
		{"schema", "platform", "tenant_acme_co"},
		{"database", "tenant_acme_co", "public"},
	}
	for _, tc := range cases {
		t.Run(tc.tier, func(t *testing.T) {
			c := credentialsFor(Spec{Name: "acme-co", Tier: tc.tier}, p, pw, "r")
			if c.Postgres.Database != tc.db || c.Postgres.Schema != tc.schema {
				t.Errorf("database/schema = %s/%s, want %s/%s", c.Postgres.Database, c.Postgres.Schema, tc.db, tc.schema)
			}
			want := "postgres://tenant_acme_co:p%40ss%3A%2F%3F%23word@127.0.0.1:5432/" + tc.db
			if c.Postgres.URL != want {
				t.Errorf("url = %s, want %s", c.Postgres.URL, want)
			}
			if !strings.Contains(c.Postgres.PoolerURL, "@127.0.0.1:6432/") {
				t.Errorf("pooler url %s does not go through port 6432", c.Postgres.PoolerURL)
			}
			if c.Redis.Username != "tenant-acme-co" || c.Redis.KeyPrefix != "t:acme-co:" || c.Kubernetes.Namespace != "tenant-acme-co" {
				t.Errorf("names: %+v %+v", c.Redis, c.Kubernetes)
			}
		})
	}
}

func TestCredentialsJSONShape(t *testing.T) {
	c := credentialsFor(Spec{Name: "acme", Tier: "shared"}, &Platform{PostgresHost: "h", PostgresPort: 1, PoolerHost: "h", PoolerPort: 2, Database: "platform", RedisHost: "h", RedisPort: 3}, "a", "b")
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	for key, fields := range map[string][]string{
		"postgres":   {"host", "port", "database", "schema", "user", "password", "url", "pooler_url"},
		"redis":      {"host", "port", "username", "password", "key_prefix", "channel_prefix"},
		"kubernetes": {"namespace", "service_account"},
	} {
		obj, ok := generic[key].(map[string]any)
		if !ok {
			t.Fatalf("no %q object in %s", key, b)
		}
		for _, f := range fields {
			if _, ok := obj[f]; !ok {
				t.Errorf("%s.%s missing in %s", key, f, b)
			}
		}
	}
	if generic["tenant"] != "acme" || generic["tier"] != "shared" {
		t.Errorf("tenant/tier wrong in %s", b)
	}
}

func TestOrderForRemoval(t *testing.T) {
	op := func(typ string) pendingOp {
		var o pendingOp
		o.Resource.Type = typ
		return o
	}
	got := orderForRemoval([]pendingOp{
		op("tenantstack:postgres:Role"), op("kubernetes:core/v1:Namespace"),
		op("tenantstack:postgres:Database"), op("tenantstack:postgres:TenantRegistration"),
	})
	var types []string
	for _, o := range got {
		types = append(types, o.Resource.Type)
	}
	// Types with nothing to remove keep their place among the first.
	want := "kubernetes:core/v1:Namespace,tenantstack:postgres:TenantRegistration,tenantstack:postgres:Database,tenantstack:postgres:Role"
	if strings.Join(types, ",") != want {
		t.Errorf("order = %v, want registrations first and roles last", types)
	}
}

func TestClearStaleLocks(t *testing.T) {
	root := t.TempDir()
	host, _ := os.Hostname()
	s := &Service{eng: &engine.Engine{BackendURL: "file://" + root}}
	dir := filepath.Join(root, ".pulumi", "locks", "organization", TenantProject, "local-acme")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name string, pid int, hostname string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(fmt.Sprintf(`{"pid":%d,"hostname":%q}`, pid, hostname)), 0o600)
		return p
	}
	dead := write("dead.json", 1<<22+12345, host)          // beyond pid_max: never running
	other := write("other.json", 1<<22+12345, "elsewhere") // another host's lock is never ours to judge
	self := write("self.json", os.Getpid(), host)          // a live process that is not pulumi...
	if err := s.clearStaleLocks("local-acme", io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the lock of a dead process was kept")
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another host's lock was removed")
	}
	// ...is not a pulumi process either, so its lock is stale too.
	if _, err := os.Stat(self); !os.IsNotExist(err) {
		t.Errorf("a lock whose pid is not a pulumi process was kept")
	}
}
