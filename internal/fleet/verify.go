package fleet

import (
	"context"
	"fmt"

	"github.com/tenantstack/tenantstack/internal/probe"
)

// Verify runs live probes that name cannot reach the data of the tenants in
// against (every other active tenant when empty). The report lists every
// probe and says whether all passed; an error means the probes could not
// run. Callers turn a failed report into ErrIsolation.
func (s *Service) Verify(ctx context.Context, name string, against []string) (*VerifyReport, error) {
	self, err := s.Credentials(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(against) == 0 {
		all, err := s.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range all {
			if t.Name != name && t.Status == StatusActive {
				against = append(against, t.Name)
			}
		}
	}
	others := make([]Credentials, 0, len(against))
	for _, o := range against {
		if o == name {
			return nil, fmt.Errorf("%w: verify %q against other tenants, not itself", ErrInvalid, name)
		}
		c, err := s.Credentials(ctx, o)
		if err != nil {
			return nil, err
		}
		others = append(others, *c)
	}
	plat, err := s.platform(ctx)
	if err != nil {
		return nil, err
	}
	if s.Prober == nil {
		return nil, fmt.Errorf("no isolation prober is configured")
	}
	probes, err := s.Prober(ctx, plat, *self, others)
	if err != nil {
		return nil, fmt.Errorf("running the isolation probes of %q: %w", name, err)
	}
	// After a rotation, the credential it revoked must be refused
	// everywhere and the current one must work.
	if _, cur, err := s.current(ctx, name); err == nil && cur.Rotation != nil && cur.Rotation.Revoked != nil {
		old, err := revokedCredentials(*self, cur.Rotation.Revoked)
		if err != nil {
			return nil, err
		}
		probes = append(probes, probe.Revoked(ctx, *self, old)...)
	}
	rep := &VerifyReport{Tenant: name, Against: against, Passed: true, Probes: probes}
	for _, p := range probes {
		if !p.Passed {
			rep.Passed = false
		}
	}
	return rep, nil
}
