// Package devplatform tests "tenantctl dev" against real services: each
// test starts its own platform on free ports under a temporary
// TENANTSTACK_HOME with the tenantctl binary, checks every service for real,
// and stops it. The tests carry the build tag "integration".
package devplatform
