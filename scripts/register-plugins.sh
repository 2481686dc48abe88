#!/usr/bin/env bash
# Registers the Kubernetes provider and our own provider with the Pulumi CLI
# (in $PULUMI_HOME, default ~/.pulumi) without any download, so that
# `pulumi up` run by hand finds them. tenantctl registers them in its own
# PULUMI_HOME by itself.
#   scripts/register-plugins.sh TOOLS_DIR BIN_DIR PROVIDER_VERSION
set -euo pipefail
tools=$1 bin=$2 provider_version=$3
pulumi=$tools/pulumi
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

installed=$("$pulumi" plugin ls 2>/dev/null || true)
register() {
	local name=$1 version=$2 file=$3
	if grep -Eq "^$name +resource +$version " <<<"$installed" && [[ $name != tenantstack ]]; then
		return 0
	fi
	"$pulumi" plugin install resource "$name" "$version" --file "$file" --reinstall >/dev/null
	echo "registered resource plugin $name $version" >&2
}
register kubernetes 4.25.0 "$tools/pulumi-resource-kubernetes"
register tenantstack "$provider_version" "$bin/pulumi-resource-tenantstack"
