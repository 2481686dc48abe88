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

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/components/tenant"
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
		{name: "negative connection limit", spec: Spec{Name: "acme", Tier: "schema", ConnectionLimit: -1}, wantErr: "connection_limit"},
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

// echoMocks is a mock resource monitor whose resources echo their inputs.
type echoMocks struct{}

func (echoMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return args.Name + "-id", args.Inputs, nil
}

func (echoMocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("unexpected call %q", args.Token)
}

// TestCredentialsFromComponentOutputs: the credentials a tenant stack
// records are the TenantStack component's own outputs (names, URLs) with the
// passwords passed in and the platform's hosts, on every tier.
func TestCredentialsFromComponentOutputs(t *testing.T) {
	p := &Platform{PostgresHost: "127.0.0.1", PostgresPort: 5432, PoolerHost: "127.0.0.1", PoolerPort: 6432,
		Database: "platform", RedisHost: "127.0.0.1", RedisPort: 6379, EgressCIDRs: []string{"127.0.0.1/32"}}
	pw := "p@ss:/?#word-long-enough"
	cases := []struct {
		tier, db, schema string
	}{
		{"shared", "platform", "app"},
		{"schema", "platform", "tenant_acme_co"},
		{"database", "tenant_acme_co", "public"},
	}
	for _, tc := range cases {
		t.Run(tc.tier, func(t *testing.T) {
			spec := Spec{Name: "acme-co", Tier: tc.tier}
			passwords := Credentials{Postgres: PostgresCredentials{Password: pw}, Redis: RedisCredentials{Password: "redis-password-long"}}
			var got map[string]any
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				c, err := tenant.NewTenantStack(ctx, spec.Name, &tenant.TenantStackArgs{
					TenantID: spec.Name, Tier: tenant.Tier(spec.Tier),
					PostgresProvider: mockProvider(ctx, t, "pg"), RedisProvider: mockProvider(ctx, t, "redis"),
					KubernetesProvider: mockProvider(ctx, t, "k8s"),
					Platform: tenant.PlatformEndpoints{PostgresHost: p.PostgresHost, PostgresPort: p.PostgresPort,
						PoolerHost: p.PoolerHost, PoolerPort: p.PoolerPort, PlatformDatabase: p.Database,
						RedisHost: p.RedisHost, RedisPort: p.RedisPort, EgressCIDRs: p.EgressCIDRs},
					PostgresPassword: pulumi.String(pw), RedisPassword: pulumi.String("redis-password-long"),
				})
				if err != nil {
					return err
				}
				credentialsOutput(c, spec, p, passwords).ApplyT(func(v map[string]any) any {
					got = v
					return nil
				})
				return nil
			}, pulumi.WithMocks("tenant", "local-acme-co", echoMocks{}))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(got)
			var c Credentials
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if c.Postgres.Database != tc.db || c.Postgres.Schema != tc.schema {
				t.Errorf("database/schema = %s/%s, want %s/%s", c.Postgres.Database, c.Postgres.Schema, tc.db, tc.schema)
			}
			want := "postgres://tenant_acme_co:p%40ss%3A%2F%3F%23word-long-enough@127.0.0.1:5432/" + tc.db
			if c.Postgres.URL != want || c.Postgres.User != "tenant_acme_co" || c.Postgres.Password != pw {
				t.Errorf("postgres = %+v, want url %s", c.Postgres, want)
			}
			if !strings.Contains(c.Postgres.PoolerURL, "@127.0.0.1:6432/") {
				t.Errorf("pooler url %s does not go through port 6432", c.Postgres.PoolerURL)
			}
			if c.Redis.Username != "tenant-acme-co" || c.Redis.KeyPrefix != "t:acme-co:" || c.Redis.Port != 6379 ||
				c.Kubernetes.Namespace != "tenant-acme-co" || c.Kubernetes.ServiceAccount != "app" {
				t.Errorf("names: %+v %+v", c.Redis, c.Kubernetes)
			}
			if c.Tenant != "acme-co" || c.Tier != tc.tier {
				t.Errorf("tenant/tier = %s/%s", c.Tenant, c.Tier)
			}
		})
	}
}

func mockProvider(ctx *pulumi.Context, t *testing.T, name string) pulumi.ProviderResource {
	var p pulumi.ProviderResourceState
	if err := ctx.RegisterResource("pulumi:providers:"+name, name, nil, &p); err != nil {
		t.Fatal(err)
	}
	return &p
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

func TestRedisKeyPattern(t *testing.T) {
	for in, want := range map[string]string{
		"t:acme:":  "t:acme:*",
		"t:a*b?:":  `t:a\*b\?:*`,
		`t:[x]\y:`: `t:\[x\]\\y:*`,
	} {
		if got := redisKeyPattern(in); got != want {
			t.Errorf("redisKeyPattern(%q) = %q, want %q", in, got, want)
		}
	}
}
