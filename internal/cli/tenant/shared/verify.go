package shared

import (
	"fmt"
	"strings"

	"github.com/tenantstack/tenantstack/internal/fleet"
)

// maxProbesInError bounds how many failed probes an error message names;
// the full list is in the printed report.
const maxProbesInError = 3

// IsolationError returns nil when every probe of r passed, and otherwise an
// error wrapping fleet.ErrIsolation that names the failed probes and says
// what to do.
func IsolationError(r *fleet.VerifyReport) error {
	var failed []string
	for _, p := range r.Probes {
		if !p.Passed {
			failed = append(failed, ProbeLabel(p))
		}
	}
	if r.Passed && len(failed) == 0 {
		return nil
	}
	names := failed
	if len(names) > maxProbesInError {
		names = append(names[:maxProbesInError:maxProbesInError], fmt.Sprintf("and %d more", len(failed)-maxProbesInError))
	}
	detail := ""
	if len(names) > 0 {
		detail = " (" + strings.Join(names, "; ") + ")"
	}
	return fmt.Errorf("%w: %d of %d probes of tenant %q failed%s; suspend it with \"tenantctl suspend %s\" and keep it suspended until \"tenantctl verify %s\" passes",
		fleet.ErrIsolation, len(failed), len(r.Probes), r.Tenant, detail, r.Tenant, r.Tenant)
}

// ProbeLabel names a probe in one line: layer, name and target.
func ProbeLabel(p fleet.Probe) string {
	s := p.Layer + ": " + p.Name
	if p.Target != "" {
		s += " -> " + p.Target
	}
	return s
}
