package tenant

import (
	"maps"
	"slices"
	"strconv"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// appRoleRules are the rules of the tenant's Kubernetes Role: explicit
// groups, resources and verbs, never "*". Nothing in rbac.authorization.k8s.io
// and no ResourceQuota, LimitRange or NetworkPolicy, so the tenant cannot
// widen its own rights or lift its limits; Secrets are read-only, so the
// Pulumi-managed credentials cannot be replaced.
func appRoleRules() []rbacv1.PolicyRuleArgs {
	read := []string{"get", "list", "watch"}
	write := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	return []rbacv1.PolicyRuleArgs{
		{ApiGroups: strs(""), Resources: strs("pods"), Verbs: strs(append(slices.Clone(read), "delete")...)},
		{ApiGroups: strs(""), Resources: strs("pods/log", "events", "endpoints"), Verbs: strs(read...)},
		{ApiGroups: strs(""), Resources: strs("secrets"), Verbs: strs(read...)},
		{ApiGroups: strs(""), Resources: strs("configmaps", "services", "persistentvolumeclaims"), Verbs: strs(write...)},
		{ApiGroups: strs("apps"), Resources: strs("deployments"), Verbs: strs(write...)},
		{ApiGroups: strs("apps"), Resources: strs("deployments/scale"), Verbs: strs("get", "update", "patch")},
		{ApiGroups: strs("apps"), Resources: strs("replicasets"), Verbs: strs(read...)},
		{ApiGroups: strs("batch"), Resources: strs("jobs", "cronjobs"), Verbs: strs(write...)},
	}
}

func strs(v ...string) pulumi.StringArray {
	out := make(pulumi.StringArray, len(v))
	for i, s := range v {
		out[i] = pulumi.String(s)
	}
	return out
}

// kubernetesOut are the Kubernetes values the component exports.
type kubernetesOut struct {
	namespace      pulumi.StringOutput
	serviceAccount pulumi.StringOutput
}

// newKubernetes creates the namespace and everything in it. Every object has
// an explicit metadata.name, so the names are the same in every cluster and
// on every run.
func newKubernetes(ctx *pulumi.Context, name string, c *TenantStack, s *settings, creds pulumi.StringMapOutput, loginReady []pulumi.Resource) (*kubernetesOut, error) {
	opts := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(s.k8sProv)}
	nsName := Namespace(s.id)
	common := pulumi.StringMap{TenantLabel: pulumi.String(s.id), ManagedByLabel: pulumi.String(ManagedByValue)}

	nsLabels := maps.Clone(common)
	nsLabels[TierLabel] = pulumi.String(string(s.tier))
	for _, mode := range []string{"enforce", "audit", "warn"} {
		nsLabels["pod-security.kubernetes.io/"+mode] = pulumi.String("restricted")
		nsLabels["pod-security.kubernetes.io/"+mode+"-version"] = pulumi.String("latest")
	}
	ns, err := corev1.NewNamespace(ctx, name+"-namespace", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(nsName), Labels: nsLabels},
	}, opts...)
	if err != nil {
		return nil, err
	}
	// Objects in the namespace take its name from the Namespace resource, so
	// they are created after it and deleted before it.
	nsRef := ns.Metadata.Name().Elem()
	meta := func(objName string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(objName), Namespace: nsRef, Labels: common}
	}

	sa, err := corev1.NewServiceAccount(ctx, name+"-service-account", &corev1.ServiceAccountArgs{
		Metadata:                     meta(ServiceAccountName),
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, opts...)
	if err != nil {
		return nil, err
	}
	rules := rbacv1.PolicyRuleArray{}
	for _, r := range appRoleRules() {
		rules = append(rules, r)
	}
	role, err := rbacv1.NewRole(ctx, name+"-role", &rbacv1.RoleArgs{Metadata: meta(AppRoleName), Rules: rules}, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := rbacv1.NewRoleBinding(ctx, name+"-role-binding", &rbacv1.RoleBindingArgs{
		Metadata: meta(AppRoleName),
		RoleRef: rbacv1.RoleRefArgs{
			ApiGroup: pulumi.String("rbac.authorization.k8s.io"),
			Kind:     pulumi.String("Role"),
			Name:     role.Metadata.Name().Elem(),
		},
		Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{
			Kind:      pulumi.String("ServiceAccount"),
			Name:      sa.Metadata.Name().Elem(),
			Namespace: nsRef,
		}},
	}, opts...); err != nil {
		return nil, err
	}

	q := s.quota
	if _, err := corev1.NewResourceQuota(ctx, name+"-quota", &corev1.ResourceQuotaArgs{
		Metadata: meta(QuotaName),
		Spec: &corev1.ResourceQuotaSpecArgs{Hard: pulumi.StringMap{
			"requests.cpu":           pulumi.String(q.CPU),
			"limits.cpu":             pulumi.String(q.CPU),
			"requests.memory":        pulumi.String(q.Memory),
			"limits.memory":          pulumi.String(q.Memory),
			"pods":                   pulumi.String(strconv.Itoa(q.Pods)),
			"services":               pulumi.String(strconv.Itoa(q.Services)),
			"persistentvolumeclaims": pulumi.String(strconv.Itoa(q.PVCs)),
			"requests.storage":       pulumi.String(q.Storage),
			"services.loadbalancers": pulumi.String("0"),
			"services.nodeports":     pulumi.String("0"),
		}},
	}, opts...); err != nil {
		return nil, err
	}
	l := s.limits
	if _, err := corev1.NewLimitRange(ctx, name+"-limits", &corev1.LimitRangeArgs{
		Metadata: meta(LimitRangeName),
		Spec: &corev1.LimitRangeSpecArgs{Limits: corev1.LimitRangeItemArray{corev1.LimitRangeItemArgs{
			Type:           pulumi.String("Container"),
			DefaultRequest: pulumi.StringMap{"cpu": pulumi.String(l.CPURequest), "memory": pulumi.String(l.MemoryRequest)},
			Default:        pulumi.StringMap{"cpu": pulumi.String(l.CPULimit), "memory": pulumi.String(l.MemoryLimit)},
		}}},
	}, opts...); err != nil {
		return nil, err
	}
	if err := newNetworkPolicies(ctx, name, s, meta, opts); err != nil {
		return nil, err
	}

	secret, err := corev1.NewSecret(ctx, name+"-credentials", &corev1.SecretArgs{
		Metadata:   meta(CredentialsSecretName),
		Type:       pulumi.String("Opaque"),
		StringData: creds,
	}, append(slices.Clone(opts), pulumi.DependsOn(loginReady))...)
	if err != nil {
		return nil, err
	}
	var flags *corev1.ConfigMap
	if len(s.flags) > 0 {
		data := pulumi.StringMap{}
		for k, v := range s.flags {
			data[k] = pulumi.String(v)
		}
		flags, err = corev1.NewConfigMap(ctx, name+"-flags", &corev1.ConfigMapArgs{Metadata: meta(FlagsConfigMapName), Data: data}, opts...)
		if err != nil {
			return nil, err
		}
	}
	if s.workload != nil {
		if err := newWorkload(ctx, name, s, meta, sa, secret, flags, opts); err != nil {
			return nil, err
		}
	}
	return &kubernetesOut{namespace: nsRef, serviceAccount: sa.Metadata.Name().Elem()}, nil
}

