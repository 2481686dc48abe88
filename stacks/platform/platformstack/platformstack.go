// Package platformstack is the platform program: it reads the stack's
// configuration, builds the platform components and exports what tenant
// stacks need. `pulumi up` runs it through stacks/platform; tenantctl
// platform runs the same function inline through the Automation API.
package platformstack

import (
	"context"
	"fmt"
	"io"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/tenantstack/tenantstack/components/cluster"
	"github.com/tenantstack/tenantstack/components/observability"
	"github.com/tenantstack/tenantstack/components/postgres"
	"github.com/tenantstack/tenantstack/components/redis"
	"github.com/tenantstack/tenantstack/internal/devplatform"
	"github.com/tenantstack/tenantstack/internal/home"
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
}

// ReadConfig reads the `tenantstack:` configuration of the stack. Where the
// endpoints are not set, it uses the local platform of `tenantctl dev up`
// under TENANTSTACK_HOME.
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
	var cidrs []string
	if err := c.TryObject("egressCidrs", &cidrs); err == nil && len(cidrs) > 0 {
		cfg.EgressCIDRs = cidrs
	}
	if cfg.PostgresAdminURL == "" || cfg.RedisAdminURL == "" || (cfg.Kubeconfig == "" && cfg.RenderDir == "") {
		env, err := localPlatform(ctx.Context())
		if err != nil {
			return nil, err
		}
		cfg.PostgresAdminURL = orDefault(cfg.PostgresAdminURL, env.Postgres.AdminURL)
		cfg.PostgresPoolerURL = orDefault(cfg.PostgresPoolerURL, env.Postgres.PoolerURL)
		cfg.RedisAdminURL = orDefault(cfg.RedisAdminURL, env.Redis.AdminURL)
		cfg.Kubeconfig = orDefault(cfg.Kubeconfig, env.Kubernetes.Kubeconfig)
	}
	return cfg, nil
}

func localPlatform(ctx context.Context) (devplatform.Env, error) {
	dir, err := home.Dir()
	if err != nil {
		return devplatform.Env{}, err
	}
	env, err := devplatform.New(dir, io.Discard).Env(ctx)
	if err != nil {
		return devplatform.Env{}, fmt.Errorf("tenantstack:postgresAdminUrl, redisAdminUrl and kubeconfig are not all set, and the local platform is not available: %w", err)
	}
	return env, nil
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
	return nil
}
