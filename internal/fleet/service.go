package fleet

import (
	"context"

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

	// Prober runs the live isolation probes of verify. It is set by the
	// caller (the CLI wires internal/probe) so that the probes can depend
	// on this package's types.
	Prober Prober

	plat platformOnce
}

// Prober probes whether self can reach the data of others on platform p. A
// leak is a failed Probe; an error means the probes could not run.
type Prober func(ctx context.Context, p *Platform, self Credentials, others []Credentials) ([]Probe, error)

// NewService returns a Service over eng for the given platform.
func NewService(eng *engine.Engine, platform string, policyPacks ...string) *Service {
	return &Service{eng: eng, Platform: platform, PolicyPacks: policyPacks}
}
