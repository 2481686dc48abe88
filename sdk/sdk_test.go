package tenantstack_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/internal/version"
	tenantstack "github.com/tenantstack/tenantstack/sdk"
	"github.com/tenantstack/tenantstack/sdk/postgres"
	"github.com/tenantstack/tenantstack/sdk/redis"
)

// registration is what the mock monitor saw for one resource.
type registration struct {
	token, version string
	inputs         resource.PropertyMap
	secretOutputs  []string
}

type mocks struct {
	mu   sync.Mutex
	seen map[string]registration
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := registration{token: args.TypeToken, inputs: args.Inputs}
	if args.RegisterRPC != nil {
		r.version = args.RegisterRPC.GetVersion()
		r.secretOutputs = args.RegisterRPC.GetAdditionalSecretOutputs()
	}
	m.seen[args.Name] = r
	return args.Name + "-id", args.Inputs, nil
}

func (m *mocks) Call(pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

// TestResourcesAskForTheProviderVersion registers every SDK resource and
// checks its type token, that it asks the engine for the provider version
// the SDK is written against, and that secrets are marked.
func TestResourcesAskForTheProviderVersion(t *testing.T) {
	m := &mocks{seen: map[string]registration{}}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		prov, err := tenantstack.NewProvider(ctx, "prov", &tenantstack.ProviderArgs{
			PostgresURL: pulumi.String("postgres://a:b@h/db"), RedisURL: pulumi.String("redis://a:b@h"),
		})
		if err != nil {
			return err
		}
		opt := pulumi.Provider(prov)
		if _, err := postgres.NewRole(ctx, "role", &postgres.RoleArgs{Name: pulumi.String("t_acme"), Password: pulumi.String("pw"), MemberOf: pulumi.StringArray{pulumi.String("app_tenant")}}, opt); err != nil {
			return err
		}
		if _, err := postgres.NewDatabase(ctx, "database", &postgres.DatabaseArgs{Name: pulumi.String("d")}, opt); err != nil {
			return err
		}
		if _, err := postgres.NewSchema(ctx, "schema", &postgres.SchemaArgs{Name: pulumi.String("s")}, opt); err != nil {
			return err
		}
		if _, err := postgres.NewGrant(ctx, "grant", &postgres.GrantArgs{Role: pulumi.String("r"), ObjectType: pulumi.String("schema"),
			Schema: pulumi.String("s"), Privileges: pulumi.StringArray{pulumi.String("USAGE")}}, opt); err != nil {
			return err
		}
		if _, err := postgres.NewTenantRegistration(ctx, "registration", &postgres.TenantRegistrationArgs{TenantID: pulumi.String("acme"),
			RoleName: pulumi.String("t_acme"), Tier: pulumi.String("shared")}, opt); err != nil {
			return err
		}
		if _, err := postgres.NewTableIsolation(ctx, "isolation", &postgres.TableIsolationArgs{Table: pulumi.String("app.items")}, opt); err != nil {
			return err
		}
		if _, err := postgres.NewMigration(ctx, "migration", &postgres.MigrationArgs{Name: pulumi.String(postgres.ContractMigrationName),
			Steps: postgres.Steps(postgres.ContractSteps()...)}, opt); err != nil {
			return err
		}
		_, err = redis.NewACLUser(ctx, "acluser", &redis.ACLUserArgs{Username: pulumi.String("t-acme"), Password: pulumi.String("pw"),
			KeyPatterns: pulumi.StringArray{pulumi.String("t:acme:*")}}, opt)
		return err
	}, pulumi.WithMocks("project", "stack", m))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"prov": "pulumi:providers:tenantstack", "role": "tenantstack:postgres:Role", "database": "tenantstack:postgres:Database",
		"schema": "tenantstack:postgres:Schema", "grant": "tenantstack:postgres:Grant", "registration": "tenantstack:postgres:TenantRegistration",
		"isolation": "tenantstack:postgres:TableIsolation", "migration": "tenantstack:postgres:Migration", "acluser": "tenantstack:redis:AclUser",
	}
	for name, token := range want {
		r, ok := m.seen[name]
		if !ok {
			t.Fatalf("%s was not registered", name)
		}
		if r.token != token {
			t.Errorf("%s registered as %s, want %s", name, r.token, token)
		}
		if r.version != version.ProviderVersion {
			t.Errorf("%s asks for provider version %q, want %q", name, r.version, version.ProviderVersion)
		}
	}
	for _, name := range []string{"role", "acluser"} {
		r := m.seen[name]
		if !r.inputs["password"].IsSecret() {
			t.Errorf("%s password input is not secret", name)
		}
		if !slices.Contains(r.secretOutputs, "password") {
			t.Errorf("%s does not mark the password output secret: %v", name, r.secretOutputs)
		}
	}
	if !m.seen["prov"].inputs["postgresUrl"].IsSecret() || !m.seen["prov"].inputs["redisUrl"].IsSecret() {
		t.Error("provider URLs are not secret")
	}
	steps := m.seen["migration"].inputs["steps"].ArrayValue()
	if len(steps) != len(postgres.ContractSteps()) || steps[0].ObjectValue()["sql"].StringValue() != postgres.ContractSteps()[0].SQL {
		t.Errorf("migration steps did not reach the provider: %v", steps)
	}
}

// TestRequiredArgs refuses a resource without its required inputs, before
// registering anything.
func TestRequiredArgs(t *testing.T) {
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := postgres.NewRole(ctx, "role", &postgres.RoleArgs{})
		return err
	}, pulumi.WithMocks("project", "stack", &mocks{seen: map[string]registration{}}))
	if err == nil {
		t.Fatal("NewRole without a name succeeded")
	}
}
