// Package fleet operates tenants: one small Pulumi stack per tenant (project
// "tenant", stack named after the tenant), run inline through the Automation
// API with the TenantStack component, against the endpoints the platform
// stack exports. It also runs the live isolation probes of verify, exports a
// tenant's data before delete, and checks that nothing is left after it.
package fleet
