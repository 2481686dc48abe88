package postgres

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/internal/pulumitest"
	"github.com/tenantstack/tenantstack/internal/version"
	pg "github.com/tenantstack/tenantstack/sdk/postgres"
)

// Type tokens of the component and of the children it may create.
const (
	tComponent   = "tenantstack:platform:Postgres"
	tProvider    = "pulumi:providers:tenantstack"
	tK8sProvider = "pulumi:providers:kubernetes"
	tDatabase    = "tenantstack:postgres:Database"
	tRole        = "tenantstack:postgres:Role"
	tGrant       = "tenantstack:postgres:Grant"
	tMigration   = "tenantstack:postgres:Migration"
	tSecret      = "kubernetes:core/v1:Secret"
	tService     = "kubernetes:core/v1:Service"
	tStatefulSet = "kubernetes:apps/v1:StatefulSet"
	tDeployment  = "kubernetes:apps/v1:Deployment"
)

// A password with every character a URL treats specially.
const adminPassword = "p@ss:w/rd?#%+ &=$,;[]0123456789"

// outputs are the component's outputs, resolved inside the program.
type outputs struct {
	urn, providerURN, k8sProviderURN string
	host, poolerHost, database       string
	port, poolerPort                 int
	adminURL, poolerURL              string
	adminSecret, poolerSecret        bool
	hostSecret                       bool
	hasProvider                      bool
}

// run runs a program that creates a Kubernetes provider and one Postgres
// from args(provider).
func run(t *testing.T, name string, args func(k8s pulumi.ProviderResource) *PostgresArgs) (*pulumitest.Recorder, outputs, error) {
	t.Helper()
	rec := pulumitest.NewRecorder(tComponent, tProvider, tK8sProvider, tDatabase, tRole, tGrant, tMigration, tSecret, tService, tStatefulSet, tDeployment)
	var out outputs
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		k8s, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		out.k8sProviderURN = string(pulumitest.Await[pulumi.URN](t, k8s.URN()))
		c, err := NewPostgres(ctx, name, args(k8s))
		if err != nil {
			return err
		}
		out.urn = string(pulumitest.Await[pulumi.URN](t, c.URN()))
		out.host = pulumitest.Await[string](t, c.Host)
		out.port = pulumitest.Await[int](t, c.Port)
		out.poolerHost = pulumitest.Await[string](t, c.PoolerHost)
		out.poolerPort = pulumitest.Await[int](t, c.PoolerPort)
		out.database = pulumitest.Await[string](t, c.Database)
		out.adminURL = pulumitest.Await[string](t, c.AdminURL)
		out.poolerURL = pulumitest.Await[string](t, c.PoolerURL)
		out.adminSecret = pulumi.IsSecret(c.AdminURL)
		out.poolerSecret = pulumi.IsSecret(c.PoolerURL)
		out.hostSecret = pulumi.IsSecret(c.Host) || pulumi.IsSecret(c.PoolerHost) || pulumi.IsSecret(c.Port)
		if c.Provider != nil {
			out.hasProvider = true
			out.providerURN = string(pulumitest.Await[pulumi.URN](t, c.Provider.URN()))
		}
		return nil
	}, pulumi.WithMocks("project", "stack", rec))
	return rec, out, err
}

