// Command pulumi-language-go is tenantstack's Pulumi language host for
// `runtime: go` projects, used where no official one is installed.
package main

import (
	"fmt"
	"os"

	"github.com/tenantstack/tenantstack/internal/langhost"
)

func main() {
	if err := langhost.Serve(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-go: %v\n", err)
		os.Exit(1)
	}
}
