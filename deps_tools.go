//go:build tools

// This file keeps modules that only build-tagged code (integration tests)
// or code being written imports in go.mod, so that `go mod tidy` does not
// drop them.
package tenantstack

import (
	_ "github.com/gruntwork-io/terratest/modules/random"
	_ "github.com/gruntwork-io/terratest/modules/retry"
	_ "github.com/gruntwork-io/terratest/modules/test-structure"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/pulumi/pulumi-go-provider/infer"
	_ "github.com/pulumi/pulumi-go-provider/integration"
	_ "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	_ "github.com/pulumi/pulumi/sdk/v3/go/auto"
	_ "github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/spf13/cobra"
	_ "gopkg.in/yaml.v3"
)
