package shared

import (
	"fmt"
	"strings"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// ParseFlags parses --flag values of the form key=value. With allowUnset
// (update), "key-" asks for the flag to be removed, as kubectl label does.
// A key may appear once.
func ParseFlags(values []string, allowUnset bool) (set map[string]string, unset []string, err error) {
	seen := map[string]bool{}
	for _, v := range values {
		key, val, ok := strings.Cut(v, "=")
		removing := false
		if !ok && allowUnset && strings.HasSuffix(v, "-") {
			key, removing = strings.TrimSuffix(v, "-"), true
		} else if !ok {
			how := "key=value"
			if allowUnset {
				how += ` to set a flag, or key- to remove it`
			}
			return nil, nil, cmdutil.Usagef("invalid --flag %q: use %s, e.g. --flag beta=true", v, how)
		}
		if err := tenantspec.ValidateFlagKey(key); err != nil {
			return nil, nil, &cmdutil.UsageError{Err: fmt.Errorf("invalid --flag %q: %w", v, err)}
		}
		if err := tenantspec.ValidateFlagValue(key, val); err != nil {
			return nil, nil, &cmdutil.UsageError{Err: fmt.Errorf("invalid --flag %q: %w", key, err)}
		}
		if seen[key] {
			return nil, nil, cmdutil.Usagef("--flag %s is given twice; give each key once", key)
		}
		seen[key] = true
		if removing {
			unset = append(unset, key)
			continue
		}
		if set == nil {
			set = map[string]string{}
		}
		set[key] = val
	}
	return set, unset, nil
}
