// Package probe runs the live isolation probes behind `tenantctl verify` and
// `tenantctl create --verify`: it logs in as one tenant with that tenant's
// own credentials and tries to reach every other tenant's data, in
// PostgreSQL (directly and through PgBouncer), Redis and Kubernetes.
//
// Each probe is an attack that must be refused, or a self check that must
// succeed: the tenant can read and write its own row, key and namespace, so
// a platform that refuses everything (and would pass every attack) fails
// verify instead. A probe that cannot run (a login fails, a fixture is
// missing) fails too: the probes fail closed.
//
// Run needs the platform's admin endpoints (Admin) to seed markers that
// belong to the other tenants, to read the catalog (role attributes and
// memberships, row-level security of the shared tables), to ask Redis which
// commands an ACL user may run without running destructive ones (ACL
// DRYRUN), and to ask the Kubernetes API server what a tenant's service
// account may do (SubjectAccessReview). Everything it seeds is named after a
// random run id and removed before Run returns.
package probe
