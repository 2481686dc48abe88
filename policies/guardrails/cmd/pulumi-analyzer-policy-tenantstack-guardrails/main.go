// Command pulumi-analyzer-policy-tenantstack-guardrails serves the
// tenantstack-guardrails policy pack to the Pulumi engine:
//
//	pulumi preview --policy-pack /path/to/pulumi-analyzer-policy-tenantstack-guardrails
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/tenantstack/tenantstack/policies/guardrails"
)

func main() {
	err := policyx.Main(func(*pulumi.Context) (policyx.PolicyPack, error) { return guardrails.NewPolicyPack() })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
