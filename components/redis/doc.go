// Package redis provides the platform's Redis component: the ACL baseline
// (default user off, an admin user, ACLs persisted in an aclfile) on an
// existing server (external mode) or a StatefulSet in the cluster
// (incluster mode).
package redis
