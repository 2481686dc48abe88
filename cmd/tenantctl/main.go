// Command tenantctl onboards, changes, suspends and offboards tenants of a
// tenantstack platform, and runs the local development platform.
package main

import (
	"os"

	"github.com/tenantstack/tenantstack/internal/cli/root"
)

func main() {
	os.Exit(root.Main(os.Args[1:]))
}
