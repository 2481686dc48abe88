package fleet

import (
	"context"
	"fmt"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/internal/usage"
)

// Usage measures what the named tenants (every tenant when none) use on the
// live services. It reads the stack list and the registry once (List) and
// derives each tenant's objects from its id and tier, so it makes no Pulumi
// call per tenant.
func (s *Service) Usage(ctx context.Context, names []string) ([]usage.Report, error) {
	for _, n := range names {
		if err := validateName(n); err != nil {
			return nil, err
		}
	}
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	want, missing := map[string]bool{}, map[string]bool{}
	for _, n := range names {
		want[n], missing[n] = true, true
	}
	var targets []usage.Target
	for _, t := range all {
		if len(want) > 0 && !want[t.Name] {
			continue
		}
		delete(missing, t.Name)
		if t.Status == StatusIncomplete || t.Tier == "" {
			continue
		}
		targets = append(targets, usage.Target{
			Tenant: t.Name, Tier: t.Tier,
			Database:  tenantspec.DatabaseName(t.Name),
			Schema:    tenantspec.SchemaName(t.Name),
			Roles:     tenantspec.LoginRoleNames(t.Name),
			KeyPrefix: tenantspec.KeyPrefix(t.Name),
			Namespace: tenantspec.Namespace(t.Name),
		})
	}
	for n := range missing {
		return nil, fmt.Errorf("%w: no tenant %q on platform %q; \"tenantctl list\" shows the tenants", ErrNotFound, n, s.Platform)
	}
	if len(targets) == 0 {
		return []usage.Report{}, nil
	}
	plat, err := s.platform(ctx)
	if err != nil {
		return nil, err
	}
	return usage.Measure(ctx, usage.Admin{PostgresURL: plat.PostgresAdminURL, PlatformDatabase: plat.Database,
		RedisURL: plat.RedisAdminURL, Kubeconfig: plat.Kubeconfig}, targets)
}
