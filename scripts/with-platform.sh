#!/usr/bin/env bash
# Runs a command against a fresh local platform on free ports under a
# temporary TENANTSTACK_HOME, then stops the platform and removes its data,
# whatever the command's outcome. The command sees TENANTSTACK_HOME and
# TENANTSTACK_DEV_ENV (the file holding `tenantctl dev env -o json`), and the
# toolchain on PATH.
#   scripts/with-platform.sh go test -tags integration ./test/...
# KEEP_PLATFORM=1 leaves the platform running for debugging.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tenantctl=$root/bin/tenantctl
[[ -x $tenantctl ]] || { echo "with-platform: $tenantctl is missing; run make build" >&2; exit 1; }

TENANTSTACK_HOME=$(mktemp -d /tmp/tenantstack-test.XXXXXX)
export TENANTSTACK_HOME
cleanup() {
	local rc=$?
	if [[ ${KEEP_PLATFORM:-} == 1 ]]; then
		echo "with-platform: platform kept running; TENANTSTACK_HOME=$TENANTSTACK_HOME" >&2
		exit $rc
	fi
	"$tenantctl" dev down --purge --yes >&2 || echo "with-platform: dev down failed; state kept in $TENANTSTACK_HOME" >&2
	rm -rf "$TENANTSTACK_HOME"
	exit $rc
}
trap cleanup EXIT

PATH=$root/bin:$("$root"/tools/build.sh --path):$PATH
export PATH
start=$SECONDS
"$tenantctl" dev up >&2
echo "with-platform: platform ready in $((SECONDS - start))s (TENANTSTACK_HOME=$TENANTSTACK_HOME)" >&2
"$tenantctl" dev env -o json >"$TENANTSTACK_HOME/env.json"
export TENANTSTACK_DEV_ENV=$TENANTSTACK_HOME/env.json
"$@"
