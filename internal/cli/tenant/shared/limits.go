package shared

import (
	"fmt"
	"strings"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// LimitHelp is the help of --limit.
var LimitHelp = "override one of the plan's limits as key=value (repeatable): " + strings.Join(tenantspec.LimitKeys, ", ") +
	", e.g. --limit statement_timeout=5s"

// PlanHelp is the help of --plan.
const PlanHelp = "plan: basic (shared tier), standard (schema) or premium (database); sets the tier when --tier is not given, the connection limit, per-role limits and the quota"

// ApplyLimits sets spec's limits from --limit values, each key=value,
// refusing a key given twice.
func ApplyLimits(spec *tenantspec.Spec, values []string) error {
	seen := map[string]bool{}
	for _, item := range values {
		key, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
		if !ok || key == "" || val == "" {
			return cmdutil.Usagef("invalid --limit %q: use key=value, e.g. --limit statement_timeout=5s", item)
		}
		if seen[key] {
			return cmdutil.Usagef("--limit sets %s twice; give each key once", key)
		}
		seen[key] = true
		if err := tenantspec.SetLimit(spec, key, val); err != nil {
			return &cmdutil.UsageError{Err: fmt.Errorf("--limit %w", err)}
		}
	}
	return nil
}

// ValidatePlan returns a usage error unless name is a plan.
func ValidatePlan(name string) error {
	if name == "" {
		return nil
	}
	_, err := tenantspec.LookupPlan(name)
	return usage(err)
}
