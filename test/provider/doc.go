// Package provider holds the integration tests of pulumi-resource-tenantstack
// (build tag integration). They drive the provider in process through
// pulumi-go-provider's integration server, against the PostgreSQL and Redis
// of the platform named by TENANTSTACK_DEV_ENV, and check every effect on
// the servers directly.
package provider
