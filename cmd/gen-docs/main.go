// Command gen-docs writes tenantctl's reference: one Markdown page per
// command into docs/cli and one man page per command into docs/man
// (`make docs`). A test keeps the committed pages in step with the code.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tenantstack/tenantstack/internal/cli/root"
)

func main() {
	md := flag.String("markdown", "docs/cli", "directory of the Markdown pages")
	man := flag.String("man", "docs/man", "directory of the man pages")
	flag.Parse()
	if err := root.GenDocs(*md, *man); err != nil {
		fmt.Fprintln(os.Stderr, "gen-docs:", err)
		os.Exit(1)
	}
}
