package shared

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/tenantstack/tenantstack/components/tenant"
	"github.com/tenantstack/tenantstack/internal/fleet"
)

// ValidateSpec checks one tenant spec as a whole, as apply must before any
// change: name, tier, connection limit, quota, flag keys and workload. It
// returns every problem found, joined.
func ValidateSpec(s fleet.Spec) error {
	var errs []error
	if err := tenant.ValidateTenantID(s.Name); err != nil {
		errs = append(errs, err)
	}
	if _, err := tenant.ParseTier(s.Tier); err != nil {
		errs = append(errs, err)
	}
	if s.ConnectionLimit < 0 {
		errs = append(errs, fmt.Errorf("connection_limit is %d: use at least 1, or leave it out for the default", s.ConnectionLimit))
	}
	if err := ValidateQuota(s.Quota); err != nil {
		errs = append(errs, err)
	}
	for k, v := range s.Flags {
		if err := ValidateFlagKey(k); err != nil {
			errs = append(errs, fmt.Errorf("flags: %w", err))
		}
		if strings.ContainsFunc(v, unicode.IsControl) {
			errs = append(errs, fmt.Errorf("flags: the value of %q contains a control character", k))
		}
	}
	if w := s.Workload; w != nil {
		if err := ValidateImage(w.Image); err != nil {
			errs = append(errs, fmt.Errorf("workload.image: %w", err))
		}
		if w.Replicas < 0 {
			errs = append(errs, fmt.Errorf("workload.replicas is %d: use at least 1, or leave it out for the default", w.Replicas))
		}
		if w.Host != "" {
			if err := ValidateHost(w.Host); err != nil {
				errs = append(errs, fmt.Errorf("workload.host: %w", err))
			}
		}
		if w.Port < 0 || w.Port > 65535 {
			errs = append(errs, fmt.Errorf("workload.port is %d: use 1 to 65535, or leave it out for the default", w.Port))
		}
	}
	return errors.Join(errs...)
}

// ValidateImage reports why s cannot be a container image reference. It
// checks only what would otherwise fail late and obscurely: emptiness and
// whitespace. The registry decides the rest.
func ValidateImage(s string) error {
	switch {
	case s == "":
		return errors.New("the image is empty; give a container image such as nginx:1.27")
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fmt.Errorf("image %q contains whitespace; give a container image such as nginx:1.27", s)
	}
	return nil
}

// ValidateHost reports why s cannot be the host name of a tenant's
// ingress: a DNS name of lowercase labels, at most 253 characters.
func ValidateHost(s string) error {
	const rule = "use a DNS name of lowercase letters, digits, '-' and '.', such as acme.example.com"
	if s == "" || len(s) > 253 {
		return fmt.Errorf("host %q: %s", s, rule)
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("host %q: %s", s, rule)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("host %q: %s", s, rule)
			}
		}
	}
	return nil
}
