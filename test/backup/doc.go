// Package backup backs up tenants of every tier into encrypted
// archives and restores them: into the same tenant while another tenant of
// the shared tables writes, into a new tenant of another tier, from an
// archive of an older schema version; it checks that corrupt, truncated,
// wrongly encrypted, foreign and newer archives change nothing; it deletes a
// tenant with a retention period, brings it back with restore and resume,
// purges it once due, checks the deletion evidence in the audit log, and
// brings it back from its archive after the purge.
package backup
