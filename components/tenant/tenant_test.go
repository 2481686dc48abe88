package tenant

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	goredis "github.com/redis/go-redis/v9"

	tenantstack "github.com/tenantstack/tenantstack/sdk"
)

// Type tokens of the children.
const (
	tPGProvider   = "pulumi:providers:tenantstack"
	tK8sProvider  = "pulumi:providers:kubernetes"
	tRole         = "tenantstack:postgres:Role"
	tDatabase     = "tenantstack:postgres:Database"
	tSchema       = "tenantstack:postgres:Schema"
	tGrant        = "tenantstack:postgres:Grant"
	tRegistration = "tenantstack:postgres:TenantRegistration"
	tACLUser      = "tenantstack:redis:AclUser"
	tNamespace    = "kubernetes:core/v1:Namespace"
	tSA           = "kubernetes:core/v1:ServiceAccount"
	tQuota        = "kubernetes:core/v1:ResourceQuota"
	tLimitRange   = "kubernetes:core/v1:LimitRange"
	tSecret       = "kubernetes:core/v1:Secret"
	tConfigMap    = "kubernetes:core/v1:ConfigMap"
	tService      = "kubernetes:core/v1:Service"
	tK8sRole      = "kubernetes:rbac.authorization.k8s.io/v1:Role"
	tRoleBinding  = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
	tNetPol       = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	tIngress      = "kubernetes:networking.k8s.io/v1:Ingress"
	tDeployment   = "kubernetes:apps/v1:Deployment"
)

// Passwords with every character a URL treats specially.
const (
	pgPassword    = "p@ss:w/rd?#%+ &=$,;[]0123456789"
	redisPassword = "r3dis@:/?#%pass-0123456789"
)

// recorder is a mock resource monitor that records every registration and
// refuses resource types the component is not expected to create.
type recorder struct {
	mu        sync.Mutex
	resources []pulumi.MockResourceArgs
}

func (r *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r.mu.Lock()
	r.resources = append(r.resources, args)
	r.mu.Unlock()
	switch args.TypeToken {
	case TypeToken:
		return "", resource.PropertyMap{}, nil
	case tPGProvider, tK8sProvider, tRole, tDatabase, tSchema, tGrant, tRegistration, tACLUser,
		tNamespace, tSA, tQuota, tLimitRange, tSecret, tConfigMap, tService, tK8sRole, tRoleBinding,
		tNetPol, tIngress, tDeployment:
		return args.Name + "-id", args.Inputs, nil
	}
	return "", nil, fmt.Errorf("unexpected resource type %q", args.TypeToken)
}

func (r *recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("unexpected call %q", args.Token)
}

func (r *recorder) all() []pulumi.MockResourceArgs {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.resources)
}

func (r *recorder) ofType(typ string) []pulumi.MockResourceArgs {
	var out []pulumi.MockResourceArgs
	for _, a := range r.all() {
		if a.TypeToken == typ {
			out = append(out, a)
		}
	}
	return out
}

func (r *recorder) byName(t *testing.T, name string) pulumi.MockResourceArgs {
	t.Helper()
	for _, a := range r.all() {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no resource named %q was registered", name)
	return pulumi.MockResourceArgs{}
}

// await blocks until out resolves; call it inside the program.
func await[T any](t *testing.T, out pulumi.Output) T {
	t.Helper()
	ch := make(chan T, 1)
	out.ApplyT(func(v T) T { ch <- v; return v })
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("output of type %s never resolved", out.ElementType())
		var zero T
		return zero
	}
}

// providers are the ones the test program passes in.
type providers struct {
	pg, redis, k8s pulumi.ProviderResource
}

// outputs are the component's outputs, resolved, with their secretness.
type outputs struct {
	urn                                     string
	pgProviderURN, redisProviderURN         string
	k8sProviderURN                          string
	namespace, serviceAccount               string
	pgUser, pgDatabase, pgSchema            string
	redisUsername, keyPrefix, channelPrefix string
	postgresURL, poolerURL, redisURL        string
	secret                                  map[string]bool
}

// run builds a TenantStack named "t" with args from mk, given separate
// providers for PostgreSQL, Redis and Kubernetes.
func run(t *testing.T, mk func(p providers) *TenantStackArgs) (*recorder, outputs, error) {
	t.Helper()
	rec := &recorder{}
	var out outputs
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		pg, err := tenantstack.NewProvider(ctx, "pg", nil)
		if err != nil {
			return err
		}
		rd, err := tenantstack.NewProvider(ctx, "redis", nil)
		if err != nil {
			return err
		}
		k8s, err := kubernetes.NewProvider(ctx, "k8s", nil)
		if err != nil {
			return err
		}
		c, err := NewTenantStack(ctx, "t", mk(providers{pg: pg, redis: rd, k8s: k8s}))
		if err != nil {
			return err
		}
		out = outputs{
			urn:              string(await[pulumi.URN](t, c.URN())),
			pgProviderURN:    string(await[pulumi.URN](t, pg.URN())),
			redisProviderURN: string(await[pulumi.URN](t, rd.URN())),
			k8sProviderURN:   string(await[pulumi.URN](t, k8s.URN())),
			namespace:        await[string](t, c.Namespace),
			serviceAccount:   await[string](t, c.ServiceAccount),
			pgUser:           await[string](t, c.PostgresUser),
			pgDatabase:       await[string](t, c.PostgresDatabase),
			pgSchema:         await[string](t, c.PostgresSchema),
			redisUsername:    await[string](t, c.RedisUsername),
			keyPrefix:        await[string](t, c.KeyPrefix),
			channelPrefix:    await[string](t, c.ChannelPrefix),
			postgresURL:      await[string](t, c.PostgresURL),
			poolerURL:        await[string](t, c.PoolerURL),
			redisURL:         await[string](t, c.RedisURL),
			secret: map[string]bool{
				"PostgresURL":  pulumi.IsSecret(c.PostgresURL),
				"PoolerURL":    pulumi.IsSecret(c.PoolerURL),
				"RedisURL":     pulumi.IsSecret(c.RedisURL),
				"PostgresUser": pulumi.IsSecret(c.PostgresUser),
				"Namespace":    pulumi.IsSecret(c.Namespace),
			},
		}
		return nil
	}, pulumi.WithMocks("project", "stack", rec))
	return rec, out, err
}

// validArgs are complete arguments for tenant "acme-corp".
func validArgs(tier Tier) func(p providers) *TenantStackArgs {
	return func(p providers) *TenantStackArgs {
		return &TenantStackArgs{
			TenantID:           "acme-corp",
			Tier:               tier,
			PostgresProvider:   p.pg,
			RedisProvider:      p.redis,
			KubernetesProvider: p.k8s,
			Platform: PlatformEndpoints{
				PostgresHost: "10.0.0.5",
				RedisHost:    "10.0.0.6",
				OTelEndpoint: "http://10.0.0.7:4318",
				EgressCIDRs:  []string{"10.0.0.0/24", "fd00::/64"},
			},
			PostgresPassword: pulumi.String(pgPassword),
			RedisPassword:    pulumi.String(redisPassword),
		}
	}
}

// with returns mk with change applied to its args.
func with(mk func(p providers) *TenantStackArgs, change func(a *TenantStackArgs)) func(p providers) *TenantStackArgs {
	return func(p providers) *TenantStackArgs {
		a := mk(p)
		change(a)
		return a
	}
}

