// Package rotate is the live side of a credential rotation: it works on
// PostgreSQL (and so on PgBouncer's server connections) as the platform's
// admin, counting and ending the sessions of a login role that is being
// revoked. It knows no fleet and no CLI; internal/fleet orders the phases
// (add the new credential, switch the Secret, revoke the old one) through
// the tenant's stack and calls in here between them.
package rotate
