package fleet

import (
	"encoding/json"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/components/tenant"
	tenantstack "github.com/tenantstack/tenantstack/sdk"
)

// tenantProgram is the inline Pulumi program of one tenant stack: providers
// for the platform's services, the TenantStack component, and the outputs
// that record the tenant (see state).
func tenantProgram(st state, p *Platform) pulumi.RunFunc {
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
			ConnectionLimit:  spec.ConnectionLimit,
			Quota: tenant.Quota{
				CPU: spec.Quota.CPU, Memory: spec.Quota.Memory, Pods: spec.Quota.Pods,
				Services: spec.Quota.Services, PVCs: spec.Quota.PVCs, Storage: spec.Quota.Storage,
			},
			Flags:     spec.Flags,
			Suspended: st.Status == StatusSuspended,
		}
		if w := spec.Workload; w != nil {
			args.Workload = &tenant.WorkloadArgs{Image: w.Image, Replicas: w.Replicas, Host: w.Host, Port: w.Port}
		}
		if _, err := tenant.NewTenantStack(ctx, spec.Name, args); err != nil {
			return err
		}
		specOut, err := toPlain(spec)
		if err != nil {
			return err
		}
		creds, err := toPlain(st.Credentials)
		if err != nil {
			return err
		}
		ctx.Export("spec", pulumi.Any(specOut))
		ctx.Export("status", pulumi.String(string(st.Status)))
		ctx.Export("created", pulumi.String(st.Created.Format("2006-01-02T15:04:05Z07:00")))
		ctx.Export("credentials", pulumi.ToSecret(pulumi.Any(creds)))
		return nil
	}
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
