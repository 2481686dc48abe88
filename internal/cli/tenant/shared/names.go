package shared

import (
	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// ValidateName returns a usage error saying what is allowed when name
// cannot be a tenant name, and nil when it can. The rule (a DNS label of at
// most 40 characters that is not reserved) is the tenant domain's, so the CLI
// never accepts a name the stack would refuse.
func ValidateName(name string) error {
	if err := tenantspec.ValidateTenantID(name); err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	return nil
}

// ValidateTier returns a usage error naming the allowed tiers when s is not
// one of them.
func ValidateTier(s string) error {
	if _, err := tenantspec.ParseTier(s); err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	return nil
}

// Tiers returns the tier names, from the least to the most isolated, for
// help text and completion.
func Tiers() []string {
	var names []string
	for _, t := range tenantspec.Tiers() {
		names = append(names, t.String())
	}
	return names
}

// ExactlyOneName is a cobra.PositionalArgs that wants one valid tenant name
// and returns a usage error otherwise, before anything runs.
func ExactlyOneName(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return cmdutil.Usagef("%q takes exactly one tenant name, got %d; usage: %s", cmd.CommandPath(), len(args), cmd.UseLine())
	}
	return ValidateName(args[0])
}
