// Package postgres provides the platform's PostgreSQL component: the
// platform database with the shared-tier contract installed, on an existing
// server (external mode: a managed database or the local platform's) or as
// a StatefulSet with PgBouncer in the cluster (incluster mode).
package postgres
