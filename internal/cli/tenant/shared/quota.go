package shared

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// QuotaKeys are the keys --quota accepts, in the order help text lists them.
var QuotaKeys = tenantspec.QuotaKeys

// quotaExample is quoted in errors so the user sees a value that works.
const quotaExample = "cpu=2,memory=4Gi,pods=20,services=10,pvcs=5,storage=20Gi"

// ParseQuota parses --quota values, each a comma-separated list of
// key=value, into a Quota. Keys may be spread over several flags but not
// repeated. Zero is refused, because a zero field means "the default".
func ParseQuota(values []string) (tenantspec.Quota, error) {
	var q tenantspec.Quota
	seen := map[string]bool{}
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			key, val, ok := strings.Cut(item, "=")
			key = strings.ToLower(strings.TrimSpace(key))
			val = strings.TrimSpace(val)
			if !ok || key == "" || val == "" {
				return tenantspec.Quota{}, cmdutil.Usagef("invalid --quota item %q: use key=value pairs separated by commas, e.g. --quota %s", item, quotaExample)
			}
			if seen[key] {
				return tenantspec.Quota{}, cmdutil.Usagef("--quota sets %s twice; give each key once", key)
			}
			seen[key] = true
			if err := setQuota(&q, key, val); err != nil {
				return tenantspec.Quota{}, &cmdutil.UsageError{Err: fmt.Errorf("invalid --quota %s=%s: %w", key, val, err)}
			}
		}
	}
	return q, nil
}

func setQuota(q *tenantspec.Quota, key, val string) error {
	switch key {
	case "cpu":
		q.CPU = val
		return tenantspec.ValidateQuantity(val, "2 or 500m")
	case "memory":
		q.Memory = val
		return tenantspec.ValidateQuantity(val, "4Gi or 512Mi")
	case "storage":
		q.Storage = val
		return tenantspec.ValidateQuantity(val, "20Gi")
	case "pods":
		return setCount(&q.Pods, val)
	case "services":
		return setCount(&q.Services, val)
	case "pvcs":
		return setCount(&q.PVCs, val)
	}
	return fmt.Errorf("unknown key %q; use %s", key, strings.Join(QuotaKeys, ", "))
}

func setCount(dst *int, s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return fmt.Errorf("use a whole number of at least 1 (leave the key out for the default)")
	}
	*dst = n
	return nil
}

// MergeQuota returns base with every field that over sets replaced.
func MergeQuota(base, over tenantspec.Quota) tenantspec.Quota {
	return tenantspec.MergeQuota(base, over)
}
