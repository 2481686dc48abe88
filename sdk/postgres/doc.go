// Package postgres holds the tenantstack provider's PostgreSQL resources
// (tokens tenantstack:postgres:*) and the shared-tier contract, the SQL a
// Migration installs so that shared tables can be isolated per tenant.
package postgres