// newNetworkPolicies denies all traffic to and from the tenant's pods, then
// allows traffic within the namespace, DNS, and the platform's endpoints.
// NetworkPolicies add up, so each allowance is its own small object.
func newNetworkPolicies(ctx *pulumi.Context, name string, s *settings, meta func(string) *metav1.ObjectMetaArgs, opts []pulumi.ResourceOption) error {
	all := &metav1.LabelSelectorArgs{}
	tcp, udp := pulumi.String("TCP"), pulumi.String("UDP")
	platformPorts := networkingv1.NetworkPolicyPortArray{}
	for _, p := range s.platform.EgressPorts {
		platformPorts = append(platformPorts, networkingv1.NetworkPolicyPortArgs{Protocol: tcp, Port: pulumi.Int(p)})
	}
	platformPeers := networkingv1.NetworkPolicyPeerArray{}
	for _, cidr := range s.platform.EgressCIDRs {
		platformPeers = append(platformPeers, networkingv1.NetworkPolicyPeerArgs{IpBlock: networkingv1.IPBlockArgs{Cidr: pulumi.String(cidr)}})
	}
	policies := []struct {
		suffix, name string
		spec         networkingv1.NetworkPolicySpecArgs
	}{
		{"netpol-default-deny", "default-deny", networkingv1.NetworkPolicySpecArgs{
			PodSelector: all,
			PolicyTypes: strs("Ingress", "Egress"),
		}},
		{"netpol-same-namespace", "allow-same-namespace", networkingv1.NetworkPolicySpecArgs{
			PodSelector: all,
			PolicyTypes: strs("Ingress", "Egress"),
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
				From: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{PodSelector: all}},
			}},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
				To: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{PodSelector: all}},
			}},
		}},
		{"netpol-dns", "allow-dns", networkingv1.NetworkPolicySpecArgs{
			PodSelector: all,
			PolicyTypes: strs("Egress"),
			Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
				To: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
					NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{
						"kubernetes.io/metadata.name": pulumi.String("kube-system"),
					}},
				}},
				Ports: networkingv1.NetworkPolicyPortArray{
					networkingv1.NetworkPolicyPortArgs{Protocol: udp, Port: pulumi.Int(53)},
					networkingv1.NetworkPolicyPortArgs{Protocol: tcp, Port: pulumi.Int(53)},
				},
			}},
		}},
		{"netpol-platform", "allow-platform", networkingv1.NetworkPolicySpecArgs{
			PodSelector: all,
			PolicyTypes: strs("Egress"),
			Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
				To:    platformPeers,
				Ports: platformPorts,
			}},
		}},
	}
	for _, p := range policies {
		spec := p.spec
		if _, err := networkingv1.NewNetworkPolicy(ctx, name+"-"+p.suffix, &networkingv1.NetworkPolicyArgs{
			Metadata: meta(p.name),
			Spec:     &spec,
		}, opts...); err != nil {
			return err
		}
	}
	return nil
}

