// Package platform implements `tenantctl platform up | preview | destroy |
// outputs`: the platform stack run inline through the Automation API, the
// same program `pulumi up` runs from the repository root.
package platform

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/devplatform"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/migrate/source"
)

// Service is what the platform verbs need of the fleet service.
type Service interface {
	PlatformUp(ctx context.Context, config fleet.PlatformConfig, progress io.Writer) (*fleet.PlatformResult, error)
	PlatformPreview(ctx context.Context, config fleet.PlatformConfig, progress io.Writer) (*fleet.PlatformResult, error)
	PlatformDestroy(ctx context.Context, progress io.Writer) (*fleet.PlatformResult, error)
	PlatformOutputs(ctx context.Context, showSecrets bool) (*fleet.PlatformResult, error)
}

// Options holds the dependencies and flags of the platform verbs.
type Options struct {
	IO      *cmdutil.IOStreams
	Service func() (Service, error)
	Printer func() interface {
		Print(any, []string, [][]string) error
	}
	// LocalEndpoints returns the endpoints of the local platform of
	// "tenantctl dev up" as platform config, or nil when there is none.
	LocalEndpoints func(context.Context) map[string]string
	Verb           string
	Set            []string
	Config         map[string]string
	ShowSecrets    bool
	Yes            bool
	// Migrations is --migrations: the application's migrations directory.
	Migrations string
}

// NewCmdPlatform returns the platform command and its verbs. runF, when not
// nil, receives the parsed options instead of running them (for tests).
func NewCmdPlatform(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "platform",
		Short: "Bring up, preview, destroy and inspect the platform stack",
		Long: `The platform stack holds the services every tenant builds on: the
Kubernetes baseline, the platform PostgreSQL with the shared-tier contract,
Redis's ACL baseline and observability. The platform program takes its
endpoints from the stack's configuration only (--set, or "pulumi config");
where the stack has none yet, up and preview set those of the local platform
of "tenantctl dev up".`,
	}
	newOpts := func(verb string) *Options {
		return &Options{
			IO:             f.IO,
			LocalEndpoints: localEndpoints(f),
			Verb:           verb,
			Service: func() (Service, error) {
				s, err := f.Fleet()
				return s, err
			},
			Printer: func() interface {
				Print(any, []string, [][]string) error
			} {
				return f.Printer()
			},
		}
	}
	for _, v := range []struct{ use, short string }{
		{"up", "Create or update the platform stack"},
		{"preview", "Show what platform up would change"},
		{"destroy", "Remove everything the platform stack created (tenants must be deleted first)"},
		{"outputs", "Print the platform stack's outputs"},
	} {
		opts := newOpts(v.use)
		c := &cobra.Command{
			Use:   v.use,
			Short: v.short,
			Args:  cobra.NoArgs,
			RunE: func(c *cobra.Command, _ []string) error {
				if err := opts.complete(); err != nil {
					return err
				}
				return runF(c.Context(), opts)
			},
		}
		switch v.use {
		case "up", "preview":
			c.Flags().StringArrayVar(&opts.Set, "set", nil, "set a platform config key, e.g. --set postgresAdminUrl=postgres://... (repeatable)")
			c.Flags().StringVar(&opts.Migrations, "migrations", "", "directory of the application's SQL migrations (sets config tenantstack:migrations)")
		case "destroy":
			c.Flags().BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation")
		case "outputs":
			c.Flags().BoolVar(&opts.ShowSecrets, "show-secrets", false, "print secret outputs in clear")
		}
		cmd.AddCommand(c)
	}
	return cmd
}

func (o *Options) complete() error {
	o.Config = map[string]string{}
	for _, kv := range o.Set {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimPrefix(k, "tenantstack:")
		if !ok || k == "" {
			return cmdutil.Usagef("invalid --set %q: use KEY=VALUE, e.g. --set kubeconfig=/path/to/kubeconfig", kv)
		}
		o.Config[k] = v
	}
	if o.Migrations != "" {
		// Checked here, before the stack changes: the program checks it
		// again for "pulumi up".
		abs, err := filepath.Abs(o.Migrations)
		if err != nil {
			return cmdutil.Usagef("--migrations %q: %v", o.Migrations, err)
		}
		set, err := source.Load(abs)
		if err != nil {
			return cmdutil.Usagef("--migrations: %v", err)
		}
		if err := source.FindingsError(source.Lint(set)); err != nil {
			return cmdutil.Usagef("--migrations: %v", err)
		}
		o.Config["migrations"] = abs
	}
	return nil
}

func run(ctx context.Context, o *Options) error {
	if o.Verb == "destroy" && !o.Yes {
		if !o.IO.InTerminal {
			return cmdutil.Usagef("platform destroy removes the platform's databases and namespaces; pass --yes to confirm")
		}
		fmt.Fprint(o.IO.ErrOut, "Destroy the platform stack and all its data? Type \"destroy\" to confirm: ")
		line, _ := bufio.NewReader(o.IO.In).ReadString('\n')
		if strings.TrimSpace(line) != "destroy" {
			return fmt.Errorf("%w: nothing was destroyed", cmdutil.ErrCancelled)
		}
	}
	svc, err := o.Service()
	if err != nil {
		return err
	}
	var res *fleet.PlatformResult
	switch o.Verb {
	case "up":
		res, err = svc.PlatformUp(ctx, o.platformConfig(ctx), o.IO.ErrOut)
	case "preview":
		res, err = svc.PlatformPreview(ctx, o.platformConfig(ctx), o.IO.ErrOut)
	case "destroy":
		res, err = svc.PlatformDestroy(ctx, o.IO.ErrOut)
	default:
		res, err = svc.PlatformOutputs(ctx, o.ShowSecrets)
	}
	if err != nil {
		return err
	}
	var rows [][]string
	for _, k := range sortedKeys(res.Changes) {
		rows = append(rows, []string{"change", k, fmt.Sprint(res.Changes[k])})
	}
	for _, k := range sortedKeys(res.Outputs) {
		rows = append(rows, []string{"output", k, res.Outputs[k]})
	}
	return o.Printer().Print(res, []string{"KIND", "KEY", "VALUE"}, rows)
}

func (o *Options) platformConfig(ctx context.Context) fleet.PlatformConfig {
	cfg := fleet.PlatformConfig{Set: o.Config}
	if o.LocalEndpoints != nil {
		cfg.Defaults = o.LocalEndpoints(ctx)
	}
	return cfg
}

// localEndpoints reads the local platform under TENANTSTACK_HOME, if there
// is one, as the platform config keys its endpoints go to.
func localEndpoints(f *cmdutil.Factory) func(context.Context) map[string]string {
	return func(ctx context.Context) map[string]string {
		dir, err := f.HomeDir()
		if err != nil {
			return nil
		}
		env, err := devplatform.New(dir, io.Discard).Env(ctx)
		if err != nil {
			return nil
		}
		return map[string]string{
			"postgresAdminUrl":  env.Postgres.AdminURL,
			"postgresPoolerUrl": env.Postgres.PoolerURL,
			"redisAdminUrl":     env.Redis.AdminURL,
			"kubeconfig":        env.Kubernetes.Kubeconfig,
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
