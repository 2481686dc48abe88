// Package shared holds what the tenant verbs have in common: validation of
// tenant names, tiers, --quota and --flag values and whole specs; printing
// tenants; the confirmation prompt of destructive verbs; and shell
// completion of tenant names. Nothing here has side effects except Confirm,
// which reads a line, and the completion function, which lists tenants.
package shared