func mustRun(t *testing.T, mk func(p providers) *TenantStackArgs) (*recorder, outputs) {
	t.Helper()
	rec, out, err := run(t, mk)
	if err != nil {
		t.Fatalf("NewTenantStack: %v", err)
	}
	return rec, out
}

// unwrap strips secret and output wrappers, reporting whether any was secret.
func unwrap(v resource.PropertyValue) (resource.PropertyValue, bool) {
	secret := false
	for {
		switch {
		case v.IsSecret():
			secret, v = true, v.SecretValue().Element
		case v.IsOutput():
			o := v.OutputValue()
			secret, v = secret || o.Secret, o.Element
		default:
			return v, secret
		}
	}
}

// get follows path through objects, and arrays for numeric keys.
func get(t *testing.T, pm resource.PropertyMap, path ...string) resource.PropertyValue {
	t.Helper()
	v := resource.NewProperty(pm)
	for _, k := range path {
		v, _ = unwrap(v)
		switch {
		case v.IsObject():
			v = v.ObjectValue()[resource.PropertyKey(k)]
		case v.IsArray():
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i >= len(v.ArrayValue()) {
				t.Fatalf("%s: no element %q in %v", strings.Join(path, "."), k, v)
			}
			v = v.ArrayValue()[i]
		default:
			t.Fatalf("%s: %v is not an object or array at %q", strings.Join(path, "."), v, k)
		}
	}
	v, _ = unwrap(v)
	return v
}

func str(t *testing.T, pm resource.PropertyMap, path ...string) string {
	t.Helper()
	v := get(t, pm, path...)
	if !v.IsString() {
		t.Fatalf("%s = %v, want a string", strings.Join(path, "."), v)
	}
	return v.StringValue()
}

func strList(t *testing.T, pm resource.PropertyMap, path ...string) []string {
	t.Helper()
	v := get(t, pm, path...)
	if v.IsNull() {
		return nil
	}
	if !v.IsArray() {
		t.Fatalf("%s = %v, want a list", strings.Join(path, "."), v)
	}
	var out []string
	for _, e := range v.ArrayValue() {
		e, _ = unwrap(e)
		out = append(out, e.StringValue())
	}
	return out
}

func strMap(t *testing.T, pm resource.PropertyMap, path ...string) map[string]string {
	t.Helper()
	v := get(t, pm, path...)
	if !v.IsObject() {
		t.Fatalf("%s = %v, want a map", strings.Join(path, "."), v)
	}
	out := map[string]string{}
	for k, e := range v.ObjectValue() {
		e, _ = unwrap(e)
		out[string(k)] = e.StringValue()
	}
	return out
}

func boolAt(t *testing.T, pm resource.PropertyMap, path ...string) (value, set bool) {
	t.Helper()
	v := get(t, pm, path...)
	if v.IsNull() {
		return false, false
	}
	if !v.IsBool() {
		t.Fatalf("%s = %v, want a bool", strings.Join(path, "."), v)
	}
	return v.BoolValue(), true
}

func numAt(t *testing.T, pm resource.PropertyMap, path ...string) float64 {
	t.Helper()
	v := get(t, pm, path...)
	if !v.IsNumber() {
		t.Fatalf("%s = %v, want a number", strings.Join(path, "."), v)
	}
	return v.NumberValue()
}

func TestResourcesPerTier(t *testing.T) {
	kube := []string{
		tNamespace + " t-namespace",
		tSA + " t-service-account",
		tK8sRole + " t-role",
		tRoleBinding + " t-role-binding",
		tQuota + " t-quota",
		tLimitRange + " t-limits",
		tNetPol + " t-netpol-default-deny",
		tNetPol + " t-netpol-same-namespace",
		tNetPol + " t-netpol-dns",
		tNetPol + " t-netpol-platform",
		tSecret + " t-credentials",
	}
	common := append([]string{
		tRole + " t-pg-role",
		tGrant + " t-pg-connect",
		tRegistration + " t-pg-registration",
		tACLUser + " t-redis-user",
	}, kube...)
	crud := []string{
		tRole + " t-pg-owner",
		tGrant + " t-pg-schema-usage",
		tGrant + " t-pg-tables",
		tGrant + " t-pg-sequences",
		tGrant + " t-pg-default-tables",
		tGrant + " t-pg-default-sequences",
	}
	tests := []struct {
		tier  Tier
		extra []string
	}{
		{TierShared, nil},
		{TierSchema, append([]string{tSchema + " t-pg-schema"}, crud...)},
		{TierDatabase, append([]string{tDatabase + " t-pg-database"}, crud...)},
	}
	for _, tt := range tests {
		t.Run(string(tt.tier), func(t *testing.T) {
			rec, out := mustRun(t, validArgs(tt.tier))

			var got []string
			for _, a := range rec.all() {
				switch a.TypeToken {
				case TypeToken, tPGProvider, tK8sProvider:
					continue
				}
				got = append(got, a.TypeToken+" "+a.Name)
			}
			want := append(slices.Clone(common), tt.extra...)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("children =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if n := len(rec.ofType(TypeToken)); n != 1 {
				t.Errorf("%d components registered, want 1", n)
			}
			if want := "urn:pulumi:stack::project::" + TypeToken + "::t"; out.urn != want {
				t.Errorf("component URN = %q, want %q", out.urn, want)
			}

			for _, a := range rec.all() {
				switch a.TypeToken {
				case TypeToken, tPGProvider, tK8sProvider:
					continue
				}
				if p := a.RegisterRPC.GetParent(); p != out.urn {
					t.Errorf("%s %s: parent %q, want the component %q", a.TypeToken, a.Name, p, out.urn)
				}
				wantProvider := out.k8sProviderURN
				switch {
				case strings.HasPrefix(a.TypeToken, "tenantstack:postgres:"):
					wantProvider = out.pgProviderURN
				case strings.HasPrefix(a.TypeToken, "tenantstack:redis:"):
					wantProvider = out.redisProviderURN
				}
				if !strings.HasPrefix(a.Provider, wantProvider+"::") {
					t.Errorf("%s %s: provider %q, want %q", a.TypeToken, a.Name, a.Provider, wantProvider)
				}
			}
		})
	}
}

func TestWorkloadResources(t *testing.T) {
	tests := []struct {
		name     string
		workload *WorkloadArgs
		flags    map[string]string
		want     []string
	}{
		{name: "none", want: nil},
		{name: "flags only", flags: map[string]string{"beta": "on"}, want: []string{tConfigMap + " t-flags"}},
		{name: "workload without host", workload: &WorkloadArgs{Image: "ghcr.io/acme/app:1"},
			want: []string{tDeployment + " t-deployment", tService + " t-service"}},
		{name: "workload with host", workload: &WorkloadArgs{Image: "ghcr.io/acme/app:1", Host: "acme.example.com"},
			want: []string{tDeployment + " t-deployment", tService + " t-service", tIngress + " t-ingress"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := mustRun(t, with(validArgs(TierShared), func(a *TenantStackArgs) {
				a.Workload, a.Flags = tt.workload, tt.flags
			}))
			var got []string
			for _, typ := range []string{tConfigMap, tDeployment, tService, tIngress} {
				for _, a := range rec.ofType(typ) {
					got = append(got, typ+" "+a.Name)
				}
			}
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("workload objects = %q, want %q", got, want)
			}
		})
	}
}

