package redis

import (
	"fmt"
	"net/url"
	"strconv"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	tenantstack "github.com/tenantstack/tenantstack/sdk"
	rd "github.com/tenantstack/tenantstack/sdk/redis"
)

// Mode says where the platform's Redis runs.
type Mode string

// The modes of a Redis component.
const (
	External  Mode = "external"
	InCluster Mode = "incluster"
)

// RedisArgs configures a Redis component.
type RedisArgs struct {
	// Mode is External (default) or InCluster.
	Mode Mode
	// AdminURL is redis://USER:PASS@HOST:PORT of an admin user. Required in
	// External mode; in InCluster mode, how this program reaches the
	// in-cluster server (optional: without it the baseline is only
	// written into the server's aclfile). Stored as a secret.
	AdminURL pulumi.StringInput
	// InCluster configures InCluster mode; required there.
	InCluster *InClusterArgs
}

// InClusterArgs configures InCluster mode.
type InClusterArgs struct {
	// KubernetesProvider is the cluster to deploy into. Required.
	KubernetesProvider pulumi.ProviderResource
	// AdminPassword is the password of the admin ACL user. Required.
	AdminPassword pulumi.StringInput
	// Namespace, optional; default "platform-system".
	Namespace string
	// Image, optional; default "redis:7.0".
	Image string
	// SkipAwait leaves readiness unchecked where no kubelet runs; default false.
	SkipAwait bool
}

// Redis is the platform's Redis with its ACL baseline.
type Redis struct {
	pulumi.ResourceState

	// Provider is our provider configured with the admin connection.
	Provider *tenantstack.Provider
	Host     pulumi.StringOutput
	Port     pulumi.IntOutput
	// AdminURL is the admin connection URL (secret).
	AdminURL pulumi.StringOutput
}

