// Package policies holds the integration tests of the tenantstack-guardrails
// policy pack (build tag integration): the built pack binary speaking the
// analyzer protocol, and real `pulumi preview --policy-pack` runs refusing
// unsafe tenant programs.
package policies
