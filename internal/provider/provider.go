package provider

import (
	"context"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/tenantstack/tenantstack/internal/version"
)

// Name is the Pulumi package name; the binary is pulumi-resource-<Name>.
const Name = "tenantstack"

// New returns the provider with every resource and a fresh configuration.
func New() (p.Provider, error) {
	return infer.NewProviderBuilder().
		WithDisplayName("tenantstack").
		WithDescription("PostgreSQL roles, databases, schemas, grants, tenant registry, row-level security and migrations, "+
			"and Redis ACL users, for the tenantstack platform.").
		WithNamespace("tenantstack").
		WithGoImportPath("github.com/tenantstack/tenantstack/sdk").
		WithConfig(infer.Config(&Config{})).
		WithResources(
			infer.Resource(&Role{}),
			infer.Resource(&Database{}),
			infer.Resource(&Schema{}),
			infer.Resource(&Grant{}),
			infer.Resource(&TenantRegistration{}),
			infer.Resource(&TableIsolation{}),
			infer.Resource(&Migration{}),
			infer.Resource(&ACLUser{}),
		).
		Build()
}

// Run serves the provider to the Pulumi engine until it is told to stop.
func Run(ctx context.Context) error {
	prov, err := New()
	if err != nil {
		return err
	}
	return prov.Run(ctx, Name, version.ProviderVersion)
}
