// Package provider implements pulumi-resource-tenantstack, the Pulumi
// provider for what no published provider manages for us: PostgreSQL roles,
// databases, schemas, privileges, the tenant registry, row-level security on
// shared tables and SQL migrations, and Redis ACL users.
//
// Every resource validates its inputs in Check without touching a server,
// reads the live object back in Read so that `pulumi refresh` reports changes
// made by hand, updates in place where the server allows it and asks for a
// replacement where it does not. Identifiers are always quoted with
// pgx.Identifier and values always travel as bind parameters.
package provider