// checkParentsAndProviders asserts every child is parented to the
// component, every tenantstack resource uses the component's provider at
// the SDK's version, and every Kubernetes object the given provider.
func checkParentsAndProviders(t *testing.T, rec *pulumitest.Recorder, out outputs) {
	t.Helper()
	for _, a := range rec.All() {
		if a.TypeToken == tComponent || (a.TypeToken == tK8sProvider && a.Name == "k8s") {
			continue
		}
		if p := a.RegisterRPC.GetParent(); p != out.urn {
			t.Errorf("%s %s: parent %q, want the component %q", a.TypeToken, a.Name, p, out.urn)
		}
		switch {
		case a.TypeToken == tProvider:
			if v := a.RegisterRPC.GetVersion(); v != version.ProviderVersion {
				t.Errorf("%s %s: version %q, want %q", a.TypeToken, a.Name, v, version.ProviderVersion)
			}
		case strings.HasPrefix(a.TypeToken, "tenantstack:"):
			if p := a.Provider; !strings.HasPrefix(p, out.providerURN+"::") || out.providerURN == "" {
				t.Errorf("%s %s: provider %q, want the component's %q", a.TypeToken, a.Name, p, out.providerURN)
			}
			if v := a.RegisterRPC.GetVersion(); v != version.ProviderVersion {
				t.Errorf("%s %s: version %q, want %q", a.TypeToken, a.Name, v, version.ProviderVersion)
			}
		case strings.HasPrefix(a.TypeToken, "kubernetes:"):
			if p := a.Provider; !strings.HasPrefix(p, out.k8sProviderURN+"::") {
				t.Errorf("%s %s: provider %q, want the given Kubernetes provider %q", a.TypeToken, a.Name, p, out.k8sProviderURN)
			}
		}
	}
}

// dependsOn reports whether a was registered depending on every URN in want.
func dependsOn(a pulumi.MockResourceArgs, want ...string) bool {
	deps := a.RegisterRPC.GetDependencies()
	for _, w := range want {
		if !slices.Contains(deps, w) {
			return false
		}
	}
	return true
}

func contractChildren(name string) []string {
	return []string{
		tDatabase + " " + name + "-database",
		tGrant + " " + name + "-tenant-connect",
		tMigration + " " + name + "-contract",
		tMigration + " " + name + "-platform",
		tRole + " " + name + "-app_owner",
		tRole + " " + name + "-app_tenant",
		tProvider + " " + name + "-admin",
	}
}

