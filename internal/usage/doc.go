// Package usage measures what each tenant uses on the live services, as
// the platform's admin: PostgreSQL bytes and rows on the tenant's tier
// (shared tier: its own rows of each shared table, measured; schema tier:
// its schema's relations; database tier: its database), its open
// connections, Redis keys and memory under its key prefix (SCAN and MEMORY
// USAGE), and its namespace's quota used against hard. It knows no fleet
// and no CLI; it writes the Prometheus exposition text of its reports.
package usage
