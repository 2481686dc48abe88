// Command pulumi-resource-kubernetes serves the upstream Kubernetes provider.
//
// The upstream main embeds schema-embed.json and terraform-mapping-embed.json,
// which are generated at release time and missing from the module zip. The
// tools build runs embedgen.go to make them from the schema.json and
// terraform-mapping.json the module does ship, then builds this wrapper.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