func TestNewPostgresExternal(t *testing.T) {
	adminURL := "postgres://admin:s3cr%40t@db.example.com:6543/postgres?sslmode=require"
	poolerURL := "postgres://admin:s3cr%40t@pooler.example.com:6432/postgres"
	rec, out, err := run(t, "pg", func(pulumi.ProviderResource) *PostgresArgs {
		return &PostgresArgs{
			AdminURL:  pulumi.ToSecret(pulumi.String(adminURL)).(pulumi.StringOutput),
			PoolerURL: pulumi.String(poolerURL),
		}
	})
	if err != nil {
		t.Fatalf("NewPostgres: %v", err)
	}

	if want := "urn:pulumi:stack::project::" + tComponent + "::pg"; out.urn != want {
		t.Errorf("component URN = %q, want %q", out.urn, want)
	}
	want := contractChildren("pg")
	slices.Sort(want)
	if got := rec.Children(tK8sProvider); !slices.Equal(got, want) {
		t.Errorf("children =\n%q\nwant\n%q", got, want)
	}
	checkParentsAndProviders(t, rec, out)

	// The provider holds the admin URL, as a secret, and no Redis URL.
	prov := rec.ByName(t, tProvider, "pg-admin")
	if got := pulumitest.Str(t, prov.Inputs, "postgresUrl"); got != adminURL || !pulumitest.SecretAt(t, prov.Inputs, "postgresUrl") {
		t.Errorf("provider postgresUrl = %q (secret %v), want the admin URL as a secret", got, pulumitest.SecretAt(t, prov.Inputs, "postgresUrl"))
	}
	if v, ok := prov.Inputs["redisUrl"]; ok && !v.IsNull() {
		t.Errorf("provider redisUrl = %v, want unset", v)
	}

	// The database, named by default, with CONNECT revoked from PUBLIC.
	db := rec.ByName(t, tDatabase, "pg-database")
	if got := pulumitest.Str(t, db.Inputs, "name"); got != "platform" {
		t.Errorf("database name = %q, want %q", got, "platform")
	}
	if v := pulumitest.Get(t, db.Inputs, "revokePublicConnect"); !v.IsBool() || !v.BoolValue() {
		t.Errorf("database revokePublicConnect = %v, want true", v)
	}
	// Destroy drops the database before the roles that own objects in it.
	ownerURN := pulumitest.URNOf(out.urn, tRole, "pg-app_owner")
	tenantURN := pulumitest.URNOf(out.urn, tRole, "pg-app_tenant")
	if !dependsOn(db, ownerURN, tenantURN) {
		t.Errorf("database depends on %q, want both roles (%s, %s)", db.RegisterRPC.GetDependencies(), ownerURN, tenantURN)
	}

	for res, role := range map[string]string{"pg-app_owner": "app_owner", "pg-app_tenant": "app_tenant"} {
		r := rec.ByName(t, tRole, res)
		if got := pulumitest.Str(t, r.Inputs, "name"); got != role {
			t.Errorf("%s: name = %q, want %q", res, got, role)
		}
		for _, k := range []string{"login", "password", "superuser"} {
			if v, ok := r.Inputs[resource.PropertyKey(k)]; ok && !v.IsNull() && !(v.IsBool() && !v.BoolValue()) {
				t.Errorf("%s: %s = %v, want unset: group roles never log in", res, k, v)
			}
		}
		// The migrations of the shared schema run as app_owner and see every
		// tenant's rows; the tenants' group never bypasses RLS.
		bypass := r.Inputs["bypassRls"]
		if want := role == "app_owner"; bypass.IsBool() != want || (want && !bypass.BoolValue()) {
			t.Errorf("%s: bypassRls = %v, want %v", res, bypass, want)
		}
	}

	grant := rec.ByName(t, tGrant, "pg-tenant-connect")
	for k, want := range map[string]string{"role": "app_tenant", "database": "platform", "objectType": "database"} {
		if got := pulumitest.Str(t, grant.Inputs, k); got != want {
			t.Errorf("grant %s = %q, want %q", k, got, want)
		}
	}
	if got := pulumitest.Strs(t, pulumitest.Get(t, grant.Inputs, "privileges")); !slices.Equal(got, []string{"CONNECT"}) {
		t.Errorf("grant privileges = %q, want [CONNECT]", got)
	}
	dbURN := pulumitest.URNOf(out.urn, tDatabase, "pg-database")
	if !dependsOn(grant, dbURN, tenantURN) {
		t.Errorf("grant depends on %q, want the database and app_tenant", grant.RegisterRPC.GetDependencies())
	}

	contract := rec.ByName(t, tMigration, "pg-contract")
	checkMigration(t, contract, pg.ContractMigrationName, "platform", pg.ContractSteps())
	if !dependsOn(contract, dbURN, ownerURN, tenantURN) {
		t.Errorf("contract depends on %q, want the database and both roles", contract.RegisterRPC.GetDependencies())
	}
	platform := rec.ByName(t, tMigration, "pg-platform")
	checkMigration(t, platform, PlatformMigrationName, "platform", platformSteps)
	if !strings.Contains(pulumitest.Str(t, platform.Inputs, "steps", "0", "sql"), "app.isolation_probe") {
		t.Error("the platform migration does not create app.isolation_probe")
	}
	if !dependsOn(platform, pulumitest.URNOf(out.urn, tMigration, "pg-contract")) {
		t.Errorf("platform migration depends on %q, want the contract (it calls app.enable_tenant_isolation)", platform.RegisterRPC.GetDependencies())
	}

	// Outputs: endpoints parsed from the URLs and not secret; URLs secret.
	if out.host != "db.example.com" || out.port != 6543 {
		t.Errorf("Host, Port = %q, %d, want db.example.com, 6543", out.host, out.port)
	}
	if out.poolerHost != "pooler.example.com" || out.poolerPort != 6432 {
		t.Errorf("PoolerHost, PoolerPort = %q, %d, want pooler.example.com, 6432", out.poolerHost, out.poolerPort)
	}
	if out.hostSecret {
		t.Error("host or port outputs are secret; only the URLs should be")
	}
	if out.database != "platform" {
		t.Errorf("Database = %q, want platform", out.database)
	}
	if out.adminURL != adminURL || !out.adminSecret {
		t.Errorf("AdminURL = %q (secret %v), want %q as a secret", out.adminURL, out.adminSecret, adminURL)
	}
	if out.poolerURL != poolerURL || !out.poolerSecret {
		t.Errorf("PoolerURL = %q (secret %v), want %q as a secret even though it was given in plain text", out.poolerURL, out.poolerSecret, poolerURL)
	}
	if !out.hasProvider {
		t.Error("Provider is nil in external mode")
	}
}

