package fleet

import (
	"context"
	"fmt"
	"io"

	"github.com/tenantstack/tenantstack/internal/engine"
)

// Service operates the tenants of one platform through the Pulumi engine.
type Service struct {
	eng *engine.Engine
	// Platform names the platform stack (environment) the tenants belong
	// to, e.g. "local"; tenant stacks reference its outputs.
	Platform string
}

// NewService returns a Service over eng for the given platform.
func NewService(eng *engine.Engine, platform string) *Service {
	return &Service{eng: eng, Platform: platform}
}

var errTODO = fmt.Errorf("not implemented yet")

// Create onboards a tenant. Running it again after an interruption completes it.
func (s *Service) Create(ctx context.Context, spec Spec, progress io.Writer) (*Tenant, error) {
	return nil, errTODO
}

// Get returns one tenant.
func (s *Service) Get(ctx context.Context, name string) (*Tenant, error) { return nil, errTODO }

// List returns every tenant, sorted by name.
func (s *Service) List(ctx context.Context) ([]Tenant, error) { return nil, errTODO }

// Update changes quotas, flags and workload; a tier change is refused.
func (s *Service) Update(ctx context.Context, spec Spec, progress io.Writer) (*Tenant, error) {
	return nil, errTODO
}

// Suspend disables the tenant's logins, ends its sessions and scales its
// workload to zero, keeping its data.
func (s *Service) Suspend(ctx context.Context, name string, progress io.Writer) (*Tenant, error) {
	return nil, errTODO
}

// Resume undoes Suspend.
func (s *Service) Resume(ctx context.Context, name string, progress io.Writer) (*Tenant, error) {
	return nil, errTODO
}

// Delete offboards a tenant, first exporting its data to exportDir if set,
// and checks that nothing of it is left.
func (s *Service) Delete(ctx context.Context, name, exportDir string, progress io.Writer) (*DeleteReport, error) {
	return nil, errTODO
}

// Credentials returns the tenant's own logins.
func (s *Service) Credentials(ctx context.Context, name string) (*Credentials, error) {
	return nil, errTODO
}

// Verify runs live probes that name cannot reach the data of the tenants in
// against (every other tenant when empty).
func (s *Service) Verify(ctx context.Context, name string, against []string) (*VerifyReport, error) {
	return nil, errTODO
}

// Apply makes the fleet match file: creates and updates the tenants it
// lists, and deletes those it does not list only when prune is set.
func (s *Service) Apply(ctx context.Context, file FleetFile, prune bool, parallel int, progress io.Writer) (*ApplyReport, error) {
	return nil, errTODO
}