// newWorkload runs the tenant's application under the restricted Pod
// Security Standard, with the credentials Secret (and the flags, when there
// are any) in its environment.
func newWorkload(ctx *pulumi.Context, name string, s *settings, meta func(string) *metav1.ObjectMetaArgs,
	sa *corev1.ServiceAccount, secret *corev1.Secret, flags *corev1.ConfigMap, opts []pulumi.ResourceOption,
) error {
	w := s.workload
	replicas := w.Replicas
	if s.suspended {
		replicas = 0
	}
	selector := pulumi.StringMap{"app.kubernetes.io/name": pulumi.String(WorkloadName), TenantLabel: pulumi.String(s.id)}
	env := corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("OTEL_SERVICE_NAME"), Value: pulumi.String(WorkloadName)},
		corev1.EnvVarArgs{Name: pulumi.String("OTEL_RESOURCE_ATTRIBUTES"), Value: pulumi.String("tenant.id=" + s.id)},
	}
	if s.platform.OTelEndpoint != "" {
		env = append(env, corev1.EnvVarArgs{Name: pulumi.String("OTEL_EXPORTER_OTLP_ENDPOINT"), Value: pulumi.String(s.platform.OTelEndpoint)})
	}
	envFrom := corev1.EnvFromSourceArray{corev1.EnvFromSourceArgs{
		SecretRef: corev1.SecretEnvSourceArgs{Name: secret.Metadata.Name().Elem()},
	}}
	if flags != nil {
		envFrom = append(envFrom, corev1.EnvFromSourceArgs{
			Prefix:       pulumi.String("FLAG_"),
			ConfigMapRef: corev1.ConfigMapEnvSourceArgs{Name: flags.Metadata.Name().Elem()},
		})
	}
	// Onboarding does not wait for the application: its rollout, endpoints
	// and ingress address are the application's business, and the local API
	// server has neither a kubelet nor an ingress controller, so the awaits
	// would run into their 10-minute timeouts there.
	workloadMeta := func() *metav1.ObjectMetaArgs {
		m := meta(WorkloadName)
		m.Annotations = pulumi.StringMap{"pulumi.com/skipAwait": pulumi.String("true")}
		return m
	}
	if _, err := appsv1.NewDeployment(ctx, name+"-deployment", &appsv1.DeploymentArgs{
		Metadata: workloadMeta(),
		Spec: appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(replicas),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: selector},
			Template: corev1.PodTemplateSpecArgs{
				Metadata: podMeta(selector, s.credRevision),
				Spec: corev1.PodSpecArgs{
					ServiceAccountName:           sa.Metadata.Name().Elem(),
					AutomountServiceAccountToken: pulumi.Bool(false),
					SecurityContext: corev1.PodSecurityContextArgs{
						RunAsNonRoot:   pulumi.Bool(true),
						SeccompProfile: corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
					},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:    pulumi.String(WorkloadName),
						Image:   pulumi.String(w.Image),
						Ports:   corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("http"), ContainerPort: pulumi.Int(w.Port)}},
						Env:     env,
						EnvFrom: envFrom,
						SecurityContext: corev1.SecurityContextArgs{
							RunAsNonRoot:             pulumi.Bool(true),
							AllowPrivilegeEscalation: pulumi.Bool(false),
							Capabilities:             corev1.CapabilitiesArgs{Drop: strs("ALL")},
							SeccompProfile:           corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
						},
					}},
				},
			},
		},
	}, opts...); err != nil {
		return err
	}
	svc, err := corev1.NewService(ctx, name+"-service", &corev1.ServiceArgs{
		Metadata: workloadMeta(),
		Spec: corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: selector,
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String("http"), Port: pulumi.Int(w.Port), TargetPort: pulumi.String("http"),
			}},
		},
	}, opts...)
	if err != nil {
		return err
	}
	if w.Host == "" {
		return nil
	}
	_, err = networkingv1.NewIngress(ctx, name+"-ingress", &networkingv1.IngressArgs{
		Metadata: workloadMeta(),
		Spec: networkingv1.IngressSpecArgs{Rules: networkingv1.IngressRuleArray{networkingv1.IngressRuleArgs{
			Host: pulumi.String(w.Host),
			Http: networkingv1.HTTPIngressRuleValueArgs{Paths: networkingv1.HTTPIngressPathArray{networkingv1.HTTPIngressPathArgs{
				Path:     pulumi.String("/"),
				PathType: pulumi.String("Prefix"),
				Backend: networkingv1.IngressBackendArgs{Service: networkingv1.IngressServiceBackendArgs{
					Name: svc.Metadata.Name().Elem(),
					Port: networkingv1.ServiceBackendPortArgs{Name: pulumi.String("http")},
				}},
			}}},
		}}},
	}, opts...)
	return err
}

// CredentialsRevisionAnnotation on the workload's pod template changes
// with every credential rotation, so the Deployment rolls its pods, which
// read the credentials Secret as they start.
const CredentialsRevisionAnnotation = "tenantstack.io/credentials-revision"

func podMeta(labels pulumi.StringMap, revision string) *metav1.ObjectMetaArgs {
	m := &metav1.ObjectMetaArgs{Labels: labels}
	if revision != "" {
		m.Annotations = pulumi.StringMap{CredentialsRevisionAnnotation: pulumi.String(revision)}
	}
	return m
}