func TestOutputs(t *testing.T) {
	tests := []struct {
		tier             Tier
		database, schema string
	}{
		{TierShared, "platform", "app"},
		{TierSchema, "platform", "tenant_acme_corp"},
		{TierDatabase, "tenant_acme_corp", "public"},
	}
	for _, tt := range tests {
		t.Run(string(tt.tier), func(t *testing.T) {
			_, out := mustRun(t, validArgs(tt.tier))
			plain := map[string][2]string{
				"Namespace":        {out.namespace, "tenant-acme-corp"},
				"ServiceAccount":   {out.serviceAccount, "app"},
				"PostgresUser":     {out.pgUser, "tenant_acme_corp"},
				"PostgresDatabase": {out.pgDatabase, tt.database},
				"PostgresSchema":   {out.pgSchema, tt.schema},
				"RedisUsername":    {out.redisUsername, "tenant-acme-corp"},
				"KeyPrefix":        {out.keyPrefix, "t:acme-corp:"},
				"ChannelPrefix":    {out.channelPrefix, "t:acme-corp:"},
			}
			for field, v := range plain {
				if v[0] != v[1] {
					t.Errorf("%s = %q, want %q", field, v[0], v[1])
				}
			}
			for _, field := range []string{"PostgresURL", "PoolerURL", "RedisURL"} {
				if !out.secret[field] {
					t.Errorf("%s is not a secret", field)
				}
			}
			for _, field := range []string{"PostgresUser", "Namespace"} {
				if out.secret[field] {
					t.Errorf("%s is a secret; only credentials should be", field)
				}
			}

			// The real clients read the URLs back to the same credentials,
			// whatever characters the passwords hold.
			for _, u := range []struct{ name, url, port string }{
				{"PostgresURL", out.postgresURL, "5432"},
				{"PoolerURL", out.poolerURL, "6432"},
			} {
				cfg, err := pgconn.ParseConfig(u.url)
				if err != nil {
					t.Fatalf("%s does not parse with pgconn: %v", u.name, err)
				}
				if cfg.Host != "10.0.0.5" || fmt.Sprint(cfg.Port) != u.port || cfg.User != "tenant_acme_corp" ||
					cfg.Password != pgPassword || cfg.Database != tt.database {
					t.Errorf("%s parses to host %q port %d user %q password %q database %q; want 10.0.0.5 %s tenant_acme_corp %q %s",
						u.name, cfg.Host, cfg.Port, cfg.User, cfg.Password, cfg.Database, u.port, pgPassword, tt.database)
				}
				if !strings.HasPrefix(u.url, "postgres://") {
					t.Errorf("%s = %q does not start with postgres://", u.name, u.url)
				}
			}
			ro, err := goredis.ParseURL(out.redisURL)
			if err != nil {
				t.Fatalf("RedisURL does not parse with go-redis: %v", err)
			}
			if ro.Addr != "10.0.0.6:6379" || ro.Username != "tenant-acme-corp" || ro.Password != redisPassword || ro.DB != 0 {
				t.Errorf("RedisURL parses to addr %q user %q password %q db %d", ro.Addr, ro.Username, ro.Password, ro.DB)
			}
		})
	}
}

func TestPoolerHost(t *testing.T) {
	rec, out := mustRun(t, with(validArgs(TierSchema), func(a *TenantStackArgs) { a.Platform.PoolerHost = "pgbouncer.platform" }))
	for name, u := range map[string]string{"PoolerURL": out.poolerURL, "PostgresURL": out.postgresURL} {
		cfg, err := pgconn.ParseConfig(u)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := map[string]string{"PoolerURL": "pgbouncer.platform", "PostgresURL": "10.0.0.5"}[name]
		if cfg.Host != want {
			t.Errorf("%s host = %q, want %q", name, cfg.Host, want)
		}
	}
	if got := strMap(t, rec.byName(t, "t-credentials").Inputs, "stringData")["PGHOST"]; got != "pgbouncer.platform" {
		t.Errorf("PGHOST = %q, want the pooler's host like DATABASE_URL", got)
	}
}

func TestURLsHandleIPv6Hosts(t *testing.T) {
	_, out := mustRun(t, with(validArgs(TierShared), func(a *TenantStackArgs) {
		a.Platform.PostgresHost, a.Platform.RedisHost = "fd00::5", "fd00::6"
	}))
	u, err := url.Parse(out.poolerURL)
	if err != nil || u.Hostname() != "fd00::5" || u.Port() != "6432" {
		t.Errorf("PoolerURL %q: host %q port %q, err %v; want fd00::5 and 6432", out.poolerURL, u.Hostname(), u.Port(), err)
	}
	ro, err := goredis.ParseURL(out.redisURL)
	if err != nil || ro.Addr != "[fd00::6]:6379" {
		t.Errorf("RedisURL %q: addr %q, err %v", out.redisURL, ro.Addr, err)
	}
}

func TestPostgresRole(t *testing.T) {
	for _, tier := range Tiers() {
		t.Run(string(tier), func(t *testing.T) {
			rec, _ := mustRun(t, validArgs(tier))
			r := rec.byName(t, "t-pg-role").Inputs
			if got := str(t, r, "name"); got != "tenant_acme_corp" {
				t.Errorf("name = %q", got)
			}
			if v, _ := boolAt(t, r, "login"); !v {
				t.Error("login is not true")
			}
			if got := numAt(t, r, "connectionLimit"); got != DefaultConnectionLimit {
				t.Errorf("connectionLimit = %v, want %d", got, DefaultConnectionLimit)
			}
			for _, attr := range []string{"superuser", "createDb", "createRole", "replication", "bypassRls", "allowPrivileged"} {
				if v, _ := boolAt(t, r, attr); v {
					t.Errorf("%s is true on a tenant login role", attr)
				}
			}
			if _, secret := unwrap(r["password"]); !secret {
				t.Error("password is not sent as a secret")
			}
			if got := str(t, r, "password"); got != pgPassword {
				t.Errorf("password = %q, want the one given", got)
			}
			wantMember := []string(nil)
			if tier == TierShared {
				wantMember = []string{"app_tenant"}
			}
			if got := strList(t, r, "memberOf"); !slices.Equal(got, wantMember) {
				t.Errorf("memberOf = %q, want %q", got, wantMember)
			}

			reg := rec.byName(t, "t-pg-registration").Inputs
			gotReg := map[string]string{
				"tenantId": str(t, reg, "tenantId"), "roleName": str(t, reg, "roleName"),
				"tier": str(t, reg, "tier"), "database": str(t, reg, "database"),
			}
			wantReg := map[string]string{"tenantId": "acme-corp", "roleName": "tenant_acme_corp", "tier": string(tier), "database": "platform"}
			if !maps.Equal(gotReg, wantReg) {
				t.Errorf("registration = %v, want %v", gotReg, wantReg)
			}
		})
	}
}

func TestConnectionLimitIsConfigurable(t *testing.T) {
	rec, _ := mustRun(t, with(validArgs(TierShared), func(a *TenantStackArgs) { a.ConnectionLimit = 3 }))
	if got := numAt(t, rec.byName(t, "t-pg-role").Inputs, "connectionLimit"); got != 3 {
		t.Errorf("connectionLimit = %v, want 3", got)
	}
}

// grant is a Grant's inputs in comparable form.
type grant struct {
	role, database, schema, objectType, privileges, forRole string
	defaults                                                bool
}

