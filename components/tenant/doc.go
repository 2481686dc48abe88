// Package tenant provides the TenantStack component: everything one tenant
// owns on the platform, in PostgreSQL, Redis and Kubernetes. It is the whole
// program of a tenant stack (one Pulumi stack per tenant), run inline by
// tenantctl (internal/fleet).
//
// PostgreSQL isolation depends on the tier:
//
//   - shared: the tenant's login role joins the group role app_tenant of the
//     platform's shared-tier contract (schema app, row-level security keyed by
//     app.current_tenant()) and is registered in tenantstack.tenants.
//   - schema: a schema named like the login role in the platform database,
//     owned by a NOLOGIN owner role; the login role gets USAGE and CRUD on the
//     tables and sequences in it, now and in the future. The default
//     search_path ("$user", public) finds the schema without session state.
//   - database: a database owned by a NOLOGIN owner role that PUBLIC cannot
//     connect to; the login role gets CONNECT, USAGE on its public schema and
//     CRUD on its tables and sequences, now and in the future.
//
// In every tier the login role has a connection limit and no privileged
// attribute, and holds CONNECT on the one database it uses. Nothing is
// granted to PUBLIC. The tenant is registered in tenantstack.tenants in every tier, so
// the platform has one list of tenants.
//
// Redis: one ACL user confined to keys and channels under "t:<id>:" and to an
// allowlist of commands that name their keys (RedisCommands); nothing that
// reaches keys without naming them (KEYS, SCAN, RANDOMKEY, SORT ... BY, EVAL)
// or acts on the server.
//
// Kubernetes: namespace "tenant-<id>" enforcing the restricted Pod Security
// Standard, a ServiceAccount without an automounted token, a Role with
// explicit resources and verbs, a ResourceQuota that also forbids load
// balancers and node ports, a LimitRange, default-deny NetworkPolicies with
// allowances for the namespace itself, DNS and the platform endpoints, and a
// Secret with the tenant's credentials. An optional workload (Deployment,
// Service, Ingress) runs with those credentials.
//
// Names are derived from the tenant id by exported functions (RoleName,
// Namespace, KeyPrefix, ...) so the CLI and tests use the same ones, and
// ValidateTenantID and ParseTier let the CLI check its input before it
// touches anything.
//
// Passwords are inputs, not generated here: the caller makes them with
// crypto/rand and keeps them in stack config, so a re-run converges instead
// of rotating them.
package tenant
