#!/usr/bin/env bash
# Builds the offline toolchain from pinned Go modules into a cache outside the
# checkout, keyed by the pinned versions, so every clone on this machine (CI
# included) reuses it. With everything present it does nothing and says so.
#
#   tools/build.sh             download, then build what is missing, then print the bin directory
#   tools/build.sh --path      print the bin directory only (nothing is built)
#   tools/build.sh --download  only download every module the builds read, and check
#                              that each module directory read from disk exists
#
# Every module a build reads is downloaded explicitly first: `go list -m` prints
# an empty directory for a module that is not yet in the module cache, which is
# how a fresh machine once failed here.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

PULUMI_VERSION=v3.274.1
KUBERNETES_PROVIDER_VERSION=4.25.0
KUBE_VERSION=v1.37.2
ETCD_VERSION=v3.7.0
# Fixed so that a rebuild produces the same binary instead of relinking.
BUILD_DATE=2026-01-01T00:00:00Z

cache_root=${TENANTSTACK_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tenantstack/tools}
key=$( (echo "$PULUMI_VERSION $KUBERNETES_PROVIDER_VERSION $KUBE_VERSION $ETCD_VERSION $BUILD_DATE $(go env GOVERSION)"
	cat "$here"/pulumi/go.mod "$here"/pulumi/go.sum "$here"/kube/go.mod "$here"/kube/go.sum \
	"$here"/etcd/go.mod "$here"/etcd/go.sum "$here"/kubernetes/go.mod "$here"/kubernetes/go.sum \
	"$here"/kubernetes/cmd/pulumi-resource-kubernetes/main.go \
	"$here"/etcd/cmd/etcd/main.go) | sha256sum | cut -c1-16)
bin="$cache_root/$key/bin"

if [[ "${1:-}" == "--path" ]]; then
	echo "$bin"
	exit 0
fi

mode=build
case "${1:-}" in
"") ;;
--download) mode=download ;;
*)
	echo "tools/build.sh: unknown argument ${1}; use --path, --download or nothing" >&2
	exit 2
	;;
esac

export GOFLAGS="${GOFLAGS:--buildvcs=false} -mod=readonly"
export CGO_ENABLED=${CGO_ENABLED:-0}

total=$SECONDS
elapsed() { printf '%dm%02ds' $(((SECONDS - total) / 60)) $(((SECONDS - total) % 60)); }
log() { printf 'tools: [%s] %s\n' "$(elapsed)" "$*" >&2; }

# On a failure the step that failed is named with what to do about it.
current_step=""
current_hint=""
on_exit() {
	local rc=$?
	stop_heartbeat
	if ((rc != 0)) && [[ -n "$current_step" ]]; then
		log "FAILED at step \"$current_step\" (exit $rc)"
		log "what to do: $current_hint"
	fi
	exit "$rc"
}
trap on_exit EXIT

# A heartbeat while a long step runs, so a person watching knows it is alive.
heartbeat_pid=""
heartbeat() {
	local what=$1 every=${TENANTSTACK_TOOLS_HEARTBEAT:-60}
	((every > 0)) || return 0
	(
		sleeper=""
		trap '[[ -n "$sleeper" ]] && kill "$sleeper" 2>/dev/null; exit 0' TERM
		while :; do
			sleep "$every" &
			sleeper=$!
			wait "$sleeper"
			log "still $what"
		done
	) >/dev/null &
	heartbeat_pid=$!
}
stop_heartbeat() {
	if [[ -n "$heartbeat_pid" ]]; then
		kill "$heartbeat_pid" 2>/dev/null || true
		wait "$heartbeat_pid" 2>/dev/null || true
		heartbeat_pid=""
	fi
}

# moddir DIR MODULE: the module's directory in the module cache, downloading
# it first; an empty answer (the module is not there) is an error.
moddir() {
	local dir=$1 module=$2 out
	out=$(cd "$dir" && go mod download "$module" && go list -m -f '{{.Dir}}' "$module")
	if [[ -z "$out" || ! -d "$out" ]]; then
		log "module $module has no directory in $(go env GOMODCACHE) after go mod download"
		return 1
	fi
	echo "$out"
}

# download NAME DIR: fetches every module the builds in the tools module DIR need.
download() {
	local name=$1 dir=$2
	current_step="download modules for $name"
	current_hint="check that the Go module proxy is reachable ($(go env GOPROXY)) and that $dir/go.sum is complete; then run tools/build.sh again (finished downloads are kept)"
	local start=$SECONDS
	(cd "$dir" && go mod download)
	log "modules for $name ready in $((SECONDS - start))s"
}