func grantsOf(t *testing.T, rec *recorder) map[string]grant {
	t.Helper()
	out := map[string]grant{}
	for _, a := range rec.ofType(tGrant) {
		in := a.Inputs
		g := grant{role: str(t, in, "role"), objectType: str(t, in, "objectType"),
			privileges: strings.Join(strList(t, in, "privileges"), ",")}
		if v := get(t, in, "database"); v.IsString() {
			g.database = v.StringValue()
		}
		if v := get(t, in, "schema"); v.IsString() {
			g.schema = v.StringValue()
		}
		if v := get(t, in, "forRole"); v.IsString() {
			g.forRole = v.StringValue()
		}
		g.defaults, _ = boolAt(t, in, "defaultPrivileges")
		out[strings.TrimPrefix(a.Name, "t-pg-")] = g
	}
	return out
}

func TestGrantsPerTier(t *testing.T) {
	const role, owner = "tenant_acme_corp", "tenant_acme_corp_owner"
	crud := func(db, schema string) map[string]grant {
		return map[string]grant{
			"schema-usage":      {role: role, database: db, schema: schema, objectType: "schema", privileges: "USAGE"},
			"tables":            {role: role, database: db, schema: schema, objectType: "table", privileges: "SELECT,INSERT,UPDATE,DELETE"},
			"sequences":         {role: role, database: db, schema: schema, objectType: "sequence", privileges: "USAGE,SELECT"},
			"default-tables":    {role: role, database: db, schema: schema, objectType: "table", privileges: "SELECT,INSERT,UPDATE,DELETE", defaults: true, forRole: owner},
			"default-sequences": {role: role, database: db, schema: schema, objectType: "sequence", privileges: "USAGE,SELECT", defaults: true, forRole: owner},
		}
	}
	tests := []struct {
		tier    Tier
		connect string
		crud    map[string]grant
	}{
		{TierShared, "platform", nil},
		{TierSchema, "platform", crud("platform", "tenant_acme_corp")},
		{TierDatabase, "tenant_acme_corp", crud("tenant_acme_corp", "public")},
	}
	for _, tt := range tests {
		t.Run(string(tt.tier), func(t *testing.T) {
			rec, _ := mustRun(t, validArgs(tt.tier))
			want := map[string]grant{"connect": {role: role, database: tt.connect, objectType: "database", privileges: "CONNECT"}}
			maps.Copy(want, tt.crud)
			got := grantsOf(t, rec)
			for k, w := range want {
				if got[k] != w {
					t.Errorf("grant %s = %+v, want %+v", k, got[k], w)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("unexpected grant %s = %+v", k, got[k])
				}
			}
		})
	}
}

func TestTierObjects(t *testing.T) {
	t.Run("schema", func(t *testing.T) {
		rec, _ := mustRun(t, validArgs(TierSchema))
		s := rec.byName(t, "t-pg-schema").Inputs
		if n, o, d := str(t, s, "name"), str(t, s, "owner"), str(t, s, "database"); n != "tenant_acme_corp" || o != "tenant_acme_corp_owner" || d != "platform" {
			t.Errorf("schema name %q owner %q database %q", n, o, d)
		}
		checkOwnerRole(t, rec)
	})
	t.Run("database", func(t *testing.T) {
		rec, _ := mustRun(t, validArgs(TierDatabase))
		d := rec.byName(t, "t-pg-database").Inputs
		if n, o := str(t, d, "name"), str(t, d, "owner"); n != "tenant_acme_corp" || o != "tenant_acme_corp_owner" {
			t.Errorf("database name %q owner %q", n, o)
		}
		if v, set := boolAt(t, d, "revokePublicConnect"); !v || !set {
			t.Errorf("revokePublicConnect = %v (set %v), want true", v, set)
		}
		checkOwnerRole(t, rec)
	})
}

func checkOwnerRole(t *testing.T, rec *recorder) {
	t.Helper()
	o := rec.byName(t, "t-pg-owner").Inputs
	if n := str(t, o, "name"); n != "tenant_acme_corp_owner" {
		t.Errorf("owner role name = %q", n)
	}
	if v, set := boolAt(t, o, "login"); v || !set {
		t.Errorf("owner role login = %v (set %v), want false", v, set)
	}
	if !get(t, o, "password").IsNull() {
		t.Error("owner role has a password; nobody logs in as it")
	}
}

func TestRedisACLUser(t *testing.T) {
	rec, _ := mustRun(t, validArgs(TierSchema))
	u := rec.byName(t, "t-redis-user").Inputs
	if got := str(t, u, "username"); got != "tenant-acme-corp" {
		t.Errorf("username = %q", got)
	}
	if v, _ := boolAt(t, u, "enabled"); !v {
		t.Error("enabled is not true")
	}
	if v, _ := boolAt(t, u, "allowPrivileged"); v {
		t.Error("allowPrivileged is true on a tenant user")
	}
	if _, secret := unwrap(u["password"]); !secret {
		t.Error("password is not sent as a secret")
	}
	if got := strList(t, u, "keyPatterns"); !slices.Equal(got, []string{"t:acme-corp:*"}) {
		t.Errorf("keyPatterns = %q", got)
	}
	if got := strList(t, u, "channelPatterns"); !slices.Equal(got, []string{"t:acme-corp:*"}) {
		t.Errorf("channelPatterns = %q", got)
	}
	cmds := strList(t, u, "commands")
	if !slices.Equal(cmds, RedisCommands()) {
		t.Errorf("commands = %q, want RedisCommands()", cmds)
	}
	// Commands that reach keys without naming them, leave the database, act
	// on the server or other clients, or run scripts that compute key names.
	forbidden := []string{"keys", "scan", "randomkey", "dbsize", "flushall", "flushdb", "select", "move", "swapdb",
		"copy", "sort", "sort_ro", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "function", "script",
		"client", "config", "monitor", "info", "debug", "acl", "object", "dump", "restore", "migrate", "pubsub",
		"shutdown", "save", "bgsave", "module", "cluster", "replicaof", "slaveof"}
	for _, c := range cmds {
		if c != strings.ToLower(c) || !strings.HasPrefix(c, "+") {
			t.Errorf("command rule %q is not a lowercase +command", c)
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(c, "+"), "|")
		if strings.HasPrefix(name, "@") || slices.Contains(forbidden, name) {
			t.Errorf("command rule %q grants a category or a forbidden command", c)
		}
	}
	for _, need := range []string{"+get", "+set", "+del", "+publish", "+subscribe", "+ping"} {
		if !slices.Contains(cmds, need) {
			t.Errorf("commands lack %q, which a tenant application needs", need)
		}
	}
}

func TestSharedProviderForPostgresAndRedis(t *testing.T) {
	rec, out := mustRun(t, func(p providers) *TenantStackArgs {
		a := validArgs(TierShared)(p)
		a.RedisProvider = p.pg
		return a
	})
	for _, name := range []string{"t-pg-role", "t-redis-user"} {
		if a := rec.byName(t, name); !strings.HasPrefix(a.Provider, out.pgProviderURN+"::") {
			t.Errorf("%s: provider %q, want %q", name, a.Provider, out.pgProviderURN)
		}
	}
}

func TestNamespace(t *testing.T) {
	for _, tier := range Tiers() {
		t.Run(string(tier), func(t *testing.T) {
			rec, _ := mustRun(t, validArgs(tier))
			ns := rec.byName(t, "t-namespace").Inputs
			if got := str(t, ns, "metadata", "name"); got != "tenant-acme-corp" {
				t.Errorf("metadata.name = %q", got)
			}
			want := map[string]string{
				"tenantstack.io/tenant":                      "acme-corp",
				"tenantstack.io/tier":                        string(tier),
				"app.kubernetes.io/managed-by":               "tenantstack",
				"pod-security.kubernetes.io/enforce":         "restricted",
				"pod-security.kubernetes.io/enforce-version": "latest",
				"pod-security.kubernetes.io/audit":           "restricted",
				"pod-security.kubernetes.io/audit-version":   "latest",
				"pod-security.kubernetes.io/warn":            "restricted",
				"pod-security.kubernetes.io/warn-version":    "latest",
			}
			if got := strMap(t, ns, "metadata", "labels"); !maps.Equal(got, want) {
				t.Errorf("labels =\n%v\nwant\n%v", got, want)
			}
		})
	}
}

