package fleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/tenantstack/tenantstack/stacks/tenant/tenantprogram"
)

// PlatformProject is the Pulumi project of the platform stack (the root
// Pulumi.yaml); TenantProject is the project every tenant stack belongs to.
const (
	PlatformProject = "tenantstack"
	TenantProject   = "tenant"
)

// Platform holds the outputs of the platform stack that tenants need. The
// platform program (stacks/platform) exports them under these names.
type Platform = tenantprogram.Platform

// scratchDir makes a work directory for one read-only operation.
func (s *Service) scratchDir() (string, error) {
	parent := filepath.Join(s.eng.Home, "workspaces", "tmp")
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", err
	}
	return os.MkdirTemp(parent, "op-")
}

// platformOnce caches the platform outputs for the life of the process:
// apply --parallel reads them once for the whole fleet.
type platformOnce struct {
	once sync.Once
	p    *Platform
	err  error
}

// platform reads the platform stack's outputs.
func (s *Service) platform(ctx context.Context) (*Platform, error) {
	s.plat.once.Do(func() { s.plat.p, s.plat.err = s.readPlatform(ctx) })
	return s.plat.p, s.plat.err
}

func (s *Service) readPlatform(ctx context.Context) (*Platform, error) {
	// A work directory of this process's own: concurrent tenantctl runs
	// must not rewrite each other's Pulumi.yaml.
	dir, err := s.scratchDir()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ws, err := auto.NewLocalWorkspace(ctx, append(s.eng.Workspace(dir),
		auto.Project(workspace.Project{Name: PlatformProject, Runtime: workspace.NewProjectRuntimeInfo("go", nil)}))...)
	if err != nil {
		return nil, err
	}
	outs, err := ws.StackOutputs(ctx, s.Platform)
	if err != nil || len(outs) == 0 {
		return nil, fmt.Errorf("%w: the platform stack %q has no outputs (%v); bring it up first with \"tenantctl platform up\"",
			ErrNoPlatform, s.Platform, err)
	}
	var p Platform
	if err := decodeOutputs(outs, &p); err != nil {
		return nil, fmt.Errorf("reading the outputs of platform stack %q: %w", s.Platform, err)
	}
	if p.PostgresAdminURL == "" || p.RedisAdminURL == "" || p.Kubeconfig == "" {
		return nil, fmt.Errorf("%w: the platform stack %q lacks postgresAdminUrl, redisAdminUrl or kubeconfig; run \"tenantctl platform up\" again",
			ErrNoPlatform, s.Platform)
	}
	return &p, nil
}
