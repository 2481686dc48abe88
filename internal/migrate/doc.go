// Package migrate applies the application's schema to every tenant target
// and rolls changes out across the fleet in waves.
//
// A target is where one copy of the application's tables lives:
//
//   - "app": the shared schema app of the platform database, once for every
//     shared-tier tenant, owned by the contract's owner role app_owner;
//   - a schema-tier tenant's schema, owned by the tenant's owner role;
//   - a database-tier tenant's database (schema public), owned likewise.
//
// Each target is migrated in one transaction with lock_timeout and
// statement_timeout, as its owner role (SET LOCAL ROLE), with search_path
// pinned to the target's schema. After the migration's statements the
// engine, as the admin again, makes the tables fit the tier in the same
// transaction:
//
//   - a table with the tenant column (tenant_id) is a tenant table: on the
//     shared schema it gets forced row-level security through
//     app.enable_tenant_isolation; on a tenant's own schema or database it
//     gets the tenant's id as the column's default and a CHECK constraint
//     (tenantstack_tenant), so rows have one shape on every tier and a tier
//     move copies them as they are;
//   - a table without it is platform-wide reference data: tenants read it,
//     never write it (SELECT only; INSERT, UPDATE, DELETE and TRUNCATE
//     revoked), and only a migration changes its rows.
//
// Then the engine checks what it relies on (no tenant table of app without
// forced RLS, no SECURITY DEFINER function without a pinned search_path,
// nothing granted to PUBLIC) and records the versions, with checksums, in
// tenantstack.schema_versions of the target's database, in the same
// transaction: a failure leaves the target at its previous version.
//
// The schema tenantstack is the control plane: no tenant role and not the
// owner roles have USAGE on it. The platform database's copy also holds
// the fleet's version (what the last rollout aimed at, which a new tenant
// is brought to), each target's version (a mirror that list reads) and the
// last failure of each target.
//
// One rollout runs at a time (a session advisory lock on the platform
// database); a killed rollout releases it with its connection, and running
// it again resumes, since every target records its own versions.
package migrate