func checkMigration(t *testing.T, m pulumi.MockResourceArgs, name, database string, steps []pg.MigrationStep) {
	t.Helper()
	if got := pulumitest.Str(t, m.Inputs, "name"); got != name {
		t.Errorf("%s: name = %q, want %q", m.Name, got, name)
	}
	if got := pulumitest.Str(t, m.Inputs, "database"); got != database {
		t.Errorf("%s: database = %q, want %q", m.Name, got, database)
	}
	got := pulumitest.Get(t, m.Inputs, "steps")
	if !got.IsArray() || len(got.ArrayValue()) != len(steps) {
		t.Fatalf("%s: steps = %v, want %d steps", m.Name, got, len(steps))
	}
	for i, s := range steps {
		v := pulumitest.Get(t, m.Inputs, "steps", strconv.Itoa(i), "version")
		if !v.IsNumber() || int(v.NumberValue()) != s.Version {
			t.Errorf("%s: step %d version = %v, want %d", m.Name, i, v, s.Version)
		}
		if sql := pulumitest.Str(t, m.Inputs, "steps", strconv.Itoa(i), "sql"); sql != s.SQL {
			t.Errorf("%s: step %d SQL differs from the source:\n%s", m.Name, i, sql)
		}
	}
}

func TestNewPostgresDatabaseName(t *testing.T) {
	rec, out, err := run(t, "pg", func(pulumi.ProviderResource) *PostgresArgs {
		return &PostgresArgs{Mode: External, AdminURL: pulumi.String("postgres://a:b@h:5/postgres"), Database: "shared_tier"}
	})
	if err != nil {
		t.Fatalf("NewPostgres: %v", err)
	}
	if out.database != "shared_tier" {
		t.Errorf("Database = %q, want shared_tier", out.database)
	}
	if got := pulumitest.Str(t, rec.ByName(t, tDatabase, "pg-database").Inputs, "name"); got != "shared_tier" {
		t.Errorf("database name = %q, want shared_tier", got)
	}
	if got := pulumitest.Str(t, rec.ByName(t, tGrant, "pg-tenant-connect").Inputs, "database"); got != "shared_tier" {
		t.Errorf("grant database = %q, want shared_tier", got)
	}
	for _, m := range []string{"pg-contract", "pg-platform"} {
		if got := pulumitest.Str(t, rec.ByName(t, tMigration, m).Inputs, "database"); got != "shared_tier" {
			t.Errorf("%s database = %q, want shared_tier", m, got)
		}
	}
}

