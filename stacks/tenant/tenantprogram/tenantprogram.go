// Package tenantprogram is the program of a tenant stack: providers for
// the platform's services, the TenantStack component, and the outputs that
// record the tenant. tenantctl runs it inline through the Automation API;
// stacks/tenant runs the same function for `pulumi preview` and `pulumi up`
// by hand, so both give one result.
package tenantprogram

import (
	"encoding/json"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/components/tenant"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
	tenantstack "github.com/tenantstack/tenantstack/sdk"
)

// State is what a tenant stack records in its outputs. The stack's state is
// the one source of truth for a tenant: nothing about it is kept elsewhere,
// so any Pulumi backend can hold a fleet.
type State struct {
	Spec        tenantspec.Spec        `json:"spec"`
	Status      tenantspec.Status      `json:"status"`
	Created     time.Time              `json:"created"`
	Credentials tenantspec.Credentials `json:"credentials"`
	// Moving is the other tier of a tier move under way.
	Moving tenantspec.Tier `json:"moving,omitempty"`
	// Rotation is the tenant's credential rotations (see fleet's Rotate);
	// nil until the first. A secret output: it holds standby passwords.
	Rotation *Rotation `json:"rotation,omitempty"`
}

// Platform is what tenant stacks take of the platform stack's outputs.
type Platform struct {
	PostgresHost     string `json:"postgresHost"`
	PostgresPort     int    `json:"postgresPort"`
	PoolerHost       string `json:"poolerHost"`
	PoolerPort       int    `json:"poolerPort"`
	Database         string `json:"platformDatabase"`
	PostgresAdminURL string `json:"postgresAdminUrl"`
	RedisHost        string `json:"redisHost"`
	RedisPort        int    `json:"redisPort"`
	RedisAdminURL    string `json:"redisAdminUrl"`
	Kubeconfig       string `json:"kubeconfig"`
	OTelEndpoint     string `json:"otelEndpoint"`
	// EgressCIDRs are the networks tenant workloads may reach the platform's
	// services on.
	EgressCIDRs []string `json:"egressCidrs"`
	// Migrations is the directory of the application's migrations; empty
	// when the platform has none.
	Migrations string `json:"migrations"`
}

// Program is the Pulumi program of one tenant stack: providers
// for the platform's services, the TenantStack component, and the outputs
// that record the tenant (see state).
func Program(st State, p *Platform) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		prov, err := tenantstack.NewProvider(ctx, "platform", &tenantstack.ProviderArgs{
			PostgresURL: pulumi.StringPtr(p.PostgresAdminURL),
			RedisURL:    pulumi.StringPtr(p.RedisAdminURL),
		})
		if err != nil {
			return err
		}
		k8s, err := kubernetes.NewProvider(ctx, "kubernetes", &kubernetes.ProviderArgs{
			Kubeconfig: pulumi.String(p.Kubeconfig),
		})
		if err != nil {
			return err
		}
		spec := st.Spec
		eff := spec.Effective()
		args := &tenant.TenantStackArgs{
			TenantID:           spec.Name,
			Tier:               tenant.Tier(spec.Tier),
			PostgresProvider:   prov,
			RedisProvider:      prov,
			KubernetesProvider: k8s,
			Platform: tenant.PlatformEndpoints{
				PostgresHost:     p.PostgresHost,
				PostgresPort:     p.PostgresPort,
				PoolerHost:       p.PoolerHost,
				PoolerPort:       p.PoolerPort,
				PlatformDatabase: p.Database,
				RedisHost:        p.RedisHost,
				RedisPort:        p.RedisPort,
				OTelEndpoint:     p.OTelEndpoint,
				EgressCIDRs:      p.EgressCIDRs,
			},
			PostgresPassword: pulumi.ToSecret(pulumi.String(st.Credentials.Postgres.Password)).(pulumi.StringOutput),
			RedisPassword:    pulumi.ToSecret(pulumi.String(st.Credentials.Redis.Password)).(pulumi.StringOutput),
			ConnectionLimit:  eff.ConnectionLimit,
			RoleSettings:     eff.Limits.RoleSettings(),
			Quota:            eff.Quota,
			Flags:            spec.Flags,
			Workload:         spec.Workload,
			Suspended:        st.Status == tenantspec.StatusSuspended,
			MovingTier:       st.Moving,
		}
		st.Rotation.Apply(args)
		c, err := tenant.NewTenantStack(ctx, spec.Name, args)
		if err != nil {
			return err
		}
		specOut, err := toPlain(spec)
		if err != nil {
			return err
		}
		ctx.Export("spec", pulumi.Any(specOut))
		ctx.Export("status", pulumi.String(string(st.Status)))
		if st.Moving != "" {
			ctx.Export("moving", pulumi.String(string(st.Moving)))
		}
		if st.Rotation != nil {
			rot, err := toPlain(st.Rotation)
			if err != nil {
				return err
			}
			ctx.Export("rotation", pulumi.ToSecret(pulumi.Any(rot)))
		}
		ctx.Export("created", pulumi.String(st.Created.Format("2006-01-02T15:04:05Z07:00")))
		ctx.Export("credentials", pulumi.ToSecret(CredentialsOutput(c, spec, p, st.Credentials)))
		return nil
	}
}

// CredentialsOutput is the tenant's credentials as the component reports
// them: names and URLs are its outputs, nothing is recomputed here. The
// passwords are the ones passed in, and the hosts and ports the platform's.
func CredentialsOutput(c *tenant.TenantStack, spec tenantspec.Spec, p *Platform, pw tenantspec.Credentials) pulumi.MapOutput {
	return pulumi.All(c.PostgresUser, c.PostgresDatabase, c.PostgresSchema, c.PostgresURL, c.PoolerURL,
		c.RedisUsername, c.KeyPrefix, c.ChannelPrefix, c.Namespace, c.ServiceAccount).ApplyT(func(v []any) (map[string]any, error) {
		str := func(i int) string { return v[i].(string) }
		return toPlain(tenantspec.Credentials{
			Tenant: spec.Name,
			Tier:   spec.Tier,
			Postgres: tenantspec.PostgresCredentials{
				Host: p.PostgresHost, Port: p.PostgresPort,
				Database: str(1), Schema: str(2), User: str(0), Password: pw.Postgres.Password,
				URL: str(3), PoolerURL: str(4),
			},
			Redis: tenantspec.RedisCredentials{
				Host: p.RedisHost, Port: p.RedisPort,
				Username: str(5), Password: pw.Redis.Password,
				KeyPrefix: str(6), ChannelPrefix: str(7),
			},
			Kubernetes: tenantspec.KubernetesCredentials{Namespace: str(8), ServiceAccount: str(9)},
		})
	}).(pulumi.MapOutput)
}

// toPlain turns v into the maps and slices Pulumi outputs are made of.
func toPlain(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// secretString is v as a secret input.
func secretString(v string) pulumi.StringInput {
	return pulumi.ToSecret(pulumi.String(v)).(pulumi.StringOutput)
}
