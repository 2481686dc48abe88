package provider

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/tenantstack/tenantstack/internal/version"
)

// TestSchemaContract pins the type tokens and input names that components
// and policies are written against.
func TestSchemaContract(t *testing.T) {
	prov, err := New()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := p.GetSchema(context.Background(), Name, version.ProviderVersion, prov)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"tenantstack:postgres:Role": {"allowPrivileged", "bypassRls", "connectionLimit", "createDb", "createRole",
			"inherit", "login", "memberOf", "name", "password", "replication", "searchPath", "settings", "superuser"},
		"tenantstack:postgres:Database":           {"forceDestroy", "name", "owner", "revokePublicConnect"},
		"tenantstack:postgres:Schema":             {"database", "name", "owner"},
		"tenantstack:postgres:Grant":              {"database", "defaultPrivileges", "forRole", "objectType", "objects", "privileges", "role", "schema"},
		"tenantstack:postgres:TenantRegistration": {"database", "roleName", "tenantId", "tier"},
		"tenantstack:postgres:TableIsolation":     {"column", "database", "table"},
		"tenantstack:postgres:Migration":          {"database", "name", "steps"},
		"tenantstack:redis:AclUser":               {"allowPrivileged", "channelPatterns", "commands", "enabled", "keyPatterns", "password", "previousPassword", "username"},
	}
	var tokens []string
	for tk := range spec.Resources {
		tokens = append(tokens, tk)
	}
	sort.Strings(tokens)
	var wantTokens []string
	for tk := range want {
		wantTokens = append(wantTokens, tk)
	}
	sort.Strings(wantTokens)
	if !slices.Equal(tokens, wantTokens) {
		t.Fatalf("resource tokens = %v, want %v", tokens, wantTokens)
	}
	for tk, props := range want {
		var got []string
		for name := range spec.Resources[tk].InputProperties {
			got = append(got, name)
		}
		sort.Strings(got)
		if !slices.Equal(got, props) {
			t.Errorf("%s inputs = %v, want %v", tk, got, props)
		}
	}
	for _, s := range []struct{ token, prop string }{
		{"tenantstack:postgres:Role", "password"},
		{"tenantstack:redis:AclUser", "password"},
		{"tenantstack:redis:AclUser", "previousPassword"},
	} {
		if !spec.Resources[s.token].InputProperties[s.prop].Secret {
			t.Errorf("%s.%s is not marked secret", s.token, s.prop)
		}
	}
	for _, key := range []string{"postgresUrl", "redisUrl"} {
		v, ok := spec.Config.Variables[key]
		if !ok || !v.Secret {
			t.Errorf("config %s missing or not secret: %+v", key, v)
		}
	}
	for _, key := range []string{"sslMode", "connectTimeoutSeconds"} {
		if _, ok := spec.Config.Variables[key]; !ok {
			t.Errorf("config %s missing", key)
		}
	}
	if d := spec.Resources["tenantstack:postgres:Role"].InputProperties["inherit"].Default; d != true {
		t.Errorf("Role.inherit default = %v, want true", d)
	}
	if d := spec.Resources["tenantstack:postgres:Role"].InputProperties["connectionLimit"].Default; fmt.Sprint(d) != "-1" {
		t.Errorf("Role.connectionLimit default = %v, want -1", d)
	}
}

// TestConfigChangesNeverReplaceTheProvider drives DiffConfig as the engine
// does: a new admin URL must update the provider in place, since replacing
// it would replace every resource it manages.
func TestConfigChangesNeverReplaceTheProvider(t *testing.T) {
	prov, err := New()
	if err != nil {
		t.Fatal(err)
	}
	server, err := integration.NewServer(t.Context(), Name, semver.MustParse(version.ProviderVersion), integration.WithProvider(prov))
	if err != nil {
		t.Fatal(err)
	}
	cfg := func(pg string) property.Map {
		return property.NewMap(map[string]property.Value{
			"postgresUrl": property.New(pg).WithSecret(true),
			"redisUrl":    property.New("redis://admin:pw@127.0.0.1:6379").WithSecret(true),
		})
	}
	urn := resource.NewURN("stack", "project", "", "pulumi:providers:tenantstack", "default")
	old, err := server.CheckConfig(p.CheckRequest{Urn: urn, Inputs: cfg("postgres://admin:old@127.0.0.1:5432/postgres")})
	if err != nil || len(old.Failures) > 0 {
		t.Fatal(err, old.Failures)
	}
	news, err := server.CheckConfig(p.CheckRequest{Urn: urn, Inputs: cfg("postgres://admin:rotated@127.0.0.1:5432/postgres")})
	if err != nil || len(news.Failures) > 0 {
		t.Fatal(err, news.Failures)
	}
	d, err := server.DiffConfig(p.DiffRequest{Urn: urn, State: old.Inputs, OldInputs: old.Inputs, Inputs: news.Inputs})
	if err != nil {
		t.Fatal(err)
	}
	if !d.HasChanges || d.DetailedDiff["postgresUrl"].Kind != p.Update || d.DeleteBeforeReplace {
		t.Fatalf("rotating the admin URL: %+v", d)
	}
	for k, v := range d.DetailedDiff {
		if v.Kind != p.Update {
			t.Fatalf("config change of %s is %s: the provider, and every resource, would be replaced", k, v.Kind)
		}
	}
	same, err := server.DiffConfig(p.DiffRequest{Urn: urn, State: old.Inputs, OldInputs: old.Inputs, Inputs: old.Inputs})
	if err != nil || same.HasChanges {
		t.Fatalf("unchanged config: %+v %v", same, err)
	}
}

// TestMissingServerURL configures only Redis: PostgreSQL resources then
// fail with a message saying how to set postgresUrl, and the other way
// round, without contacting anything.
func TestMissingServerURL(t *testing.T) {
	for _, tc := range []struct {
		config, token, want string
		inputs              map[string]any
	}{
		{"redisUrl", "tenantstack:postgres:Role", "tenantstack:postgresUrl is not set", map[string]any{"name": "r"}},
		{"postgresUrl", "tenantstack:redis:AclUser", "tenantstack:redisUrl is not set", map[string]any{"username": "u"}},
	} {
		prov, err := New()
		if err != nil {
			t.Fatal(err)
		}
		server, err := integration.NewServer(t.Context(), Name, semver.MustParse(version.ProviderVersion), integration.WithProvider(prov))
		if err != nil {
			t.Fatal(err)
		}
		url := map[string]string{"redisUrl": "redis://a:b@127.0.0.1:1", "postgresUrl": "postgres://a:b@127.0.0.1:1/postgres"}[tc.config]
		if err := server.Configure(p.ConfigureRequest{Args: property.NewMap(map[string]property.Value{tc.config: property.New(url)})}); err != nil {
			t.Fatalf("configuring only %s: %v", tc.config, err)
		}
		urn := resource.NewURN("stack", "project", "", tokens.Type(tc.token), "r")
		check, err := server.Check(p.CheckRequest{Urn: urn, Inputs: inputs(tc.inputs)})
		if err != nil || len(check.Failures) > 0 {
			t.Fatal(err, check.Failures)
		}
		_, err = server.Create(p.CreateRequest{Urn: urn, Properties: check.Inputs})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "pulumi config set --secret") {
			t.Fatalf("%s with only %s: err = %v", tc.token, tc.config, err)
		}
	}
}