func TestNewPostgresEndpoints(t *testing.T) {
	tests := []struct {
		name, admin, pooler string
		host, poolerHost    string
		port, poolerPort    int
	}{
		{
			name:  "default port, pooler defaults to the admin URL",
			admin: "postgres://admin:pw@db.internal/postgres",
			host:  "db.internal", port: 5432, poolerHost: "db.internal", poolerPort: 5432,
		},
		{
			name:  "IPv6 hosts lose their brackets",
			admin: "postgres://admin:pw@[::1]:15432/postgres", pooler: "postgres://admin:pw@[fd00::7]:16432/postgres",
			host: "::1", port: 15432, poolerHost: "fd00::7", poolerPort: 16432,
		},
		{
			name:  "a password with URL delimiters does not confuse the parser",
			admin: (&url.URL{Scheme: "postgres", User: url.UserPassword("admin", adminPassword), Host: "127.0.0.1:5999", Path: "/postgres"}).String(),
			host:  "127.0.0.1", port: 5999, poolerHost: "127.0.0.1", poolerPort: 5999,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, out, err := run(t, "pg", func(pulumi.ProviderResource) *PostgresArgs {
				a := &PostgresArgs{AdminURL: pulumi.String(tc.admin)}
				if tc.pooler != "" {
					a.PoolerURL = pulumi.String(tc.pooler)
				}
				return a
			})
			if err != nil {
				t.Fatalf("NewPostgres: %v", err)
			}
			if out.host != tc.host || out.port != tc.port || out.poolerHost != tc.poolerHost || out.poolerPort != tc.poolerPort {
				t.Errorf("endpoints = %s:%d, pooler %s:%d; want %s:%d, pooler %s:%d",
					out.host, out.port, out.poolerHost, out.poolerPort, tc.host, tc.port, tc.poolerHost, tc.poolerPort)
			}
			wantPooler := tc.pooler
			if wantPooler == "" {
				wantPooler = tc.admin
			}
			if out.poolerURL != wantPooler || !out.poolerSecret {
				t.Errorf("PoolerURL = %q (secret %v), want %q as a secret", out.poolerURL, out.poolerSecret, wantPooler)
			}
		})
	}
}

func TestNewPostgresInvalidURL(t *testing.T) {
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := NewPostgres(ctx, "pg", &PostgresArgs{AdminURL: pulumi.String("postgres://admin:pw@db:notaport/postgres")})
		return err
	}, pulumi.WithMocks("project", "stack", pulumitest.NewRecorder(tComponent, tProvider, tK8sProvider, tDatabase, tRole, tGrant, tMigration, tSecret, tService, tStatefulSet, tDeployment)))
	if err == nil || !strings.Contains(err.Error(), "invalid PostgreSQL URL") {
		t.Fatalf("err = %v, want an invalid PostgreSQL URL error", err)
	}
}

