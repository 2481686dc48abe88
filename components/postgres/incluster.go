package postgres

import (
	"fmt"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// InClusterArgs configures InCluster mode.
type InClusterArgs struct {
	// KubernetesProvider is the cluster to deploy into. Required.
	KubernetesProvider pulumi.ProviderResource
	// AdminPassword is the password of the postgres superuser (a secret
	// the caller generates). Required.
	AdminPassword pulumi.StringInput
	// Namespace holds the StatefulSet and PgBouncer. Optional; default
	// "platform-system".
	Namespace string
	// Image is the PostgreSQL image. Optional; default "postgres:15".
	Image string
	// PgBouncerImage is the PgBouncer image. Optional; default
	// "bitnami/pgbouncer:1.18.0".
	PgBouncerImage string
	// StorageSize is the size of the data volume claim. Optional; default "10Gi".
	StorageSize string
	// SkipAwait leaves the workloads' readiness unchecked, for clusters
	// without a kubelet (like the local platform). Optional; default false.
	SkipAwait bool
}

func (a *InClusterArgs) check(name string) error {
	if a.KubernetesProvider == nil {
		return fmt.Errorf("postgres %q: InCluster.KubernetesProvider is required", name)
	}
	if a.AdminPassword == nil {
		return fmt.Errorf("postgres %q: InCluster.AdminPassword is required", name)
	}
	if a.Namespace == "" {
		a.Namespace = "platform-system"
	}
	if a.Image == "" {
		a.Image = "postgres:15"
	}
	if a.PgBouncerImage == "" {
		a.PgBouncerImage = "bitnami/pgbouncer:1.18.0"
	}
	if a.StorageSize == "" {
		a.StorageSize = "10Gi"
	}
	return nil
}

type endpoints struct {
	host, poolerHost string
	port, poolerPort int
}

// deployInCluster creates PostgreSQL as a StatefulSet with a volume claim
// and a Service, and PgBouncer in transaction mode as a Deployment and
// Service in front of it.
func deployInCluster(ctx *pulumi.Context, name string, parent pulumi.Resource, a *InClusterArgs) (endpoints, error) {
	opts := []pulumi.ResourceOption{pulumi.Parent(parent), pulumi.Provider(a.KubernetesProvider)}
	pgName, bouncerName := name+"-postgres", name+"-pgbouncer"
	ep := endpoints{
		host: fmt.Sprintf("%s.%s.svc", pgName, a.Namespace), port: 5432,
		poolerHost: fmt.Sprintf("%s.%s.svc", bouncerName, a.Namespace), poolerPort: 6432,
	}
	annotations := pulumi.StringMap{}
	if a.SkipAwait {
		annotations["pulumi.com/skipAwait"] = pulumi.String("true")
	}
	labels := func(app string) pulumi.StringMap {
		return pulumi.StringMap{"app.kubernetes.io/name": pulumi.String(app), "app.kubernetes.io/managed-by": pulumi.String("tenantstack")}
	}
	meta := func(n, app string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(n), Namespace: pulumi.String(a.Namespace), Labels: labels(app), Annotations: annotations}
	}

	secret, err := corev1.NewSecret(ctx, name+"-admin", &corev1.SecretArgs{
		Metadata:   meta(name+"-admin", "postgres"),
		StringData: pulumi.StringMap{"POSTGRES_PASSWORD": pulumi.ToSecret(a.AdminPassword).(pulumi.StringOutput)},
	}, opts...)
	if err != nil {
		return ep, err
	}
	secretEnv := func(key string) corev1.EnvVarInput {
		return corev1.EnvVarArgs{Name: pulumi.String(key), ValueFrom: corev1.EnvVarSourceArgs{
			SecretKeyRef: corev1.SecretKeySelectorArgs{Name: secret.Metadata.Name().Elem(), Key: pulumi.String("POSTGRES_PASSWORD")},
		}}
	}
	if _, err := corev1.NewService(ctx, pgName, &corev1.ServiceArgs{
		Metadata: meta(pgName, "postgres"),
		Spec: corev1.ServiceSpecArgs{
			Selector: labels("postgres"),
			Ports:    corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String("postgres"), Port: pulumi.Int(5432)}},
		},
	}, opts...); err != nil {
		return ep, err
	}
	if _, err := appsv1.NewStatefulSet(ctx, pgName, &appsv1.StatefulSetArgs{
		Metadata: meta(pgName, "postgres"),
		Spec: appsv1.StatefulSetSpecArgs{
			ServiceName: pulumi.String(pgName),
			Replicas:    pulumi.Int(1),
			Selector:    metav1.LabelSelectorArgs{MatchLabels: labels("postgres")},
			Template: corev1.PodTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{Labels: labels("postgres")},
				Spec: corev1.PodSpecArgs{
					PriorityClassName: pulumi.String("tenantstack-platform"),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("postgres"),
						Image: pulumi.String(a.Image),
						Args:  pulumi.StringArray{pulumi.String("-c"), pulumi.String("password_encryption=scram-sha-256"), pulumi.String("-c"), pulumi.String("max_connections=500")},
						Env: corev1.EnvVarArray{
							secretEnv("POSTGRES_PASSWORD"),
							corev1.EnvVarArgs{Name: pulumi.String("PGDATA"), Value: pulumi.String("/var/lib/postgresql/data/pgdata")},
						},
						Ports:        corev1.ContainerPortArray{corev1.ContainerPortArgs{ContainerPort: pulumi.Int(5432)}},
						VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String("/var/lib/postgresql/data")}},
					}},
				},
			},
			VolumeClaimTemplates: corev1.PersistentVolumeClaimTypeArray{corev1.PersistentVolumeClaimTypeArgs{
				Metadata: metav1.ObjectMetaArgs{Name: pulumi.String("data")},
				Spec: corev1.PersistentVolumeClaimSpecArgs{
					AccessModes: pulumi.StringArray{pulumi.String("ReadWriteOnce")},
					Resources:   corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(a.StorageSize)}},
				},
			}},
		},
	}, opts...); err != nil {
		return ep, err
	}
	if _, err := corev1.NewService(ctx, bouncerName, &corev1.ServiceArgs{
		Metadata: meta(bouncerName, "pgbouncer"),
		Spec: corev1.ServiceSpecArgs{
			Selector: labels("pgbouncer"),
			Ports:    corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String("pgbouncer"), Port: pulumi.Int(6432)}},
		},
	}, opts...); err != nil {
		return ep, err
	}
	if _, err := appsv1.NewDeployment(ctx, bouncerName, &appsv1.DeploymentArgs{
		Metadata: meta(bouncerName, "pgbouncer"),
		Spec: appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(1),
			Selector: metav1.LabelSelectorArgs{MatchLabels: labels("pgbouncer")},
			Template: corev1.PodTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{Labels: labels("pgbouncer")},
				Spec: corev1.PodSpecArgs{
					PriorityClassName: pulumi.String("tenantstack-platform"),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("pgbouncer"),
						Image: pulumi.String(a.PgBouncerImage),
						Env: corev1.EnvVarArray{
							corev1.EnvVarArgs{Name: pulumi.String("POSTGRESQL_HOST"), Value: pulumi.String(ep.host)},
							corev1.EnvVarArgs{Name: pulumi.String("PGBOUNCER_POOL_MODE"), Value: pulumi.String("transaction")},
							corev1.EnvVarArgs{Name: pulumi.String("PGBOUNCER_AUTH_TYPE"), Value: pulumi.String("scram-sha-256")},
							corev1.EnvVarArgs{Name: pulumi.String("PGBOUNCER_AUTH_USER"), Value: pulumi.String("postgres")},
							corev1.EnvVarArgs{Name: pulumi.String("PGBOUNCER_AUTH_QUERY"), Value: pulumi.String("SELECT usename, passwd FROM pg_shadow WHERE usename=$1")},
							secretEnv("POSTGRESQL_PASSWORD"),
						},
						Ports: corev1.ContainerPortArray{corev1.ContainerPortArgs{ContainerPort: pulumi.Int(6432)}},
					}},
				},
			},
		},
	}, opts...); err != nil {
		return ep, err
	}
	return ep, nil
}
