package shared

import (
	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// ValidateSpec checks one tenant spec as a whole with the tenant domain's
// rules, as apply must before any change, and returns every problem found
// (keyed by field) as one usage error.
func ValidateSpec(s tenantspec.Spec) error {
	if err := s.Validate(); err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	return nil
}

// ValidateImage returns a usage error when s cannot be a container image.
func ValidateImage(s string) error { return usage(tenantspec.ValidateImage(s)) }

// ValidateHost returns a usage error when s cannot be an Ingress host name.
func ValidateHost(s string) error { return usage(tenantspec.ValidateHost(s)) }

func usage(err error) error {
	if err == nil {
		return nil
	}
	return &cmdutil.UsageError{Err: err}
}
