// Package redis holds the tenantstack provider's Redis resources (tokens
// tenantstack:redis:*).
package redis
