package root

import (
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
)

// GenDocs writes tenantctl's reference: Markdown pages into mdDir and man
// pages (section 1) into manDir, the same on every run (no dates, no
// environment-dependent defaults).
func GenDocs(mdDir, manDir string) error {
	// The global flags' defaults read the environment; the reference shows
	// the defaults of an empty one.
	for _, k := range []string{"TENANTSTACK_PLATFORM", "TENANTSTACK_BACKEND"} {
		if err := os.Unsetenv(k); err != nil {
			return err
		}
	}
	cmd := NewCmdRoot(cmdutil.NewFactory(&cmdutil.IOStreams{}))
	disableAutoGenTag(cmd)
	for _, d := range []string{mdDir, manDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := doc.GenMarkdownTree(cmd, mdDir); err != nil {
		return err
	}
	date := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return doc.GenManTree(cmd, &doc.GenManHeader{Title: "TENANTCTL", Section: "1", Source: "tenantstack", Manual: "tenantctl manual", Date: &date}, manDir)
}

func disableAutoGenTag(c *cobra.Command) {
	c.DisableAutoGenTag = true
	for _, sub := range c.Commands() {
		disableAutoGenTag(sub)
	}
}
