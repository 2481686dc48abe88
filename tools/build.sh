#!/usr/bin/env bash
# Builds the offline toolchain from pinned Go modules into a cache outside the
# checkout, keyed by the pinned versions, so every clone on this machine (CI
# included) reuses it. With everything present it does nothing and says so.
#
#   tools/build.sh          build what is missing, then print the bin directory
#   tools/build.sh --path   print the bin directory only (nothing is built)
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

mkdir -p "$bin"
export GOFLAGS="${GOFLAGS:--buildvcs=false} -mod=readonly"
export CGO_ENABLED=${CGO_ENABLED:-0}

log() { printf 'tools: %s\n' "$*" >&2; }

# step NAME ESTIMATE DIR COMMAND...: runs COMMAND in DIR unless bin/NAME exists.
todo=()
step() {
	local name=$1 estimate=$2
	[[ -x "$bin/$name" ]] || todo+=("$name ($estimate)")
}
run() {
	local name=$1 estimate=$2 dir=$3
	shift 3
	if [[ -x "$bin/$name" ]]; then
		return 0
	fi
	log "building $name (cold: about $estimate on 2 cores; warm: under a minute)"
	local start=$SECONDS
	(cd "$dir" && "$@")
	log "built $name in $((SECONDS - start))s"
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
		-o "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}

build_kubernetes_provider() {
	local dir
	dir=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)
	(cd cmd/pulumi-resource-kubernetes && go run embedgen.go "$dir" "$KUBERNETES_PROVIDER_VERSION")
	go build -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_PROVIDER_VERSION" \
		-o "$bin/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
}

step etcd "1 min"
step kube-apiserver "20 min"
step kube-controller-manager "5 min"
step kubectl "2 min"
step pulumi "15 min"
step pulumi-resource-kubernetes "25 min"
if ((${#todo[@]} == 0)); then
	log "all tools present in $bin"
else
	log "to build, in this order: ${todo[*]}"
	log "a cold build takes 60-70 min on 2 cores and ~10 GB of Go build cache; later runs reuse $bin"
fi

total=$SECONDS
run etcd "1 min" "$here/etcd" go build -ldflags "-s -w" -o "$bin/etcd" ./cmd/etcd
run kube-apiserver "20 min" "$here/kube" go build -ldflags "$(kube_ldflags)" -o "$bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
run kube-controller-manager "5 min" "$here/kube" go build -ldflags "$(kube_ldflags)" -o "$bin/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager
run kubectl "2 min" "$here/kube" go build -ldflags "$(kube_ldflags)" -o "$bin/kubectl" k8s.io/kubernetes/cmd/kubectl
run pulumi "15 min" "$here/pulumi" build_pulumi
run pulumi-resource-kubernetes "25 min" "$here/kubernetes" build_kubernetes_provider
((${#todo[@]} == 0)) || log "toolchain ready in $((SECONDS - total))s"
echo "$bin"
