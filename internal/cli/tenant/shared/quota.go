package shared

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/fleet"
)

// QuotaKeys are the keys --quota accepts, in the order help text lists them.
var QuotaKeys = []string{"cpu", "memory", "pods", "services", "pvcs", "storage"}

// quotaExample is quoted in errors so the user sees a value that works.
const quotaExample = "cpu=2,memory=4Gi,pods=20,services=10,pvcs=5,storage=20Gi"

// ParseQuota parses --quota values, each a comma-separated list of
// key=value, into a Quota. Keys may be spread over several flags but not
// repeated. Zero is refused, because a zero field means "the default".
func ParseQuota(values []string) (fleet.Quota, error) {
	var q fleet.Quota
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
				return fleet.Quota{}, cmdutil.Usagef("invalid --quota item %q: use key=value pairs separated by commas, e.g. --quota %s", item, quotaExample)
			}
			if seen[key] {
				return fleet.Quota{}, cmdutil.Usagef("--quota sets %s twice; give each key once", key)
			}
			seen[key] = true
			if err := setQuota(&q, key, val); err != nil {
				return fleet.Quota{}, &cmdutil.UsageError{Err: fmt.Errorf("invalid --quota %s=%s: %w", key, val, err)}
			}
		}
	}
	return q, nil
}

func setQuota(q *fleet.Quota, key, val string) error {
	switch key {
	case "cpu":
		q.CPU = val
		return validateQuantity(val, "2 or 500m")
	case "memory":
		q.Memory = val
		return validateQuantity(val, "4Gi or 512Mi")
	case "storage":
		q.Storage = val
		return validateQuantity(val, "20Gi")
	case "pods":
		return setCount(&q.Pods, val)
	case "services":
		return setCount(&q.Services, val)
	case "pvcs":
		return setCount(&q.PVCs, val)
	}
	return fmt.Errorf("unknown key %q; use %s", key, strings.Join(QuotaKeys, ", "))
}

func validateQuantity(s, example string) error {
	q, err := resource.ParseQuantity(s)
	if err != nil || q.Sign() <= 0 {
		return fmt.Errorf("use a positive Kubernetes quantity such as %s", example)
	}
	return nil
}

func setCount(dst *int, s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return fmt.Errorf("use a whole number of at least 1 (leave the key out for the default)")
	}
	*dst = n
	return nil
}

// ValidateQuota checks a quota read from a fleet file, where zero fields
// mean the default. The error names the offending field.
func ValidateQuota(q fleet.Quota) error {
	for _, f := range []struct{ key, val, example string }{
		{"cpu", q.CPU, "2 or 500m"}, {"memory", q.Memory, "4Gi or 512Mi"}, {"storage", q.Storage, "20Gi"},
	} {
		if f.val == "" {
			continue
		}
		if err := validateQuantity(f.val, f.example); err != nil {
			return fmt.Errorf("quota.%s %q: %w", f.key, f.val, err)
		}
	}
	for _, f := range []struct {
		key string
		n   int
	}{{"pods", q.Pods}, {"services", q.Services}, {"pvcs", q.PVCs}} {
		if f.n < 0 {
			return fmt.Errorf("quota.%s is %d: use a whole number of at least 1, or leave it out for the default", f.key, f.n)
		}
	}
	return nil
}

// MergeQuota returns base with every field that over sets replaced.
func MergeQuota(base, over fleet.Quota) fleet.Quota {
	if over.CPU != "" {
		base.CPU = over.CPU
	}
	if over.Memory != "" {
		base.Memory = over.Memory
	}
	if over.Storage != "" {
		base.Storage = over.Storage
	}
	if over.Pods != 0 {
		base.Pods = over.Pods
	}
	if over.Services != 0 {
		base.Services = over.Services
	}
	if over.PVCs != 0 {
		base.PVCs = over.PVCs
	}
	return base
}
