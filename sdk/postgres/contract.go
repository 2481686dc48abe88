package postgres

// ContractMigrationName is the migration set id of the shared-tier contract.
const ContractMigrationName = "tenantstack-contract"

// ContractSteps returns the shared-tier contract as ordered Migration steps,
// run by the platform admin (a superuser, or a member of app_owner):
//
//   - NOLOGIN roles app_owner (owns schema app and the registry) and
//     app_tenant (the group every tenant login role joins);
//   - schema app with nothing granted to PUBLIC, USAGE for app_tenant;
//   - the registry app.tenants, readable by nobody but its owner;
//   - schema tenantstack (the control plane: the registry
//     tenantstack.tenants, migration state), owned by the admin, with
//     nothing granted to anyone;
//   - app.current_tenant(): the tenant id of session_user (which SET ROLE
//     cannot change), derived from the login role's name
//     ("tenant_<id>", "_" for "-"), NULL for any other role. It reads no
//     setting a client could set and no table, and it is a plain SQL
//     expression the planner inlines, so a policy costs what a constant
//     WHERE costs (steps 1-3 made it a SECURITY DEFINER registry lookup,
//     1.6x on point lookups);
//   - app.enable_tenant_isolation(tbl, col): enables and forces RLS, one
//     policy for all commands with USING and WITH CHECK
//     col = app.current_tenant(), and that as the column's default;
//     idempotent; executable by the admin only;
//   - app_owner has BYPASSRLS (step 8): the application's migrations of
//     the shared schema run as it and must see every tenant's rows;
//   - step 9: a tenant's second login role ("tenant_<id>-2", used by
//     credential rotation) has the same identity: app.current_tenant()
//     cuts the name at its first "-", which no primary role name holds;
//   - default privileges: SELECT, INSERT, UPDATE, DELETE on tables and
//     USAGE, SELECT on sequences that app_owner or the admin create in app
//     go to app_tenant.
//
// Every step is idempotent, so re-applying the set after its Migration was
// deleted (which keeps the objects) succeeds. Pass it as
// Steps(ContractSteps()...) to a Migration named ContractMigrationName.
// Applied steps never change: amend the contract by appending steps.
func ContractSteps() []MigrationStep {
	return []MigrationStep{
		{Version: 1, SQL: contractRolesAndSchema},
		{Version: 2, SQL: contractRegistry},
		{Version: 3, SQL: contractCurrentTenant},
		{Version: 4, SQL: contractEnableIsolation},
		{Version: 5, SQL: contractDefaultPrivileges},
		{Version: 6, SQL: contractControlPlane},
		{Version: 7, SQL: contractCheapIdentity},
		{Version: 8, SQL: contractOwnerSeesAllRows},
		{Version: 9, SQL: contractSecondLogin},
	}
}

// ControlSchema is the schema of the platform's own tables: the registry,
// the application's schema versions and rollout state. No tenant role and
// not the application's owner role has USAGE on it; the tenant-facing
// schema app holds only tenant tables (forced RLS) and reference tables.
const ControlSchema = "tenantstack"

// RegistryTable is the tenant registry, in ControlSchema.
const RegistryTable = ControlSchema + ".tenants"

const contractRolesAndSchema = `
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'app_owner') THEN
		CREATE ROLE app_owner NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'app_tenant') THEN
		CREATE ROLE app_tenant NOLOGIN;
	END IF;
END
$$;
ALTER ROLE app_owner WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE app_tenant WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE SCHEMA IF NOT EXISTS app AUTHORIZATION app_owner;
ALTER SCHEMA app OWNER TO app_owner;
REVOKE ALL ON SCHEMA app FROM PUBLIC;
GRANT USAGE ON SCHEMA app TO app_tenant;
`

const contractRegistry = `
CREATE TABLE IF NOT EXISTS app.tenants (
	tenant_id  text        PRIMARY KEY
	           CHECK (tenant_id ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' AND length(tenant_id) <= 63),
	role_name  name        NOT NULL UNIQUE,
	tier       text        NOT NULL CHECK (tier IN ('shared', 'schema', 'database')),
	created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE app.tenants OWNER TO app_owner;
REVOKE ALL ON TABLE app.tenants FROM PUBLIC;
REVOKE ALL ON TABLE app.tenants FROM app_tenant;
`

const contractCurrentTenant = `
CREATE OR REPLACE FUNCTION app.current_tenant() RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT t.tenant_id FROM app.tenants AS t WHERE t.role_name = session_user
$$;
ALTER FUNCTION app.current_tenant() OWNER TO app_owner;
REVOKE ALL ON FUNCTION app.current_tenant() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.current_tenant() TO app_tenant;
`

