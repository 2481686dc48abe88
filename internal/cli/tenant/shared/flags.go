package shared

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
)

// maxFlagKeyLength matches a Kubernetes label name, the strictest place a
// feature flag may end up.
const maxFlagKeyLength = 63

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
		if err := ValidateFlagKey(key); err != nil {
			return nil, nil, &cmdutil.UsageError{Err: fmt.Errorf("invalid --flag %q: %w", v, err)}
		}
		if strings.ContainsFunc(val, unicode.IsControl) {
			return nil, nil, cmdutil.Usagef("invalid --flag %q: the value contains a control character", key)
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

// ValidateFlagKey reports why key cannot name a feature flag: keys are 1 to
// 63 letters, digits, '.', '_' and '-', starting and ending with a letter or
// digit.
func ValidateFlagKey(key string) error {
	const rule = "flag keys are 1 to 63 letters, digits, '.', '_' and '-', starting and ending with a letter or digit"
	if key == "" || len(key) > maxFlagKeyLength {
		return fmt.Errorf("key %q has %d characters; %s", key, len(key), rule)
	}
	for i, r := range key {
		alnum := r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r))
		inner := r == '.' || r == '_' || r == '-'
		if !alnum && !(inner && i > 0 && i < len(key)-1) {
			return fmt.Errorf("key %q: %s", key, rule)
		}
	}
	return nil
}
