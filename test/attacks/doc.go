// Package attacks holds the isolation attack suites (build tag integration):
// tenants created with the built tenantctl, in pairs A and B of one tier,
// and A attacking B with A's own credentials in PostgreSQL (directly and
// through PgBouncer), Redis and Kubernetes, plus the lifecycle of a tenant
// (create, verify, suspend, resume, delete and nothing left).
//
// Every attack runs three times: against the real setup, where it must be
// blocked; against a setup the platform admin weakened on purpose (a
// GRANT, a role attribute, an ACL rule, a RoleBinding, a namespace label,
// a deleted quota), where it must get through, which proves it is able to
// fail; and against the restored setup, where it must be blocked again.
//
// Each suite has the stages setup, validate and teardown. Tenant names are
// saved under $TENANTSTACK_HOME/attacks/<suite>, so a kept setup can be
// validated again:
//
//	KEEP_PLATFORM=1 SKIP_teardown=1 scripts/with-platform.sh go test -tags integration -run TestRedisIsolation ./test/attacks/
//	export TENANTSTACK_HOME=<printed by with-platform.sh> TENANTSTACK_DEV_ENV=$TENANTSTACK_HOME/env.json
//	PATH=$PWD/bin:$(tools/build.sh --path):$PATH SKIP_setup=1 SKIP_teardown=1 go test -tags integration -run TestRedisIsolation ./test/attacks/
//
// The Redis and Kubernetes suites attack pairs of every tier when NIGHTLY=1
// (make test-nightly) and of the shared tier otherwise: the tier only
// changes PostgreSQL.
package attacks