func TestNewPostgresInCluster(t *testing.T) {
	ic := &InClusterArgs{AdminPassword: pulumi.ToSecret(pulumi.String(adminPassword)).(pulumi.StringOutput), SkipAwait: true}
	rec, out, err := run(t, "pg", func(k8s pulumi.ProviderResource) *PostgresArgs {
		ic.KubernetesProvider = k8s
		return &PostgresArgs{Mode: InCluster, InCluster: ic}
	})
	if err != nil {
		t.Fatalf("NewPostgres: %v", err)
	}

	// Without an AdminURL this program cannot reach the server: Kubernetes
	// objects only, no provider and no contract.
	want := []string{
		tStatefulSet + " pg-postgres",
		tDeployment + " pg-pgbouncer",
		tSecret + " pg-admin",
		tService + " pg-pgbouncer",
		tService + " pg-postgres",
	}
	slices.Sort(want)
	if got := rec.Children(tK8sProvider); !slices.Equal(got, want) {
		t.Errorf("children =\n%q\nwant\n%q", got, want)
	}
	checkParentsAndProviders(t, rec, out)
	if out.hasProvider {
		t.Error("Provider is set without an AdminURL")
	}
	if ic.Namespace != "" || ic.Image != "" || ic.PgBouncerImage != "" || ic.StorageSize != "" {
		t.Errorf("the caller's InClusterArgs were changed to %+v", *ic)
	}

	wantLabels := func(app string) map[string]string {
		return map[string]string{"app.kubernetes.io/name": app, "app.kubernetes.io/managed-by": "tenantstack"}
	}
	for _, c := range []struct{ typ, name, app string }{
		{tSecret, "pg-admin", "postgres"},
		{tService, "pg-postgres", "postgres"},
		{tStatefulSet, "pg-postgres", "postgres"},
		{tService, "pg-pgbouncer", "pgbouncer"},
		{tDeployment, "pg-pgbouncer", "pgbouncer"},
	} {
		a := rec.ByName(t, c.typ, c.name)
		if got := pulumitest.Str(t, a.Inputs, "metadata", "name"); got != c.name {
			t.Errorf("%s %s: metadata.name = %q", c.typ, c.name, got)
		}
		if got := pulumitest.Str(t, a.Inputs, "metadata", "namespace"); got != "platform-system" {
			t.Errorf("%s %s: namespace = %q, want platform-system", c.typ, c.name, got)
		}
		if got := pulumitest.Str(t, a.Inputs, "metadata", "annotations", "pulumi.com/skipAwait"); got != "true" {
			t.Errorf("%s %s: skipAwait annotation = %q, want true", c.typ, c.name, got)
		}
		if got := pulumitest.StringMap(t, pulumitest.Get(t, a.Inputs, "metadata", "labels")); !maps.Equal(got, wantLabels(c.app)) {
			t.Errorf("%s %s: labels = %v, want %v", c.typ, c.name, got, wantLabels(c.app))
		}
	}

	secret := rec.ByName(t, tSecret, "pg-admin")
	if got := pulumitest.Str(t, secret.Inputs, "stringData", "POSTGRES_PASSWORD"); got != adminPassword || !pulumitest.SecretAt(t, secret.Inputs, "stringData", "POSTGRES_PASSWORD") {
		t.Errorf("secret POSTGRES_PASSWORD = %q (secret %v), want the password as a secret", got, pulumitest.SecretAt(t, secret.Inputs, "stringData", "POSTGRES_PASSWORD"))
	}

	sts := rec.ByName(t, tStatefulSet, "pg-postgres").Inputs
	for path, want := range map[string]string{
		"spec.serviceName":                                                  "pg-postgres",
		"spec.template.spec.priorityClassName":                              "tenantstack-platform",
		"spec.template.spec.containers.0.image":                             "postgres:15",
		"spec.volumeClaimTemplates.0.spec.resources.requests.storage":       "10Gi",
		"spec.template.spec.containers.0.env.0.valueFrom.secretKeyRef.name": "pg-admin",
		"spec.template.spec.containers.0.env.0.valueFrom.secretKeyRef.key":  "POSTGRES_PASSWORD",
		"spec.template.spec.containers.0.env.0.name":                        "POSTGRES_PASSWORD",
	} {
		if got := pulumitest.Str(t, sts, strings.Split(path, ".")...); got != want {
			t.Errorf("statefulset %s = %q, want %q", path, got, want)
		}
	}
	if got := pulumitest.Strs(t, pulumitest.Get(t, sts, "spec", "template", "spec", "containers", "0", "args")); !slices.Contains(got, "password_encryption=scram-sha-256") {
		t.Errorf("postgres args = %q, want SCRAM password encryption", got)
	}
	if got := pulumitest.StringMap(t, pulumitest.Get(t, sts, "spec", "selector", "matchLabels")); !maps.Equal(got, wantLabels("postgres")) {
		t.Errorf("statefulset selector = %v", got)
	}
	pgSvc := rec.ByName(t, tService, "pg-postgres").Inputs
	if got := pulumitest.StringMap(t, pulumitest.Get(t, pgSvc, "spec", "selector")); !maps.Equal(got, wantLabels("postgres")) {
		t.Errorf("postgres service selector = %v, want the StatefulSet's pods", got)
	}

	dep := rec.ByName(t, tDeployment, "pg-pgbouncer").Inputs
	env := map[string]string{}
	for _, e := range pulumitest.Get(t, dep, "spec", "template", "spec", "containers", "0", "env").ArrayValue() {
		o := e.ObjectValue()
		if v := o["value"]; v.IsString() {
			env[o["name"].StringValue()] = v.StringValue()
		} else {
			env[o["name"].StringValue()] = "secret:" + pulumitest.Get(t, o, "valueFrom", "secretKeyRef", "key").StringValue()
		}
	}
	for k, want := range map[string]string{
		"POSTGRESQL_HOST":     "pg-postgres.platform-system.svc",
		"PGBOUNCER_POOL_MODE": "transaction",
		"PGBOUNCER_AUTH_TYPE": "scram-sha-256",
		"POSTGRESQL_PASSWORD": "secret:POSTGRES_PASSWORD",
	} {
		if env[k] != want {
			t.Errorf("pgbouncer env %s = %q, want %q", k, env[k], want)
		}
	}
	if got := pulumitest.Str(t, dep, "spec", "template", "spec", "containers", "0", "image"); got != "bitnami/pgbouncer:1.18.0" {
		t.Errorf("pgbouncer image = %q", got)
	}
	if got := pulumitest.Get(t, rec.ByName(t, tService, "pg-pgbouncer").Inputs, "spec", "ports", "0", "port"); got.NumberValue() != 6432 {
		t.Errorf("pgbouncer service port = %v, want 6432", got)
	}

	if out.host != "pg-postgres.platform-system.svc" || out.port != 5432 {
		t.Errorf("Host, Port = %q, %d", out.host, out.port)
	}
	if out.poolerHost != "pg-pgbouncer.platform-system.svc" || out.poolerPort != 6432 {
		t.Errorf("PoolerHost, PoolerPort = %q, %d", out.poolerHost, out.poolerPort)
	}
	if !out.adminSecret || !out.poolerSecret {
		t.Error("admin or pooler URL is not secret")
	}
	u := mustParse(t, out.adminURL)
	if pw, _ := u.User.Password(); u.User.Username() != "postgres" || pw != adminPassword || u.Host != "pg-postgres.platform-system.svc:5432" || u.Path != "/postgres" {
		t.Errorf("AdminURL = %q, want postgres:<password>@pg-postgres.platform-system.svc:5432/postgres", out.adminURL)
	}
}

