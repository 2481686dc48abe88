#!/usr/bin/env bash
# README step 1: bring up the local platform, onboard one tenant per
# isolation tier, prove each is isolated from the others with live probes,
# and print how long each step took. Safe to run again: every step
# converges (an existing tenant is verified, not recreated).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tenantctl=$root/bin/tenantctl
export PATH=$root/bin:$("$root"/tools/build.sh --path):$PATH

steps=()
moved_msg=
# ledger writes, as each tenant with its own credentials, the same
# unqualified SQL: its tier's search_path finds the tables.
ledger() {
	local t url
	for t in acme globex initech; do
		url=$("$tenantctl" credentials "$t" -o json | sed -n 's/.*"pooler_url": *"\([^"]*\)".*/\1/p' | head -1)
		psql -X -q -v ON_ERROR_STOP=1 "$url" >/dev/null <<'SQL'
INSERT INTO accounts (display_name, currency) SELECT 'operating', 'EUR'
	WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE display_name = 'operating');
INSERT INTO transactions (account_id, amount_minor, memo)
	SELECT id, 1000, 'demo deposit' FROM accounts WHERE display_name = 'operating';
SQL
	done
}

# move_under_load moves tenant $1 to tier $2 while a writer books a
# transaction every ~20ms through PgBouncer with the tenant's credentials
# (retrying what the cutover refuses with 40001, as an application does),
# then prints the write pause the move measured and what the writer saw.
move_under_load() {
	local t=$1 tier=$2 url dir cur
	cur=$("$tenantctl" get "$t" -o json | sed -n 's/.*"tier": *"\([^"]*\)".*/\1/p' | head -1)
	if [ "$cur" = "$tier" ]; then
		# A demo run before this one moved it: move it back first.
		"$tenantctl" move "$t" --tier shared --finalize --yes >/dev/null
	fi
	url=$("$tenantctl" credentials "$t" -o json | sed -n 's/.*"pooler_url": *"\([^"]*\)".*/\1/p' | head -1)
	dir=$(mktemp -d)
	(
		ok=0 retried=0 failed=0 longest=0
		while [ ! -e "$dir/stop" ]; do
			t0=$(date +%s%N)
			until out=$(psql -X -q -v ON_ERROR_STOP=1 "$url" -c "INSERT INTO transactions (account_id, amount_minor, memo)
				SELECT id, 1, 'load' FROM accounts WHERE display_name = 'operating'" 2>&1); do
				case $out in
				*"moved to another tier"*) retried=$((retried + 1)) ;;
				*) failed=$((failed + 1)); echo "$out" >>"$dir/errors"; break ;;
				esac
			done
			ms=$((($(date +%s%N) - t0) / 1000000))
			[ "$ms" -gt "$longest" ] && longest=$ms
			ok=$((ok + 1))
			sleep 0.02
		done
		echo "$ok $retried $failed $longest" >"$dir/result"
	) &
	local load=$!
	sleep 1
	"$tenantctl" move "$t" --tier "$tier" --finalize --yes -o json >"$dir/move.json"
	sleep 1
	touch "$dir/stop"
	wait "$load"
	local pause rows
	pause=$(sed -n 's/.*"pauseNanos": *\([0-9]*\).*/\1/p' "$dir/move.json" | head -1)
	rows=$(sed -n 's/.*"rowsCompared": *\([0-9]*\).*/\1/p' "$dir/move.json" | head -1)
	read -r ok retried failed longest <"$dir/result"
	moved_msg="moved $t to the $tier tier: writes paused $((pause / 1000000)) ms at the cutover, $rows rows compared; the load wrote $ok times ($retried retried after the pause refused them, $failed failed), longest write ${longest} ms"
	if [ -s "$dir/errors" ]; then
		cat "$dir/errors" >&2
	fi
	rm -rf "$dir"
	echo "$moved_msg" >&2
	if [ "$failed" -ne 0 ]; then
		echo "the load saw $failed failed writes during the move" >&2
		return 1
	fi
}

step() {
	local name=$1
	shift
	local start=$SECONDS
	echo "==> $name" >&2
	"$@"
	steps+=("$name	$((SECONDS - start))s")
}

create() {
	local name=$1 tier=$2
	if "$tenantctl" get "$name" >/dev/null 2>&1; then
		echo "tenant $name exists; keeping it" >&2
	else
		"$tenantctl" create "$name" --tier "$tier" >/dev/null
	fi
}

step "platform services up (PostgreSQL, PgBouncer, Redis, Kubernetes)" "$tenantctl" dev up
migrations=$root/examples/ledger/migrations
step "platform stack up (application schema: examples/ledger)" "$tenantctl" platform up --migrations "$migrations" >/dev/null
step "application schema 0001-0003 on the shared schema" "$tenantctl" migrate up --to 3 --yes >/dev/null
step "create tenant acme (shared tier: RLS)" create acme shared
step "create tenant globex (schema tier)" create globex schema
step "create tenant initech (database tier)" create initech database
step "roll out 0004 in waves (canary 1, then 2 at a time; contract 0005 held)" "$tenantctl" migrate up --canary 1 --parallel 2 --yes >/dev/null
step "the same SQL on every tier: an account and a transaction per tenant" ledger
step "move acme from shared to schema under a small load (zero downtime)" move_under_load acme schema
step "verify acme against globex, initech" "$tenantctl" verify acme --against globex --against initech >/dev/null
step "verify globex against acme, initech" "$tenantctl" verify globex --against acme --against initech >/dev/null
step "verify initech against acme, globex" "$tenantctl" verify initech --against acme --against globex >/dev/null

echo
"$tenantctl" list
echo
"$tenantctl" migrate status
echo
printf 'STEP\tTIME\n'
printf '%s\n' "${steps[@]}"
echo
echo "$moved_msg"
echo "Every probe passed: no tenant could read, write or list another's rows, keys or objects."
echo "See one tenant's probes with: bin/tenantctl verify acme"
