package fleet

import (
	"context"
	"fmt"

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
	// PolicyMissing, when set, says why no policy pack was found: every
	// up and preview is then refused, unless NoPolicy says to run without.
	PolicyMissing error
	// NoPolicy runs ups and previews without policy packs (--no-policy).
	NoPolicy bool

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

// policyPacks returns the policy packs an up or preview runs with. The
// guardrails are never skipped silently: without a pack, and unless
// NoPolicy is set, it refuses.
func (s *Service) policyPacks() ([]string, error) {
	switch {
	case s.NoPolicy:
		return nil, nil
	case len(s.PolicyPacks) > 0:
		return s.PolicyPacks, nil
	case s.PolicyMissing != nil:
		return nil, fmt.Errorf("%w: the guardrails policy pack is missing (%v), so nothing was changed; build it with \"make build\", or pass --no-policy to run without the guardrails", ErrInvalid, s.PolicyMissing)
	}
	return nil, nil
}