func TestNamespacedObjectsHaveFixedNames(t *testing.T) {
	rec, _ := mustRun(t, with(validArgs(TierShared), func(a *TenantStackArgs) {
		a.Workload = &WorkloadArgs{Image: "ghcr.io/acme/app:1", Host: "acme.example.com"}
		a.Flags = map[string]string{"beta": "on"}
	}))
	want := map[string]string{
		"t-service-account": "app", "t-role": "tenant-app", "t-role-binding": "tenant-app",
		"t-quota": "tenant-quota", "t-limits": "tenant-limits",
		"t-netpol-default-deny": "default-deny", "t-netpol-same-namespace": "allow-same-namespace",
		"t-netpol-dns": "allow-dns", "t-netpol-platform": "allow-platform",
		"t-credentials": "tenant-credentials", "t-flags": "flags",
		"t-deployment": "app", "t-service": "app", "t-ingress": "app",
	}
	for res, name := range want {
		in := rec.byName(t, res).Inputs
		if got := str(t, in, "metadata", "name"); got != name {
			t.Errorf("%s: metadata.name = %q, want %q", res, got, name)
		}
		if got := str(t, in, "metadata", "namespace"); got != "tenant-acme-corp" {
			t.Errorf("%s: metadata.namespace = %q, want tenant-acme-corp", res, got)
		}
	}
}

func TestServiceAccountAndRBAC(t *testing.T) {
	rec, _ := mustRun(t, validArgs(TierShared))
	sa := rec.byName(t, "t-service-account").Inputs
	if v, set := boolAt(t, sa, "automountServiceAccountToken"); v || !set {
		t.Errorf("automountServiceAccountToken = %v (set %v), want false", v, set)
	}

	role := rec.byName(t, "t-role").Inputs
	rules := get(t, role, "rules").ArrayValue()
	if len(rules) == 0 {
		t.Fatal("the Role has no rules")
	}
	guarded := []string{"resourcequotas", "limitranges", "networkpolicies", "roles", "rolebindings",
		"clusterroles", "clusterrolebindings", "namespaces", "serviceaccounts/token"}
	writeVerbs := []string{"create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate"}
	for i := range rules {
		idx := fmt.Sprint(i)
		groups := strList(t, role, "rules", idx, "apiGroups")
		resources := strList(t, role, "rules", idx, "resources")
		verbs := strList(t, role, "rules", idx, "verbs")
		for field, list := range map[string][]string{"apiGroups": groups, "resources": resources, "verbs": verbs} {
			if len(list) == 0 {
				t.Errorf("rules[%d].%s is empty", i, field)
			}
			if slices.Contains(list, "*") {
				t.Errorf("rules[%d].%s = %q contains \"*\"", i, field, list)
			}
		}
		if slices.Contains(groups, "rbac.authorization.k8s.io") {
			t.Errorf("rules[%d] grants on rbac.authorization.k8s.io", i)
		}
		for _, r := range resources {
			if slices.Contains(guarded, r) {
				t.Errorf("rules[%d] grants %q on %s", i, verbs, r)
			}
		}
		if slices.Contains(resources, "secrets") && slices.ContainsFunc(verbs, func(v string) bool { return slices.Contains(writeVerbs, v) }) {
			t.Errorf("rules[%d] lets the tenant write secrets (%q), so it could replace its credentials", i, verbs)
		}
	}

	rb := rec.byName(t, "t-role-binding").Inputs
	if k, n := str(t, rb, "roleRef", "kind"), str(t, rb, "roleRef", "name"); k != "Role" || n != "tenant-app" {
		t.Errorf("roleRef = %s/%s, want Role/tenant-app", k, n)
	}
	if k, n, ns := str(t, rb, "subjects", "0", "kind"), str(t, rb, "subjects", "0", "name"), str(t, rb, "subjects", "0", "namespace"); k != "ServiceAccount" || n != "app" || ns != "tenant-acme-corp" {
		t.Errorf("subject = %s %s/%s, want ServiceAccount tenant-acme-corp/app", k, ns, n)
	}
	if n := len(get(t, rb, "subjects").ArrayValue()); n != 1 {
		t.Errorf("%d subjects, want 1", n)
	}
}

