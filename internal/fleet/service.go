package fleet

import (
	"github.com/tenantstack/tenantstack/internal/engine"
)

// Service operates the tenants of one platform through the Pulumi engine.
type Service struct {
	eng *engine.Engine
	// Platform names the platform stack (environment) the tenants belong
	// to, e.g. "local".
	Platform string
	// PolicyPacks are policy pack paths every tenant `up` runs with.
	PolicyPacks []string

	plat platformOnce
}

// NewService returns a Service over eng for the given platform.
func NewService(eng *engine.Engine, platform string, policyPacks ...string) *Service {
	return &Service{eng: eng, Platform: platform, PolicyPacks: policyPacks}
}
