package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/tenantstack/tenantstack/stacks/platform/platformstack"
)

// PlatformResult is what a platform operation reports.
type PlatformResult struct {
	Stack   string            `json:"stack"`
	Changes map[string]int    `json:"changes,omitempty"`
	Outputs map[string]string `json:"outputs,omitempty"`
}

// PlatformConfig is the configuration a platform up or preview applies,
// keys without the "tenantstack:" prefix. Set is written to the stack;
// Defaults only where the stack has no value yet (tenantctl passes the local
// platform's endpoints this way, so that a stack pointed elsewhere stays so).
type PlatformConfig struct {
	Set      map[string]string
	Defaults map[string]string
}

// platformStack opens (or creates) the platform stack with the platform
// program inline, and applies cfg.
func (s *Service) platformStack(ctx context.Context, create bool, cfg PlatformConfig, secret map[string]bool) (auto.Stack, error) {
	dir := filepath.Join(s.eng.Home, "workspaces", "platform-"+s.Platform)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return auto.Stack{}, err
	}
	opts := append(s.eng.Workspace(dir), auto.Project(workspace.Project{
		Name:    PlatformProject,
		Runtime: workspace.NewProjectRuntimeInfo("go", nil),
	}))
	var (
		st  auto.Stack
		err error
	)
	if create {
		st, err = auto.UpsertStackInlineSource(ctx, s.Platform, PlatformProject, platformstack.Run, opts...)
	} else {
		st, err = auto.SelectStackInlineSource(ctx, s.Platform, PlatformProject, platformstack.Run, opts...)
		if auto.IsSelectStack404Error(err) {
			return st, fmt.Errorf("%w: there is no platform stack %q; create it with \"tenantctl platform up\"", ErrNoPlatform, s.Platform)
		}
	}
	if err != nil {
		return st, fmt.Errorf("opening the platform stack %q: %w", s.Platform, err)
	}
	config := maps.Clone(cfg.Set)
	if len(cfg.Defaults) > 0 {
		have, err := st.GetAllConfig(ctx)
		if err != nil {
			return st, fmt.Errorf("reading the platform's configuration: %w", err)
		}
		for k, v := range cfg.Defaults {
			if _, set := config[k]; set {
				continue
			}
			if cur, ok := have["tenantstack:"+k]; ok && cur.Value != "" {
				continue
			}
			if config == nil {
				config = map[string]string{}
			}
			config[k] = v
		}
	}
	if len(config) > 0 {
		cm := auto.ConfigMap{}
		for k, v := range config {
			cm["tenantstack:"+k] = auto.ConfigValue{Value: v, Secret: secret[k]}
		}
		if err := st.SetAllConfig(ctx, cm); err != nil {
			return st, fmt.Errorf("setting the platform's configuration: %w", err)
		}
	}
	return st, nil
}

// PlatformUp creates or updates the platform stack.
func (s *Service) PlatformUp(ctx context.Context, config PlatformConfig, progress io.Writer) (*PlatformResult, error) {
	st, err := s.platformStack(ctx, true, config, secretKeys)
	if err != nil {
		return nil, err
	}
	packs, err := s.policyPacks()
	if err != nil {
		return nil, err
	}
	events, wait := progressEvents(progress, "platform")
	opts := []optup.Option{optup.EventStreams(events)}
	if len(packs) > 0 {
		opts = append(opts, optup.PolicyPacks(packs...))
	}
	res, err := st.Up(ctx, opts...)
	wait()
	if err != nil {
		return nil, fmt.Errorf("platform up failed; fix the cause and run it again: %w", err)
	}
	return &PlatformResult{Stack: s.Platform, Changes: changes(res.Summary.ResourceChanges), Outputs: plainOutputs(res.Outputs, false)}, nil
}

// PlatformPreview shows what PlatformUp would change.
func (s *Service) PlatformPreview(ctx context.Context, config PlatformConfig, progress io.Writer) (*PlatformResult, error) {
	st, err := s.platformStack(ctx, true, config, secretKeys)
	if err != nil {
		return nil, err
	}
	packs, err := s.policyPacks()
	if err != nil {
		return nil, err
	}
	events, wait := progressEvents(progress, "platform")
	opts := []optpreview.Option{optpreview.EventStreams(events)}
	if len(packs) > 0 {
		opts = append(opts, optpreview.PolicyPacks(packs...))
	}
	res, err := st.Preview(ctx, opts...)
	wait()
	if err != nil {
		return nil, fmt.Errorf("platform preview failed: %w", err)
	}
	ch := map[string]int{}
	for op, n := range res.ChangeSummary {
		ch[string(op)] = n
	}
	return &PlatformResult{Stack: s.Platform, Changes: ch}, nil
}

// PlatformDestroy removes everything the platform stack created. Tenants
// must be deleted first: their stacks depend on it.
func (s *Service) PlatformDestroy(ctx context.Context, progress io.Writer) (*PlatformResult, error) {
	tenants, err := s.List(ctx)
	if err != nil && !isNoPlatform(err) {
		return nil, err
	}
	if len(tenants) > 0 {
		return nil, fmt.Errorf("%w: platform %q still has %d tenants; delete them first (tenantctl apply with an empty fleet file and --prune deletes them all)",
			ErrInvalid, s.Platform, len(tenants))
	}
	st, err := s.platformStack(ctx, false, PlatformConfig{}, nil)
	if err != nil {
		return nil, err
	}
	events, wait := progressEvents(progress, "platform")
	res, err := st.Destroy(ctx, optdestroy.EventStreams(events))
	wait()
	if err != nil {
		return nil, fmt.Errorf("platform destroy failed; run it again to finish: %w", err)
	}
	if err := st.Workspace().RemoveStack(ctx, st.Name()); err != nil {
		return nil, err
	}
	return &PlatformResult{Stack: s.Platform, Changes: changes(res.Summary.ResourceChanges)}, nil
}

// PlatformOutputs returns the platform stack's outputs, secrets masked
// unless showSecrets.
func (s *Service) PlatformOutputs(ctx context.Context, showSecrets bool) (*PlatformResult, error) {
	st, err := s.platformStack(ctx, false, PlatformConfig{}, nil)
	if err != nil {
		return nil, err
	}
	outs, err := st.Outputs(ctx)
	if err != nil {
		return nil, err
	}
	return &PlatformResult{Stack: s.Platform, Outputs: plainOutputs(outs, showSecrets)}, nil
}

// secretKeys are the platform configuration keys stored as secrets.
var secretKeys = map[string]bool{"postgresAdminUrl": true, "postgresPoolerUrl": true, "redisAdminUrl": true}

func isNoPlatform(err error) bool { return err != nil && errors.Is(err, ErrNoPlatform) }

func changes(m *map[string]int) map[string]int {
	if m == nil {
		return nil
	}
	return *m
}

// plainOutputs renders outputs as strings, secrets masked unless
// showSecrets: stdout never carries a secret the user did not ask for.
func plainOutputs(outs auto.OutputMap, showSecrets bool) map[string]string {
	m := make(map[string]string, len(outs))
	for k, o := range outs {
		if o.Secret && !showSecrets {
			m[k] = "[secret]"
			continue
		}
		m[k] = fmt.Sprint(o.Value)
	}
	return m
}