kubernetes_provider_dir=""
download_all() {
	download etcd "$here/etcd"
	download "kube-apiserver, kube-controller-manager, kubectl" "$here/kube"
	download pulumi "$here/pulumi"
	download pulumi-resource-kubernetes "$here/kubernetes"
	current_step="find the Kubernetes provider module's directory"
	current_hint="run (cd tools/kubernetes && go mod download github.com/pulumi/pulumi-kubernetes/provider/v4) and check its output"
	kubernetes_provider_dir=$(moddir "$here/kubernetes" github.com/pulumi/pulumi-kubernetes/provider/v4)
	local f
	for f in schema.json terraform-mapping.json; do
		if [[ ! -f "$kubernetes_provider_dir/cmd/pulumi-resource-kubernetes/$f" ]]; then
			log "$kubernetes_provider_dir/cmd/pulumi-resource-kubernetes/$f is missing"
			false
		fi
	done
	current_step=""
}

kube_ldflags() {
	local minor=${KUBE_VERSION#v1.}
	minor=${minor%%.*}
	local f="-s -w"
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		f+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
		f+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE"
	done
	echo "$f"
}

build_pulumi() {
	# A compatible Pulumi CLI the user already has is kept.
	local existing
	existing=$(command -v pulumi 2>/dev/null || true)
	if [[ -n "$existing" && "$existing" != "$bin/pulumi" ]] &&
		"$existing" version 2>/dev/null | grep -Eq '^v3\.(2[7-9][0-9]|[3-9][0-9][0-9])\.'; then
		log "using the Pulumi CLI already installed at $existing ($("$existing" version))"
		ln -sf "$existing" "$bin/pulumi"
		return 0
	fi
	go build -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
		-o "$bin/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
	mv "$bin/pulumi.tmp" "$bin/pulumi"
}

build_kubernetes_provider() {
	(cd cmd/pulumi-resource-kubernetes && go run embedgen.go "$kubernetes_provider_dir" "$KUBERNETES_PROVIDER_VERSION")
	go build -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_PROVIDER_VERSION" \
		-o "$bin/pulumi-resource-kubernetes.tmp" ./cmd/pulumi-resource-kubernetes
	mv "$bin/pulumi-resource-kubernetes.tmp" "$bin/pulumi-resource-kubernetes"
}

# go build writes its output only on success, but a kill half way through a
# rename or a symlink must not leave a binary that looks finished: the
# builders above write NAME.tmp and rename it.
# gobuild OUT PACKAGE LDFLAGS
gobuild() {
	go build -ldflags "$3" -o "$1.tmp" "$2"
	mv "$1.tmp" "$1"
}

# run NAME ESTIMATE DIR COMMAND...: runs COMMAND in DIR unless bin/NAME exists.
run() {
	local name=$1 estimate=$2 dir=$3
	shift 3
	if [[ -x "$bin/$name" ]]; then
		return 0
	fi
	current_step="build $name"
	current_hint="read the go build error above; a build killed half way resumes from the Go build cache when you run tools/build.sh again"
	log "building $name (cold: about $estimate on 2 cores; warm: under a minute)"
	local start=$SECONDS
	heartbeat "building $name"
	(cd "$dir" && "$@")
	stop_heartbeat
	log "built $name in $((SECONDS - start))s"
	current_step=""
}

if [[ $mode == download ]]; then
	download_all
	log "every module the toolchain reads is in $(go env GOMODCACHE)"
	exit 0
fi

mkdir -p "$bin"
names=(etcd kube-apiserver kube-controller-manager kubectl pulumi pulumi-resource-kubernetes)
estimates=("1 min" "6 min" "2 min" "1 min" "5 min" "10 min")
todo=()
for i in "${!names[@]}"; do
	[[ -x "$bin/${names[$i]}" ]] || todo+=("${names[$i]} (${estimates[$i]})")
done
if ((${#todo[@]} == 0)); then
	log "all tools present in $bin"
	echo "$bin"
	exit 0
fi
log "to build, in this order: ${todo[*]}"
log "a cold build takes 14-22 min on 2 cores and ~10 GB of Go build cache; later runs reuse $bin"

download_all
run etcd "${estimates[0]}" "$here/etcd" gobuild "$bin/etcd" ./cmd/etcd "-s -w"
for i in 1 2 3; do
	run "${names[$i]}" "${estimates[$i]}" "$here/kube" gobuild "$bin/${names[$i]}" "k8s.io/kubernetes/cmd/${names[$i]}" "$(kube_ldflags)"
done
run pulumi "${estimates[4]}" "$here/pulumi" build_pulumi
run pulumi-resource-kubernetes "${estimates[5]}" "$here/kubernetes" build_kubernetes_provider
log "toolchain ready in $((SECONDS - total))s"
echo "$bin"