// NewRedis enforces the ACL baseline on the platform's Redis.
func NewRedis(ctx *pulumi.Context, name string, args *RedisArgs, opts ...pulumi.ResourceOption) (*Redis, error) {
	if args == nil {
		return nil, fmt.Errorf("redis %q: args are required", name)
	}
	a := *args
	if a.Mode == "" {
		a.Mode = External
	}
	switch a.Mode {
	case External:
		if a.AdminURL == nil {
			return nil, fmt.Errorf("redis %q: AdminURL is required in external mode", name)
		}
	case InCluster:
		if a.InCluster == nil || a.InCluster.KubernetesProvider == nil || a.InCluster.AdminPassword == nil {
			return nil, fmt.Errorf("redis %q: incluster mode needs InCluster.KubernetesProvider and InCluster.AdminPassword", name)
		}
		// Defaults go into a copy: the caller's InClusterArgs stay as given.
		ic := *a.InCluster
		a.InCluster = &ic
		if ic.Namespace == "" {
			ic.Namespace = "platform-system"
		}
		if ic.Image == "" {
			ic.Image = "redis:7.0"
		}
	default:
		return nil, fmt.Errorf("redis %q: unknown mode %q; use %q or %q", name, a.Mode, External, InCluster)
	}

	c := &Redis{}
	if err := ctx.RegisterComponentResource("tenantstack:platform:Redis", name, c, opts...); err != nil {
		return nil, err
	}
	if a.Mode == InCluster {
		host, err := deployInCluster(ctx, name, c, a.InCluster)
		if err != nil {
			return nil, err
		}
		c.Host, c.Port = pulumi.String(host).ToStringOutput(), pulumi.Int(6379).ToIntOutput()
		c.AdminURL = pulumi.ToSecret(a.InCluster.AdminPassword.ToStringOutput().ApplyT(func(pw string) string {
			return (&url.URL{Scheme: "redis", User: url.UserPassword("admin", pw), Host: host + ":6379"}).String()
		})).(pulumi.StringOutput)
	} else {
		c.AdminURL = pulumi.ToSecret(a.AdminURL).(pulumi.StringOutput)
		c.Host, c.Port = hostPort(a.AdminURL)
	}

	if a.AdminURL != nil {
		prov, err := tenantstack.NewProvider(ctx, name+"-admin", &tenantstack.ProviderArgs{
			RedisURL: pulumi.ToSecret(a.AdminURL).(pulumi.StringOutput).ToStringPtrOutput(),
		}, pulumi.Parent(c))
		if err != nil {
			return nil, err
		}
		c.Provider = prov
		// The default user is switched off and stripped of every right.
		// Redis cannot delete it, so destroy leaves it as it is: off.
		if _, err := rd.NewACLUser(ctx, name+"-default-user", &rd.ACLUserArgs{
			Username:        pulumi.String("default"),
			Enabled:         pulumi.Bool(false),
			AllowPrivileged: pulumi.Bool(true),
		}, pulumi.Parent(c), pulumi.Provider(prov), pulumi.RetainOnDelete(true)); err != nil {
			return nil, err
		}
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"host": c.Host, "port": c.Port, "adminUrl": c.AdminURL,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func hostPort(u pulumi.StringInput) (pulumi.StringOutput, pulumi.IntOutput) {
	out := pulumi.Unsecret(u.ToStringOutput()).(pulumi.StringOutput)
	parse := func(s string) (*url.URL, error) {
		p, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("invalid Redis URL: %w", err)
		}
		return p, nil
	}
	host := out.ApplyT(func(s string) (string, error) {
		p, err := parse(s)
		if err != nil {
			return "", err
		}
		return p.Hostname(), nil
	}).(pulumi.StringOutput)
	port := out.ApplyT(func(s string) (int, error) {
		p, err := parse(s)
		if err != nil {
			return 0, err
		}
		if p.Port() == "" {
			return 6379, nil
		}
		return strconv.Atoi(p.Port())
	}).(pulumi.IntOutput)
	return host, port
}

// deployInCluster runs Redis as a StatefulSet whose aclfile starts with the
// baseline: the default user off and one admin user.
func deployInCluster(ctx *pulumi.Context, name string, parent pulumi.Resource, a *InClusterArgs) (string, error) {
	opts := []pulumi.ResourceOption{pulumi.Parent(parent), pulumi.Provider(a.KubernetesProvider)}
	svc := name + "-redis"
	host := fmt.Sprintf("%s.%s.svc", svc, a.Namespace)
	labels := pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("redis"), "app.kubernetes.io/managed-by": pulumi.String("tenantstack")}
	annotations := pulumi.StringMap{}
	if a.SkipAwait {
		annotations["pulumi.com/skipAwait"] = pulumi.String("true")
	}
	meta := func(n string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(n), Namespace: pulumi.String(a.Namespace), Labels: labels, Annotations: annotations}
	}
	acl := a.AdminPassword.ToStringOutput().ApplyT(func(pw string) string {
		return "user default off resetkeys resetchannels -@all\nuser admin on >" + pw + " ~* &* +@all\n"
	}).(pulumi.StringOutput)
	if _, err := corev1.NewSecret(ctx, name+"-acl", &corev1.SecretArgs{
		Metadata:   meta(name + "-acl"),
		StringData: pulumi.StringMap{"users.acl": pulumi.ToSecret(acl).(pulumi.StringOutput)},
	}, opts...); err != nil {
		return "", err
	}
	if _, err := corev1.NewService(ctx, svc, &corev1.ServiceArgs{
		Metadata: meta(svc),
		Spec: corev1.ServiceSpecArgs{
			Selector: labels,
			Ports:    corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String("redis"), Port: pulumi.Int(6379)}},
		},
	}, opts...); err != nil {
		return "", err
	}
	// The aclfile must be writable for ACL SAVE: an init container copies
	// the baseline from the Secret onto the data volume once.
	if _, err := appsv1.NewStatefulSet(ctx, svc, &appsv1.StatefulSetArgs{
		Metadata: meta(svc),
		Spec: appsv1.StatefulSetSpecArgs{
			ServiceName: pulumi.String(svc),
			Replicas:    pulumi.Int(1),
			Selector:    metav1.LabelSelectorArgs{MatchLabels: labels},
			Template: corev1.PodTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{Labels: labels},
				Spec: corev1.PodSpecArgs{
					PriorityClassName: pulumi.String("tenantstack-platform"),
					InitContainers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:    pulumi.String("acl-baseline"),
						Image:   pulumi.String(a.Image),
						Command: pulumi.StringArray{pulumi.String("sh"), pulumi.String("-c"), pulumi.String("[ -f /data/users.acl ] || cp /baseline/users.acl /data/users.acl")},
						VolumeMounts: corev1.VolumeMountArray{
							corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String("/data")},
							corev1.VolumeMountArgs{Name: pulumi.String("baseline"), MountPath: pulumi.String("/baseline")},
						},
					}},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("redis"),
						Image: pulumi.String(a.Image),
						Args:  pulumi.StringArray{pulumi.String("--aclfile"), pulumi.String("/data/users.acl"), pulumi.String("--appendonly"), pulumi.String("yes")},
						Ports: corev1.ContainerPortArray{corev1.ContainerPortArgs{ContainerPort: pulumi.Int(6379)}},
						VolumeMounts: corev1.VolumeMountArray{
							corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String("/data")},
						},
					}},
					Volumes: corev1.VolumeArray{corev1.VolumeArgs{
						Name:   pulumi.String("baseline"),
						Secret: corev1.SecretVolumeSourceArgs{SecretName: pulumi.String(name + "-acl")},
					}},
				},
			},
			VolumeClaimTemplates: corev1.PersistentVolumeClaimTypeArray{corev1.PersistentVolumeClaimTypeArgs{
				Metadata: metav1.ObjectMetaArgs{Name: pulumi.String("data")},
				Spec: corev1.PersistentVolumeClaimSpecArgs{
					AccessModes: pulumi.StringArray{pulumi.String("ReadWriteOnce")},
					Resources:   corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String("1Gi")}},
				},
			}},
		},
	}, opts...); err != nil {
		return "", err
	}
	return host, nil
}
