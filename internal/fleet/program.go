package fleet

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/components/tenant"
	"github.com/tenantstack/tenantstack/stacks/tenant/tenantprogram"
)

// tenantProgram is the inline program of one tenant stack
// (stacks/tenant/tenantprogram, which stacks/tenant runs by hand).
func tenantProgram(st state, p *Platform) pulumi.RunFunc { return tenantprogram.Program(st, p) }

// credentialsOutput is the tenant's credentials as the component reports them.
func credentialsOutput(c *tenant.TenantStack, spec Spec, p *Platform, pw Credentials) pulumi.MapOutput {
	return tenantprogram.CredentialsOutput(c, spec, p, pw)
}