func TestQuotaAndLimits(t *testing.T) {
	tests := []struct {
		name       string
		quota      Quota
		limits     Limits
		wantHard   map[string]string
		wantLimits map[string]map[string]string
	}{
		{
			name: "defaults",
			wantHard: map[string]string{
				"requests.cpu": "2", "limits.cpu": "2", "requests.memory": "4Gi", "limits.memory": "4Gi",
				"pods": "20", "services": "10", "persistentvolumeclaims": "5", "requests.storage": "20Gi",
				"services.loadbalancers": "0", "services.nodeports": "0",
			},
			wantLimits: map[string]map[string]string{
				"defaultRequest": {"cpu": "100m", "memory": "128Mi"},
				"default":        {"cpu": "500m", "memory": "512Mi"},
			},
		},
		{
			name:   "custom",
			quota:  Quota{CPU: "8", Memory: "16Gi", Pods: 50, Services: 3, PVCs: 1, Storage: "100Gi"},
			limits: Limits{CPURequest: "250m", CPULimit: "1", MemoryRequest: "256Mi", MemoryLimit: "1Gi"},
			wantHard: map[string]string{
				"requests.cpu": "8", "limits.cpu": "8", "requests.memory": "16Gi", "limits.memory": "16Gi",
				"pods": "50", "services": "3", "persistentvolumeclaims": "1", "requests.storage": "100Gi",
				"services.loadbalancers": "0", "services.nodeports": "0",
			},
			wantLimits: map[string]map[string]string{
				"defaultRequest": {"cpu": "250m", "memory": "256Mi"},
				"default":        {"cpu": "1", "memory": "1Gi"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := mustRun(t, with(validArgs(TierShared), func(a *TenantStackArgs) { a.Quota, a.Limits = tt.quota, tt.limits }))
			if got := strMap(t, rec.byName(t, "t-quota").Inputs, "spec", "hard"); !maps.Equal(got, tt.wantHard) {
				t.Errorf("quota hard =\n%v\nwant\n%v", got, tt.wantHard)
			}
			lr := rec.byName(t, "t-limits").Inputs
			if n := len(get(t, lr, "spec", "limits").ArrayValue()); n != 1 {
				t.Fatalf("%d LimitRange items, want 1", n)
			}
			if typ := str(t, lr, "spec", "limits", "0", "type"); typ != "Container" {
				t.Errorf("LimitRange type = %q", typ)
			}
			for field, want := range tt.wantLimits {
				if got := strMap(t, lr, "spec", "limits", "0", field); !maps.Equal(got, want) {
					t.Errorf("LimitRange %s = %v, want %v", field, got, want)
				}
			}
		})
	}
}

func TestNetworkPolicies(t *testing.T) {
	rec, _ := mustRun(t, validArgs(TierShared))
	selectsAll := func(t *testing.T, in resource.PropertyMap, path ...string) {
		t.Helper()
		v := get(t, in, path...)
		if !v.IsObject() || len(v.ObjectValue()) != 0 {
			t.Errorf("%s = %v, want {} (every pod)", strings.Join(path, "."), v)
		}
	}

	deny := rec.byName(t, "t-netpol-default-deny").Inputs
	selectsAll(t, deny, "spec", "podSelector")
	if got := strList(t, deny, "spec", "policyTypes"); !slices.Equal(got, []string{"Ingress", "Egress"}) {
		t.Errorf("default-deny policyTypes = %q, want both directions", got)
	}
	for _, dir := range []string{"ingress", "egress"} {
		if v := get(t, deny, "spec", dir); !v.IsNull() {
			t.Errorf("default-deny has %s rules %v; it must allow nothing", dir, v)
		}
	}

	same := rec.byName(t, "t-netpol-same-namespace").Inputs
	selectsAll(t, same, "spec", "podSelector")
	selectsAll(t, same, "spec", "ingress", "0", "from", "0", "podSelector")
	selectsAll(t, same, "spec", "egress", "0", "to", "0", "podSelector")
	for _, peer := range [][]string{{"ingress", "0", "from", "0"}, {"egress", "0", "to", "0"}} {
		p := get(t, same, append([]string{"spec"}, peer...)...).ObjectValue()
		if _, ok := p["namespaceSelector"]; ok {
			t.Errorf("allow-same-namespace %v has a namespaceSelector, which reaches other namespaces", peer)
		}
	}

	dns := rec.byName(t, "t-netpol-dns").Inputs
	if got := strList(t, dns, "spec", "policyTypes"); !slices.Equal(got, []string{"Egress"}) {
		t.Errorf("allow-dns policyTypes = %q", got)
	}
	if got := strMap(t, dns, "spec", "egress", "0", "to", "0", "namespaceSelector", "matchLabels"); !maps.Equal(got, map[string]string{"kubernetes.io/metadata.name": "kube-system"}) {
		t.Errorf("allow-dns peers = %v, want kube-system", got)
	}
	var dnsPorts []string
	for i := range get(t, dns, "spec", "egress", "0", "ports").ArrayValue() {
		p := fmt.Sprint(i)
		dnsPorts = append(dnsPorts, fmt.Sprintf("%s/%v", str(t, dns, "spec", "egress", "0", "ports", p, "protocol"),
			numAt(t, dns, "spec", "egress", "0", "ports", p, "port")))
	}
	slices.Sort(dnsPorts)
	if !slices.Equal(dnsPorts, []string{"TCP/53", "UDP/53"}) {
		t.Errorf("allow-dns ports = %q", dnsPorts)
	}

	plat := rec.byName(t, "t-netpol-platform").Inputs
	if got := strList(t, plat, "spec", "policyTypes"); !slices.Equal(got, []string{"Egress"}) {
		t.Errorf("allow-platform policyTypes = %q", got)
	}
	if n := len(get(t, plat, "spec", "egress").ArrayValue()); n != 1 {
		t.Fatalf("allow-platform has %d egress rules, want 1", n)
	}
	var cidrs []string
	for i := range get(t, plat, "spec", "egress", "0", "to").ArrayValue() {
		cidrs = append(cidrs, str(t, plat, "spec", "egress", "0", "to", fmt.Sprint(i), "ipBlock", "cidr"))
	}
	if !slices.Equal(cidrs, []string{"10.0.0.0/24", "fd00::/64"}) {
		t.Errorf("allow-platform peers = %q, want the EgressCIDRs", cidrs)
	}
	var ports []string
	for i := range get(t, plat, "spec", "egress", "0", "ports").ArrayValue() {
		p := fmt.Sprint(i)
		ports = append(ports, fmt.Sprintf("%s/%v", str(t, plat, "spec", "egress", "0", "ports", p, "protocol"),
			numAt(t, plat, "spec", "egress", "0", "ports", p, "port")))
	}
	// PostgreSQL, PgBouncer, Redis and the OTel collector's port from OTelEndpoint.
	if want := []string{"TCP/5432", "TCP/6432", "TCP/6379", "TCP/4318"}; !slices.Equal(ports, want) {
		t.Errorf("allow-platform ports = %q, want %q", ports, want)
	}
}

func TestEgressPortsOverride(t *testing.T) {
	rec, _ := mustRun(t, with(validArgs(TierShared), func(a *TenantStackArgs) { a.Platform.EgressPorts = []int{443, 443, 5432} }))
	plat := rec.byName(t, "t-netpol-platform").Inputs
	var ports []float64
	for i := range get(t, plat, "spec", "egress", "0", "ports").ArrayValue() {
		ports = append(ports, numAt(t, plat, "spec", "egress", "0", "ports", fmt.Sprint(i), "port"))
	}
	if !slices.Equal(ports, []float64{443, 5432}) {
		t.Errorf("ports = %v, want the given ones without duplicates", ports)
	}
}

func TestCredentialsSecret(t *testing.T) {
	for _, tier := range Tiers() {
		t.Run(string(tier), func(t *testing.T) {
			rec, out := mustRun(t, validArgs(tier))
			s := rec.byName(t, "t-credentials").Inputs
			if got := str(t, s, "type"); got != "Opaque" {
				t.Errorf("type = %q, want Opaque", got)
			}
			if _, secret := unwrap(s["stringData"]); !secret {
				t.Error("stringData is not sent as a secret")
			}
			if !get(t, s, "data").IsNull() {
				t.Error("data is set; the credentials belong in stringData only")
			}
			want := map[string]string{
				"DATABASE_URL":     out.poolerURL,
				"PGHOST":           "10.0.0.5",
				"PGPORT":           "6432",
				"PGDATABASE":       out.pgDatabase,
				"PGUSER":           "tenant_acme_corp",
				"PGPASSWORD":       pgPassword,
				"REDIS_URL":        out.redisURL,
				"REDIS_USERNAME":   "tenant-acme-corp",
				"REDIS_PASSWORD":   redisPassword,
				"REDIS_KEY_PREFIX": "t:acme-corp:",
			}
			if got := strMap(t, s, "stringData"); !maps.Equal(got, want) {
				t.Errorf("stringData =\n%v\nwant\n%v", got, want)
			}
		})
	}
}

func TestSuspended(t *testing.T) {
	for _, suspended := range []bool{false, true} {
		t.Run(fmt.Sprint("suspended=", suspended), func(t *testing.T) {
			rec, _ := mustRun(t, with(validArgs(TierDatabase), func(a *TenantStackArgs) {
				a.Suspended = suspended
				a.Workload = &WorkloadArgs{Image: "ghcr.io/acme/app:1", Replicas: 3}
			}))
			if v, _ := boolAt(t, rec.byName(t, "t-pg-role").Inputs, "login"); v == suspended {
				t.Errorf("role login = %v", v)
			}
			if v, _ := boolAt(t, rec.byName(t, "t-redis-user").Inputs, "enabled"); v == suspended {
				t.Errorf("ACL user enabled = %v", v)
			}
			wantReplicas := 3.0
			if suspended {
				wantReplicas = 0
			}
			if got := numAt(t, rec.byName(t, "t-deployment").Inputs, "spec", "replicas"); got != wantReplicas {
				t.Errorf("replicas = %v, want %v", got, wantReplicas)
			}
			// The data is kept: the same objects exist either way.
			for _, name := range []string{"t-pg-database", "t-pg-owner", "t-pg-tables", "t-pg-registration", "t-credentials"} {
				rec.byName(t, name)
			}
		})
	}
}

func TestWorkload(t *testing.T) {
	rec, _ := mustRun(t, with(validArgs(TierShared), func(a *TenantStackArgs) {
		a.Workload = &WorkloadArgs{Image: "ghcr.io/acme/app:1", Host: "acme.example.com", Port: 9000}
		a.Flags = map[string]string{"new-ui": "on"}
	}))
	// Nothing in the workload is awaited: the local API server has no
	// kubelet and no ingress controller.
	for _, res := range []string{"t-deployment", "t-service", "t-ingress"} {
		if got := strMap(t, rec.byName(t, res).Inputs, "metadata", "annotations"); got["pulumi.com/skipAwait"] != "true" {
			t.Errorf("%s annotations = %v, want pulumi.com/skipAwait: \"true\"", res, got)
		}
	}
	d := rec.byName(t, "t-deployment").Inputs
	if got := numAt(t, d, "spec", "replicas"); got != 1 {
		t.Errorf("replicas = %v, want the default 1", got)
	}
	pod := []string{"spec", "template", "spec"}
	at := func(p ...string) []string { return append(slices.Clone(pod), p...) }
	if got := str(t, d, at("serviceAccountName")...); got != "app" {
		t.Errorf("serviceAccountName = %q", got)
	}
	if v, set := boolAt(t, d, at("automountServiceAccountToken")...); v || !set {
		t.Errorf("pod automountServiceAccountToken = %v (set %v), want false", v, set)
	}
	if v, _ := boolAt(t, d, at("securityContext", "runAsNonRoot")...); !v {
		t.Error("pod runAsNonRoot is not true")
	}
	if got := str(t, d, at("securityContext", "seccompProfile", "type")...); got != "RuntimeDefault" {
		t.Errorf("pod seccompProfile = %q", got)
	}
	if n := len(get(t, d, at("containers")...).ArrayValue()); n != 1 {
		t.Fatalf("%d containers, want 1", n)
	}
	c := at("containers", "0")
	if got := str(t, d, append(c, "image")...); got != "ghcr.io/acme/app:1" {
		t.Errorf("image = %q", got)
	}
	if got := numAt(t, d, append(c, "ports", "0", "containerPort")...); got != 9000 {
		t.Errorf("containerPort = %v, want 9000", got)
	}
	sc := append(slices.Clone(c), "securityContext")
	if v, set := boolAt(t, d, append(sc, "allowPrivilegeEscalation")...); v || !set {
		t.Errorf("allowPrivilegeEscalation = %v (set %v), want false", v, set)
	}
	if v, _ := boolAt(t, d, append(sc, "runAsNonRoot")...); !v {
		t.Error("container runAsNonRoot is not true")
	}
	if got := strList(t, d, append(sc, "capabilities", "drop")...); !slices.Equal(got, []string{"ALL"}) {
		t.Errorf("capabilities.drop = %q, want ALL", got)
	}
	if v, _ := boolAt(t, d, append(sc, "privileged")...); v {
		t.Error("the container is privileged")
	}

	env := map[string]string{}
	for i := range get(t, d, append(c, "env")...).ArrayValue() {
		e := append(slices.Clone(c), "env", fmt.Sprint(i))
		env[str(t, d, append(e, "name")...)] = str(t, d, append(e, "value")...)
	}
	if got := env["OTEL_RESOURCE_ATTRIBUTES"]; got != "tenant.id=acme-corp" {
		t.Errorf("OTEL_RESOURCE_ATTRIBUTES = %q, want tenant.id=acme-corp", got)
	}
	if got := env["OTEL_EXPORTER_OTLP_ENDPOINT"]; got != "http://10.0.0.7:4318" {
		t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT = %q", got)
	}
	var envFrom []string
	for i := range get(t, d, append(c, "envFrom")...).ArrayValue() {
		e := append(slices.Clone(c), "envFrom", fmt.Sprint(i))
		if v := get(t, d, append(e, "secretRef")...); !v.IsNull() {
			envFrom = append(envFrom, "secret "+str(t, d, append(e, "secretRef", "name")...))
		}
		if v := get(t, d, append(e, "configMapRef")...); !v.IsNull() {
			envFrom = append(envFrom, "configmap "+str(t, d, append(e, "configMapRef", "name")...)+" prefix "+str(t, d, append(e, "prefix")...))
		}
	}
	if want := []string{"secret tenant-credentials", "configmap flags prefix FLAG_"}; !slices.Equal(envFrom, want) {
		t.Errorf("envFrom = %q, want %q", envFrom, want)
	}
	if got := strMap(t, rec.byName(t, "t-flags").Inputs, "data"); !maps.Equal(got, map[string]string{"new-ui": "on"}) {
		t.Errorf("flags data = %v", got)
	}

	svc := rec.byName(t, "t-service").Inputs
	if got := str(t, svc, "spec", "type"); got != "ClusterIP" {
		t.Errorf("Service type = %q, want ClusterIP", got)
	}
	selector := strMap(t, d, "spec", "selector", "matchLabels")
	if got := strMap(t, svc, "spec", "selector"); !maps.Equal(got, selector) {
		t.Errorf("Service selector %v differs from the Deployment's %v", got, selector)
	}
	if got := strMap(t, d, "spec", "template", "metadata", "labels"); !maps.Equal(got, selector) {
		t.Errorf("pod labels %v differ from the selector %v", got, selector)
	}
	ing := rec.byName(t, "t-ingress").Inputs
	if got := str(t, ing, "spec", "rules", "0", "host"); got != "acme.example.com" {
		t.Errorf("Ingress host = %q", got)
	}
	if got := str(t, ing, "spec", "rules", "0", "http", "paths", "0", "backend", "service", "name"); got != "app" {
		t.Errorf("Ingress backend = %q", got)
	}
}

func TestInvalidArgs(t *testing.T) {
	tests := []struct {
		name    string
		change  func(a *TenantStackArgs, p providers)
		wantErr []string
	}{
		{name: "uppercase id", change: func(a *TenantStackArgs, _ providers) { a.TenantID = "Acme" },
			wantErr: []string{`tenant id "Acme" contains the uppercase letter`}},
		{name: "41-character id", change: func(a *TenantStackArgs, _ providers) { a.TenantID = strings.Repeat("x", 41) },
			wantErr: []string{"is 41 characters long"}},
		{name: "reserved id", change: func(a *TenantStackArgs, _ providers) { a.TenantID = "kube-system" },
			wantErr: []string{`tenant id "kube-system" is reserved`}},
		{name: "glob id", change: func(a *TenantStackArgs, _ providers) { a.TenantID = "*" },
			wantErr: []string{`contains '*'`}},
		{name: "quote id", change: func(a *TenantStackArgs, _ providers) { a.TenantID = `a"b` },
			wantErr: []string{`contains '"'`}},
		{name: "empty id", change: func(a *TenantStackArgs, _ providers) { a.TenantID = "" },
			wantErr: []string{"tenant id is empty"}},
		{name: "unknown tier", change: func(a *TenantStackArgs, _ providers) { a.Tier = "dedicated" },
			wantErr: []string{`tier "dedicated" is unknown; allowed: shared, schema, database`}},
		{name: "missing tier", change: func(a *TenantStackArgs, _ providers) { a.Tier = "" },
			wantErr: []string{"tier is empty"}},
		{name: "missing providers", change: func(a *TenantStackArgs, _ providers) {
			a.PostgresProvider, a.RedisProvider, a.KubernetesProvider = nil, nil, nil
		}, wantErr: []string{"PostgresProvider is required", "RedisProvider is required", "KubernetesProvider is required"}},
		{name: "typed nil provider", change: func(a *TenantStackArgs, _ providers) {
			a.KubernetesProvider = (*kubernetes.Provider)(nil)
		}, wantErr: []string{"KubernetesProvider is required"}},
		{name: "missing passwords", change: func(a *TenantStackArgs, _ providers) { a.PostgresPassword, a.RedisPassword = nil, nil },
			wantErr: []string{"PostgresPassword is required", "RedisPassword is required"}},
		{name: "short password", change: func(a *TenantStackArgs, _ providers) { a.RedisPassword = pulumi.String("hunter2") },
			wantErr: []string{"RedisPassword is 7 characters long; use at least 16"}},
		{name: "negative connection limit", change: func(a *TenantStackArgs, _ providers) { a.ConnectionLimit = -1 },
			wantErr: []string{"ConnectionLimit -1 is negative"}},
		{name: "missing hosts", change: func(a *TenantStackArgs, _ providers) { a.Platform.PostgresHost, a.Platform.RedisHost = "", "" },
			wantErr: []string{"Platform.PostgresHost is required", "Platform.RedisHost is required"}},
		{name: "no egress CIDRs", change: func(a *TenantStackArgs, _ providers) { a.Platform.EgressCIDRs = nil },
			wantErr: []string{"Platform.EgressCIDRs is required"}},
		{name: "egress to everything", change: func(a *TenantStackArgs, _ providers) { a.Platform.EgressCIDRs = []string{"0.0.0.0/0"} },
			wantErr: []string{`"0.0.0.0/0" covers every address`}},
		{name: "egress not a CIDR", change: func(a *TenantStackArgs, _ providers) { a.Platform.EgressCIDRs = []string{"10.0.0.5"} },
			wantErr: []string{`"10.0.0.5" is not a CIDR`}},
		{name: "bad port", change: func(a *TenantStackArgs, _ providers) { a.Platform.RedisPort = 70000 },
			wantErr: []string{"Platform.RedisPort 70000 is not a port"}},
		{name: "OTel endpoint without port", change: func(a *TenantStackArgs, _ providers) { a.Platform.OTelEndpoint = "http://otel" },
			wantErr: []string{`Platform.OTelEndpoint "http://otel" has no port`}},
		{name: "bad platform database", change: func(a *TenantStackArgs, _ providers) { a.Platform.PlatformDatabase = `plat"form` },
			wantErr: []string{"Platform.PlatformDatabase"}},
		{name: "bad quantity", change: func(a *TenantStackArgs, _ providers) { a.Quota.Memory = "4 GB" },
			wantErr: []string{`Quota.Memory "4 GB" is not a positive Kubernetes quantity`}},
		{name: "negative pods", change: func(a *TenantStackArgs, _ providers) { a.Quota.Pods = -1 },
			wantErr: []string{"Quota.Pods -1 is negative"}},
		{name: "bad limit", change: func(a *TenantStackArgs, _ providers) { a.Limits.CPULimit = "lots" },
			wantErr: []string{`Limits.CPULimit "lots"`}},
		{name: "bad flag key", change: func(a *TenantStackArgs, _ providers) { a.Flags = map[string]string{"a b": "x"} },
			wantErr: []string{`Flags: key "a b": flag keys are 1 to 63`}},
		{name: "workload without image", change: func(a *TenantStackArgs, _ providers) { a.Workload = &WorkloadArgs{} },
			wantErr: []string{"Workload.Image is required"}},
		{name: "workload bad host", change: func(a *TenantStackArgs, _ providers) {
			a.Workload = &WorkloadArgs{Image: "x", Host: "Acme.example.com"}
		}, wantErr: []string{`Workload.Host: host "Acme.example.com": use a DNS name`}},
		{name: "every problem at once", change: func(a *TenantStackArgs, _ providers) {
			a.TenantID, a.Tier, a.PostgresPassword = "ACME", "x", nil
		}, wantErr: []string{"uppercase", `tier "x" is unknown`, "PostgresPassword is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _, err := run(t, func(p providers) *TenantStackArgs {
				a := validArgs(TierSchema)(p)
				tt.change(a, p)
				return a
			})
			if err == nil {
				t.Fatal("NewTenantStack succeeded, want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// Nothing is registered before the arguments pass.
			for _, a := range rec.all() {
				if a.TypeToken != tPGProvider && a.TypeToken != tK8sProvider {
					t.Errorf("%s %s was registered although the arguments are invalid", a.TypeToken, a.Name)
				}
			}
		})
	}
}

func TestNilArgs(t *testing.T) {
	_, _, err := run(t, func(providers) *TenantStackArgs { return nil })
	if err == nil || !strings.Contains(err.Error(), "args are required") {
		t.Fatalf("err = %v, want args are required", err)
	}
}

// During a tier move the stack keeps the other tier's schema or database
// and its owner, under the same resource names it has on its own tier, and
// grants the login role nothing there: tenantctl move grants and revokes in
// the cutover.
func TestMovingTierKeepsTheOtherCopy(t *testing.T) {
	tests := []struct {
		tier, moving Tier
		want, absent []string // resource names
	}{
		{TierShared, TierSchema, []string{"t-pg-schema", "t-pg-owner"}, []string{"t-pg-schema-usage", "t-pg-tables", "t-pg-database"}},
		{TierShared, TierDatabase, []string{"t-pg-database", "t-pg-owner"}, []string{"t-pg-schema-usage", "t-pg-tables", "t-pg-schema"}},
		{TierSchema, TierDatabase, []string{"t-pg-schema", "t-pg-database", "t-pg-owner", "t-pg-schema-usage"}, nil},
		{TierDatabase, TierShared, []string{"t-pg-database", "t-pg-owner"}, []string{"t-pg-schema"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.tier)+" moving from "+string(tt.moving), func(t *testing.T) {
			rec, _ := mustRun(t, with(validArgs(tt.tier), func(a *TenantStackArgs) { a.MovingTier = tt.moving }))
			names := map[string]int{}
			for _, a := range rec.all() {
				names[a.Name]++
			}
			for _, n := range tt.want {
				if names[n] != 1 {
					t.Errorf("%s registered %d times, want once", n, names[n])
				}
			}
			for _, n := range tt.absent {
				if names[n] != 0 {
					t.Errorf("%s registered; the moving copy gets no grants", n)
				}
			}
			if tt.moving == TierDatabase {
				if n := str(t, rec.byName(t, "t-pg-database").Inputs, "owner"); n != "tenant_acme_corp_owner" {
					t.Errorf("the other copy's database is owned by %q", n)
				}
			}
			reg := rec.byName(t, "t-pg-registration").Inputs
			if got := str(t, reg, "tier"); got != string(tt.tier) {
				t.Errorf("registered on tier %q, want the stack's tier %s", got, tt.tier)
			}
		})
	}
	t.Run("the stack's own tier is refused", func(t *testing.T) {
		_, _, err := run(t, with(validArgs(TierSchema), func(a *TenantStackArgs) { a.MovingTier = TierSchema }))
		if err == nil || !strings.Contains(err.Error(), "a move goes to another tier") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("an unknown tier is refused", func(t *testing.T) {
		_, _, err := run(t, with(validArgs(TierSchema), func(a *TenantStackArgs) { a.MovingTier = "gold" }))
		if err == nil || !strings.Contains(err.Error(), "MovingTier") {
			t.Errorf("err %v", err)
		}
	})
}
