// Package platformstack is the platform program: it reads the stack's
// configuration, builds the platform components and exports what tenant
// stacks need. `pulumi up` runs it through stacks/platform; tenantctl
// platform runs the same function inline through the Automation API.
package platformstack

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/tenantstack/tenantstack/components/cluster"
	"github.com/tenantstack/tenantstack/components/observability"
	"github.com/tenantstack/tenantstack/components/postgres"
	"github.com/tenantstack/tenantstack/components/redis"
	"github.com/tenantstack/tenantstack/internal/migrate/source"
)

// Config holds the platform's settings. Every key is described, with its
// default, in the root Pulumi.yaml.
type Config struct {
	PostgresAdminURL  string
	PostgresPoolerURL string
	PlatformDatabase  string
	RedisAdminURL     string
	Kubeconfig        string
	RenderDir         string
	CollectorImage    string
	TracesEndpoint    string
	EgressCIDRs       []string
	// Migrations is the directory of the application's migrations, as an
	// absolute path; empty when the platform has no application schema.
	Migrations string
}

// ReadConfig reads the `tenantstack:` configuration of the stack. The
// endpoints come from config only: a missing one is an error that says how
// to set it (tenantctl platform up sets the local platform's).
func ReadConfig(ctx *pulumi.Context) (*Config, error) {
	c := config.New(ctx, "tenantstack")
	cfg := &Config{
		PostgresAdminURL:  c.Get("postgresAdminUrl"),
		PostgresPoolerURL: c.Get("postgresPoolerUrl"),
		PlatformDatabase:  orDefault(c.Get("platformDatabase"), "platform"),
		RedisAdminURL:     c.Get("redisAdminUrl"),
		Kubeconfig:        c.Get("kubeconfig"),
		RenderDir:         c.Get("renderDir"),
		CollectorImage:    c.Get("collectorImage"),
		TracesEndpoint:    c.Get("tracesEndpoint"),
		EgressCIDRs:       []string{"127.0.0.1/32"},
	}
	if dir := c.Get("migrations"); dir != "" {
		// A relative directory is the project directory's, where the
		// program runs.
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("tenantstack:migrations %q: %w", dir, err)
		}
		// Refused before anything is deployed: unreadable files, gaps,
		// duplicates, and migrations that would weaken isolation.
		set, err := source.Load(abs)
		if err != nil {
			return nil, fmt.Errorf("tenantstack:migrations: %w", err)
		}
		if err := source.FindingsError(source.Lint(set)); err != nil {
			return nil, fmt.Errorf("tenantstack:migrations: %w", err)
		}
		cfg.Migrations = abs
	}
	var cidrs []string
	if err := c.TryObject("egressCidrs", &cidrs); err == nil && len(cidrs) > 0 {
		cfg.EgressCIDRs = cidrs
	}
	var missing []string
	for _, k := range []struct {
		key, value, what string
	}{
		{"postgresAdminUrl", cfg.PostgresAdminURL, "postgres://USER:PASSWORD@HOST:5432/postgres"},
		{"redisAdminUrl", cfg.RedisAdminURL, "redis://USER:PASSWORD@HOST:6379/0"},
	} {
		if k.value == "" {
			missing = append(missing, fmt.Sprintf("tenantstack:%s (%s)", k.key, k.what))
		}
	}
	if cfg.Kubeconfig == "" && cfg.RenderDir == "" {
		missing = append(missing, "tenantstack:kubeconfig (a kubeconfig file's path, or tenantstack:renderDir)")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the platform stack's configuration lacks %s; set each with \"pulumi config set [--secret] KEY VALUE\", or run \"tenantctl platform up\", which sets the endpoints of the local platform (\"tenantctl dev up\") where none are set",
			strings.Join(missing, ", "))
	}
	return cfg, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Run is the platform program.
func Run(ctx *pulumi.Context) error {
	cfg, err := ReadConfig(ctx)
	if err != nil {
		return err
	}
	return Build(ctx, cfg)
}

// Build creates the platform's components from cfg and exports the outputs
// tenant stacks read (see fleet.Platform).
func Build(ctx *pulumi.Context, cfg *Config) error {
	cl, err := cluster.NewCluster(ctx, "cluster", &cluster.ClusterArgs{
		Kubeconfig: pulumi.String(cfg.Kubeconfig),
		RenderDir:  cfg.RenderDir,
	})
	if err != nil {
		return err
	}
	k8s := pulumi.Provider(cl.Provider)
	obs, err := observability.NewObservability(ctx, "observability", &observability.ObservabilityArgs{
		Namespace:         cl.ObservabilityNamespace,
		PriorityClassName: cl.PlatformPriorityClass,
		CollectorImage:    cfg.CollectorImage,
		TracesEndpoint:    cfg.TracesEndpoint,
	}, k8s, pulumi.DependsOn([]pulumi.Resource{cl}))
	if err != nil {
		return err
	}
	pgArgs := &postgres.PostgresArgs{
		AdminURL: pulumi.ToSecret(pulumi.String(cfg.PostgresAdminURL)).(pulumi.StringOutput),
		Database: cfg.PlatformDatabase,
	}
	if cfg.PostgresPoolerURL != "" {
		pgArgs.PoolerURL = pulumi.ToSecret(pulumi.String(cfg.PostgresPoolerURL)).(pulumi.StringOutput)
	}
	pg, err := postgres.NewPostgres(ctx, "postgres", pgArgs)
	if err != nil {
		return err
	}
	rd, err := redis.NewRedis(ctx, "redis", &redis.RedisArgs{
		AdminURL: pulumi.ToSecret(pulumi.String(cfg.RedisAdminURL)).(pulumi.StringOutput),
	})
	if err != nil {
		return err
	}

	ctx.Export("postgresHost", pg.Host)
	ctx.Export("postgresPort", pg.Port)
	ctx.Export("poolerHost", pg.PoolerHost)
	ctx.Export("poolerPort", pg.PoolerPort)
	ctx.Export("platformDatabase", pg.Database)
	ctx.Export("postgresAdminUrl", pg.AdminURL)
	ctx.Export("poolerAdminUrl", pg.PoolerURL)
	ctx.Export("redisHost", rd.Host)
	ctx.Export("redisPort", rd.Port)
	ctx.Export("redisAdminUrl", rd.AdminURL)
	ctx.Export("kubeconfig", pulumi.String(cfg.Kubeconfig))
	ctx.Export("otelEndpoint", obs.OTLPHTTPEndpoint)
	ctx.Export("egressCidrs", pulumi.ToStringArray(cfg.EgressCIDRs))
	ctx.Export("platformNamespace", cl.PlatformNamespace)
	ctx.Export("tenantPriorityClass", cl.TenantPriorityClass)
	ctx.Export("migrations", pulumi.String(cfg.Migrations))
	return nil
}
