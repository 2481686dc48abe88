package fleet

import (
	"fmt"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// validateName checks a tenant name before anything is touched.
func validateName(name string) error {
	if err := tenantspec.ValidateTenantID(name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// ValidateSpec checks spec with the tenant domain's rules and fills in the
// defaults. It has no side effects.
func ValidateSpec(spec *Spec) error {
	if err := spec.Validate(); err != nil {
		return fmt.Errorf("%w: tenant %q: %w", ErrInvalid, spec.Name, err)
	}
	*spec = spec.WithDefaults()
	return nil
}