func TestNewPostgresInClusterOptions(t *testing.T) {
	rec, out, err := run(t, "db", func(k8s pulumi.ProviderResource) *PostgresArgs {
		return &PostgresArgs{
			Mode:     InCluster,
			AdminURL: pulumi.String("postgres://postgres:pw@127.0.0.1:15432/postgres"),
			Database: "plat",
			InCluster: &InClusterArgs{
				KubernetesProvider: k8s,
				AdminPassword:      pulumi.String("pw"),
				Namespace:          "data",
				Image:              "registry.example.com/postgres:15.20",
				PgBouncerImage:     "registry.example.com/pgbouncer:1.18",
				StorageSize:        "50Gi",
			},
		}
	})
	if err != nil {
		t.Fatalf("NewPostgres: %v", err)
	}
	// With an AdminURL (a port-forward, say) the contract is installed too.
	want := append(contractChildren("db"),
		tStatefulSet+" db-postgres", tDeployment+" db-pgbouncer", tSecret+" db-admin",
		tService+" db-pgbouncer", tService+" db-postgres")
	slices.Sort(want)
	if got := rec.Children(tK8sProvider); !slices.Equal(got, want) {
		t.Errorf("children =\n%q\nwant\n%q", got, want)
	}
	checkParentsAndProviders(t, rec, out)
	if got := pulumitest.Str(t, rec.ByName(t, tProvider, "db-admin").Inputs, "postgresUrl"); got != "postgres://postgres:pw@127.0.0.1:15432/postgres" {
		t.Errorf("provider postgresUrl = %q, want the reachable AdminURL", got)
	}
	if got := pulumitest.Str(t, rec.ByName(t, tDatabase, "db-database").Inputs, "name"); got != "plat" {
		t.Errorf("database = %q, want plat", got)
	}

	for _, c := range []struct{ typ, name string }{{tSecret, "db-admin"}, {tStatefulSet, "db-postgres"}, {tDeployment, "db-pgbouncer"}} {
		a := rec.ByName(t, c.typ, c.name)
		if got := pulumitest.Str(t, a.Inputs, "metadata", "namespace"); got != "data" {
			t.Errorf("%s: namespace = %q, want data", c.name, got)
		}
		if v, ok := pulumitest.Get(t, a.Inputs, "metadata").ObjectValue()["annotations"]; ok && v.IsObject() && len(v.ObjectValue()) > 0 {
			t.Errorf("%s: annotations = %v, want none without SkipAwait", c.name, v)
		}
	}
	sts := rec.ByName(t, tStatefulSet, "db-postgres").Inputs
	if got := pulumitest.Str(t, sts, "spec", "template", "spec", "containers", "0", "image"); got != "registry.example.com/postgres:15.20" {
		t.Errorf("postgres image = %q", got)
	}
	if got := pulumitest.Str(t, sts, "spec", "volumeClaimTemplates", "0", "spec", "resources", "requests", "storage"); got != "50Gi" {
		t.Errorf("storage = %q", got)
	}
	dep := rec.ByName(t, tDeployment, "db-pgbouncer").Inputs
	if got := pulumitest.Str(t, dep, "spec", "template", "spec", "containers", "0", "image"); got != "registry.example.com/pgbouncer:1.18" {
		t.Errorf("pgbouncer image = %q", got)
	}
	// The outputs are how workloads in the cluster reach the server.
	if out.host != "db-postgres.data.svc" || out.poolerHost != "db-pgbouncer.data.svc" {
		t.Errorf("Host, PoolerHost = %q, %q", out.host, out.poolerHost)
	}
	if u := mustParse(t, out.adminURL); u.Host != "db-postgres.data.svc:5432" {
		t.Errorf("AdminURL host = %q, want the in-cluster service", u.Host)
	}
}

func TestNewPostgresRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name string
		args func(k8s pulumi.ProviderResource) *PostgresArgs
		want string
	}{
		{"nil args", func(pulumi.ProviderResource) *PostgresArgs { return nil }, `postgres "bad": args are required`},
		{"no AdminURL, default mode", func(pulumi.ProviderResource) *PostgresArgs { return &PostgresArgs{} },
			`postgres "bad": AdminURL is required in external mode`},
		{"no AdminURL, external mode", func(pulumi.ProviderResource) *PostgresArgs {
			return &PostgresArgs{Mode: External, PoolerURL: pulumi.String("postgres://a:b@h/postgres")}
		}, "AdminURL is required in external mode"},
		{"unknown mode", func(pulumi.ProviderResource) *PostgresArgs {
			return &PostgresArgs{Mode: "cloud", AdminURL: pulumi.String("postgres://a:b@h/postgres")}
		}, `unknown mode "cloud"; use "external" or "incluster"`},
		{"incluster without settings", func(pulumi.ProviderResource) *PostgresArgs {
			return &PostgresArgs{Mode: InCluster}
		}, "InCluster settings are required in incluster mode"},
		{"incluster without provider", func(pulumi.ProviderResource) *PostgresArgs {
			return &PostgresArgs{Mode: InCluster, InCluster: &InClusterArgs{AdminPassword: pulumi.String("pw")}}
		}, "InCluster.KubernetesProvider is required"},
		{"incluster without password", func(k8s pulumi.ProviderResource) *PostgresArgs {
			return &PostgresArgs{Mode: InCluster, InCluster: &InClusterArgs{KubernetesProvider: k8s}}
		}, "InCluster.AdminPassword is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, _, err := run(t, "bad", tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if got := rec.Children(tK8sProvider); len(got) != 0 {
				t.Errorf("registered %q before rejecting the args", got)
			}
			for _, a := range rec.All() {
				if a.TypeToken == tComponent {
					t.Error("the component was registered before its args were checked")
				}
			}
		})
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("%q is not a URL: %v", s, err)
	}
	return u
}
