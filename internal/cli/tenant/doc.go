// Package tenant groups the tenant verbs of tenantctl. Each verb lives in a
// sub-package of its own (create, list, get, update, suspend, delete,
// credentials, verify, apply) with an Options struct, a NewCmd constructor
// and a run function; what they share (name and flag parsing, printing,
// confirmation, completion) is in shared.
package tenant
