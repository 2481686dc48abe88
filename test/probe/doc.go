// Package probe holds the integration tests of internal/probe (build tag
// integration), against the PostgreSQL, PgBouncer, Redis and Kubernetes API
// server of the platform named by TENANTSTACK_DEV_ENV.
//
// The tests lay tenants out themselves, as the admin, the way the
// TenantStack component does (roles, schema, database, registry row, Redis
// ACL user, namespace with a service account and a Role), installing the
// shared-tier contract first where the platform lacks it. Then they check
// that a properly isolated pair passes every probe on every tier, and that
// each deliberate weakening makes the matching probe fail and say what
// leaked.
package probe