const contractEnableIsolation = `
CREATE OR REPLACE FUNCTION app.enable_tenant_isolation(tbl regclass, col name DEFAULT 'tenant_id') RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
	               WHERE attrelid = tbl AND attname = col AND attnum > 0 AND NOT attisdropped) THEN
		RAISE EXCEPTION 'table % has no column %', tbl, col USING ERRCODE = 'undefined_column';
	END IF;
	EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
	EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
	EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', tbl);
	EXECUTE format('CREATE POLICY tenant_isolation ON %s AS PERMISSIVE FOR ALL TO PUBLIC '
	               'USING (%I = app.current_tenant()) WITH CHECK (%I = app.current_tenant())', tbl, col, col);
	EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT app.current_tenant()', tbl, col);
END
$$;
REVOKE ALL ON FUNCTION app.enable_tenant_isolation(regclass, name) FROM PUBLIC;
`

const contractDefaultPrivileges = `
ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA app
	GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO app_tenant;
ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA app
	GRANT USAGE, SELECT ON SEQUENCES TO app_tenant;
ALTER DEFAULT PRIVILEGES FOR ROLE app_owner
	REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA app
	GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO app_tenant;
ALTER DEFAULT PRIVILEGES IN SCHEMA app
	GRANT USAGE, SELECT ON SEQUENCES TO app_tenant;
`

// contractControlPlane moves the registry out of the tenant-facing schema
// app into the control-plane schema. A re-application after the Migration
// was deleted finds step 2 has made an empty app.tenants again: its rows
// (none) are merged and it is dropped.
const contractControlPlane = `
CREATE SCHEMA IF NOT EXISTS tenantstack;
ALTER SCHEMA tenantstack OWNER TO CURRENT_USER;
REVOKE ALL ON SCHEMA tenantstack FROM PUBLIC;
DO $$
BEGIN
	IF to_regclass('app.tenants') IS NOT NULL THEN
		IF to_regclass('tenantstack.tenants') IS NULL THEN
			ALTER TABLE app.tenants SET SCHEMA tenantstack;
		ELSE
			INSERT INTO tenantstack.tenants SELECT * FROM app.tenants ON CONFLICT DO NOTHING;
			DROP TABLE app.tenants;
		END IF;
	END IF;
END
$$;
ALTER TABLE tenantstack.tenants OWNER TO CURRENT_USER;
REVOKE ALL ON TABLE tenantstack.tenants FROM PUBLIC, app_owner, app_tenant;
`

// contractCheapIdentity makes app.current_tenant() an inlinable SQL
// expression on session_user. Every name in it is schema-qualified: an
// inlined body resolves names with the caller's search_path.
const contractCheapIdentity = `
CREATE OR REPLACE FUNCTION app.current_tenant() RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT CASE WHEN pg_catalog.starts_with(session_user::pg_catalog.text, 'tenant_')
	            THEN pg_catalog.replace(pg_catalog.substr(session_user::pg_catalog.text, 8), '_', '-') END
$$;
ALTER FUNCTION app.current_tenant() OWNER TO app_owner;
REVOKE ALL ON FUNCTION app.current_tenant() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.current_tenant() TO app_tenant;
`

// contractOwnerSeesAllRows lets app_owner, which the application's
// migrations of the shared schema run as, see every tenant's rows: forced
// row-level security applies to the table owner too, and a backfill
// (UPDATE accounts SET display_name = name) would otherwise change no row.
// app_owner cannot log in; only the admin becomes it, with SET ROLE.
const contractOwnerSeesAllRows = `
ALTER ROLE app_owner WITH BYPASSRLS;
`

// contractSecondLogin maps a tenant's second login role (tenant_<id>-2,
// see tenantspec.AltRoleName) to the same tenant, so that rotating to it
// changes no row a session sees. Role names derived from tenant ids never
// hold "-", so cutting at the first one changes no other name's tenant.
const contractSecondLogin = `
CREATE OR REPLACE FUNCTION app.current_tenant() RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT CASE WHEN pg_catalog.starts_with(session_user::pg_catalog.text, 'tenant_')
	            THEN pg_catalog.replace(pg_catalog.split_part(pg_catalog.substr(session_user::pg_catalog.text, 8), '-', 1), '_', '-') END
$$;
ALTER FUNCTION app.current_tenant() OWNER TO app_owner;
REVOKE ALL ON FUNCTION app.current_tenant() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.current_tenant() TO app_tenant;
`
