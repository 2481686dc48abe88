package cluster

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	schedulingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/scheduling/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the Pulumi type of the Cluster component.
const TypeToken = "tenantstack:platform:Cluster"

// Label keys and values of the tenantstack label convention. Every resource a
// tenantstack component creates carries ManagedByLabel=ManagedByValue.
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "tenantstack"
	PartOfLabel    = "app.kubernetes.io/part-of"
	PartOfValue    = "tenantstack"
	// NamespaceRoleLabel tells platform namespaces ("platform") from tenant
	// namespaces ("tenant") so that policies and NetworkPolicies can select them.
	NamespaceRoleLabel = "tenantstack.io/namespace-role"
	// NamespaceRolePlatform is the NamespaceRoleLabel value of platform namespaces.
	NamespaceRolePlatform = "platform"
)

// Names and defaults of the baseline.
const (
	DefaultPlatformNamespace      = "platform-system"
	DefaultObservabilityNamespace = "observability"

	PlatformPriorityClassName = "tenantstack-platform"
	TenantPriorityClassName   = "tenantstack-tenant"
	// DefaultPlatformPriority sits well above ordinary workloads (0) and below
	// the built-in system-cluster-critical and system-node-critical classes.
	DefaultPlatformPriority = 1_000_000
	// DefaultTenantPriority ranks tenant pods above pods without a class.
	DefaultTenantPriority = 1_000
	// MaxUserPriority is the largest value Kubernetes accepts for a
	// PriorityClass that is not a system class.
	MaxUserPriority = 1_000_000_000
	// TenantNamespacePrefix starts the name of every tenant namespace
	// ("tenant-<id>"); platform namespaces may not use it.
	TenantNamespacePrefix = "tenant-"
)

// PodSecurityLevel is a Pod Security Standards level.
type PodSecurityLevel string

// The Pod Security Standards levels.
const (
	PodSecurityPrivileged PodSecurityLevel = "privileged"
	PodSecurityBaseline   PodSecurityLevel = "baseline"
	PodSecurityRestricted PodSecurityLevel = "restricted"
)

// ClusterArgs configures a Cluster. Every field is optional.
//
// At most one of Provider, Kubeconfig and RenderDir may be set.
type ClusterArgs struct {
	// Provider is the Kubernetes provider every resource is created with.
	// Optional; when nil the component creates one from Kubeconfig or RenderDir.
	Provider *kubernetes.Provider
	// Kubeconfig is a kubeconfig path or its contents, used to create the
	// provider when Provider is nil. Optional; default: the ambient
	// configuration ($KUBECONFIG, then ~/.kube/config).
	Kubeconfig pulumi.StringInput
	// RenderDir, when set, puts the component in render mode: the created
	// provider writes every manifest as YAML under this directory instead of
	// applying it, so the baseline can be reviewed without a cluster.
	// Optional; default "" (apply to the cluster).
	RenderDir string

	// PlatformNamespace is the namespace for platform services.
	// Optional; default "platform-system". Must be a DNS label.
	PlatformNamespace string
	// ObservabilityNamespace is the namespace for the observability stack.
	// Optional; default "observability". Must be a DNS label, distinct from
	// PlatformNamespace.
	ObservabilityNamespace string
	// ExtraNamespaces are further platform namespaces, labelled like the two
	// above. Optional; default none. Each must be a DNS label, distinct from
	// the others.
	ExtraNamespaces []string
	// Labels are added to every resource the component creates. Optional.
	// The managed-by and part-of labels are always set and cannot be changed.
	Labels map[string]string

	// PlatformPriority is the value of the tenantstack-platform PriorityClass.
	// Optional; default 1000000. Must be at most 1000000000 and above TenantPriority.
	PlatformPriority int
	// TenantPriority is the value of the tenantstack-tenant PriorityClass.
	// Optional; default 1000. Must be positive and below PlatformPriority.
	TenantPriority int

	// PodSecurityEnforce is the Pod Security level enforced in platform
	// namespaces. Optional; default "baseline".
	PodSecurityEnforce PodSecurityLevel
	// PodSecurityAudit is the Pod Security level audited in platform
	// namespaces. Optional; default "restricted".
	PodSecurityAudit PodSecurityLevel
	// PodSecurityWarn is the Pod Security level warned about in platform
	// namespaces. Optional; default "restricted".
	PodSecurityWarn PodSecurityLevel
}

// Cluster is the Kubernetes baseline of a tenantstack platform.
type Cluster struct {
	pulumi.ResourceState

	// Provider is the Kubernetes provider of the baseline; pass it to other
	// components with pulumi.Provider(c.Provider).
	Provider *kubernetes.Provider
	// RenderMode reports whether manifests are rendered to a directory
	// instead of applied.
	RenderMode bool
	// Labels are the labels common to every resource of the baseline
	// (the tenantstack convention plus ClusterArgs.Labels).
	Labels map[string]string

	// PlatformNamespace is the name of the platform namespace.
	PlatformNamespace pulumi.StringOutput
	// ObservabilityNamespace is the name of the observability namespace.
	ObservabilityNamespace pulumi.StringOutput
	// Namespaces lists every namespace the baseline created.
	Namespaces pulumi.StringArrayOutput
	// PlatformPriorityClass is the name of the PriorityClass for platform workloads.
	PlatformPriorityClass pulumi.StringOutput
	// TenantPriorityClass is the name of the PriorityClass for tenant workloads.
	TenantPriorityClass pulumi.StringOutput
}

// NewCluster creates the Kubernetes baseline.
func NewCluster(ctx *pulumi.Context, name string, args *ClusterArgs, opts ...pulumi.ResourceOption) (*Cluster, error) {
	a, err := withDefaults(name, args)
	if err != nil {
		return nil, err
	}

	c := &Cluster{RenderMode: a.RenderDir != ""}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, err
	}

	c.Provider = a.Provider
	if c.Provider == nil {
		pargs := &kubernetes.ProviderArgs{}
		switch {
		case a.RenderDir != "":
			pargs.RenderYamlToDirectory = pulumi.StringPtr(a.RenderDir)
		case a.Kubeconfig != nil:
			// Contents carry client keys: keep them out of plaintext state.
			pargs.Kubeconfig = pulumi.ToSecret(a.Kubeconfig.ToStringOutput()).(pulumi.StringOutput).ToStringPtrOutput()
		}
		p, err := kubernetes.NewProvider(ctx, name+"-k8s", pargs, pulumi.Parent(c))
		if err != nil {
			return nil, fmt.Errorf("cluster %q: provider: %w", name, err)
		}
		c.Provider = p
	}
	child := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(c.Provider)}

	c.Labels = commonLabels(a.Labels)

	nsLabels := maps.Clone(c.Labels)
	nsLabels[NamespaceRoleLabel] = NamespaceRolePlatform
	maps.Copy(nsLabels, podSecurityLabels(a.PodSecurityEnforce, a.PodSecurityAudit, a.PodSecurityWarn))

	var names pulumi.StringArray
	newNamespace := func(role, ns string) (pulumi.StringOutput, error) {
		n, err := corev1.NewNamespace(ctx, name+"-"+role, &corev1.NamespaceArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Name:   pulumi.String(ns),
				Labels: pulumi.ToStringMap(nsLabels),
			},
		}, child...)
		if err != nil {
			return pulumi.StringOutput{}, fmt.Errorf("cluster %q: namespace %q: %w", name, ns, err)
		}
		out := n.Metadata.Name().Elem()
		names = append(names, out)
		return out, nil
	}
	if c.PlatformNamespace, err = newNamespace("platform-ns", a.PlatformNamespace); err != nil {
		return nil, err
	}
	if c.ObservabilityNamespace, err = newNamespace("observability-ns", a.ObservabilityNamespace); err != nil {
		return nil, err
	}
	for _, ns := range a.ExtraNamespaces {
		if _, err := newNamespace("ns-"+ns, ns); err != nil {
			return nil, err
		}
	}
	c.Namespaces = names.ToStringArrayOutput()

	platform, err := schedulingv1.NewPriorityClass(ctx, name+"-platform-priority", &schedulingv1.PriorityClassArgs{
		Metadata:         &metav1.ObjectMetaArgs{Name: pulumi.String(PlatformPriorityClassName), Labels: pulumi.ToStringMap(c.Labels)},
		Value:            pulumi.Int(a.PlatformPriority),
		GlobalDefault:    pulumi.Bool(false),
		PreemptionPolicy: pulumi.String("PreemptLowerPriority"),
		Description:      pulumi.String("tenantstack platform services (databases, poolers, telemetry): scheduled before tenant workloads."),
	}, child...)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: platform priority class: %w", name, err)
	}
	c.PlatformPriorityClass = platform.Metadata.Name().Elem()

	// Tenant pods never preempt: one tenant's scale-up must not evict another
	// tenant's (or anyone's) running pods; it waits for capacity instead.
	tenant, err := schedulingv1.NewPriorityClass(ctx, name+"-tenant-priority", &schedulingv1.PriorityClassArgs{
		Metadata:         &metav1.ObjectMetaArgs{Name: pulumi.String(TenantPriorityClassName), Labels: pulumi.ToStringMap(c.Labels)},
		Value:            pulumi.Int(a.TenantPriority),
		GlobalDefault:    pulumi.Bool(false),
		PreemptionPolicy: pulumi.String("Never"),
		Description:      pulumi.String("tenantstack tenant workloads: below platform services, never preempts."),
	}, child...)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: tenant priority class: %w", name, err)
	}
	c.TenantPriorityClass = tenant.Metadata.Name().Elem()

	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"platformNamespace":      c.PlatformNamespace,
		"observabilityNamespace": c.ObservabilityNamespace,
		"namespaces":             c.Namespaces,
		"platformPriorityClass":  c.PlatformPriorityClass,
		"tenantPriorityClass":    c.TenantPriorityClass,
		"renderMode":             pulumi.Bool(c.RenderMode),
	}); err != nil {
		return nil, fmt.Errorf("cluster %q: register outputs: %w", name, err)
	}
	return c, nil
}

// withDefaults checks args and returns a copy with the defaults applied.
func withDefaults(name string, args *ClusterArgs) (ClusterArgs, error) {
	var a ClusterArgs
	if args != nil {
		a = *args
	}
	if name == "" {
		return a, errors.New("cluster: name is required")
	}
	set := 0
	for _, ok := range []bool{a.Provider != nil, a.Kubeconfig != nil, a.RenderDir != ""} {
		if ok {
			set++
		}
	}
	if set > 1 {
		return a, fmt.Errorf("cluster %q: set at most one of Provider, Kubeconfig and RenderDir", name)
	}

	if a.PlatformNamespace == "" {
		a.PlatformNamespace = DefaultPlatformNamespace
	}
	if a.ObservabilityNamespace == "" {
		a.ObservabilityNamespace = DefaultObservabilityNamespace
	}
	type nsField struct{ field, ns string }
	namespaces := []nsField{
		{"PlatformNamespace", a.PlatformNamespace},
		{"ObservabilityNamespace", a.ObservabilityNamespace},
	}
	for i, ns := range a.ExtraNamespaces {
		namespaces = append(namespaces, nsField{fmt.Sprintf("ExtraNamespaces[%d]", i), ns})
	}
	seen := map[string]string{}
	for _, f := range namespaces {
		if err := ValidateDNSLabel(f.ns); err != nil {
			return a, fmt.Errorf("cluster %q: %s: %w", name, f.field, err)
		}
		if strings.HasPrefix(f.ns, TenantNamespacePrefix) {
			return a, fmt.Errorf("cluster %q: %s %q: the prefix %q is reserved for tenant namespaces", name, f.field, f.ns, TenantNamespacePrefix)
		}
		if prev, dup := seen[f.ns]; dup {
			return a, fmt.Errorf("cluster %q: %s and %s are both %q; give each namespace a different name", name, prev, f.field, f.ns)
		}
		seen[f.ns] = f.field
	}

	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		v := a.Labels[k]
		if err := ValidateLabel(k, v); err != nil {
			return a, fmt.Errorf("cluster %q: Labels: %w", name, err)
		}
		if fixed := commonLabels(nil)[k]; fixed != "" && fixed != v {
			return a, fmt.Errorf("cluster %q: Labels: %q is always %q; remove it from Labels", name, k, fixed)
		}
		if k == NamespaceRoleLabel || strings.HasPrefix(k, podSecurityPrefix) {
			return a, fmt.Errorf("cluster %q: Labels: %q is set by the component; use the PodSecurity* fields instead", name, k)
		}
	}

	if a.PlatformPriority == 0 {
		a.PlatformPriority = DefaultPlatformPriority
	}
	if a.TenantPriority == 0 {
		a.TenantPriority = DefaultTenantPriority
	}
	if a.PlatformPriority < 0 || a.PlatformPriority > MaxUserPriority {
		return a, fmt.Errorf("cluster %q: PlatformPriority %d is out of range; use 1 to %d", name, a.PlatformPriority, MaxUserPriority)
	}
	if a.TenantPriority < 0 {
		return a, fmt.Errorf("cluster %q: TenantPriority %d is negative; use a positive value below PlatformPriority", name, a.TenantPriority)
	}
	if a.TenantPriority >= a.PlatformPriority {
		return a, fmt.Errorf("cluster %q: TenantPriority %d must be below PlatformPriority %d", name, a.TenantPriority, a.PlatformPriority)
	}

	levels := []struct {
		field string
		level *PodSecurityLevel
		def   PodSecurityLevel
	}{
		{"PodSecurityEnforce", &a.PodSecurityEnforce, PodSecurityBaseline},
		{"PodSecurityAudit", &a.PodSecurityAudit, PodSecurityRestricted},
		{"PodSecurityWarn", &a.PodSecurityWarn, PodSecurityRestricted},
	}
	for _, l := range levels {
		if *l.level == "" {
			*l.level = l.def
		}
		switch *l.level {
		case PodSecurityPrivileged, PodSecurityBaseline, PodSecurityRestricted:
		default:
			return a, fmt.Errorf("cluster %q: %s %q is not a Pod Security level; use privileged, baseline or restricted", name, l.field, *l.level)
		}
	}
	return a, nil
}

func commonLabels(extra map[string]string) map[string]string {
	l := maps.Clone(extra)
	if l == nil {
		l = map[string]string{}
	}
	l[ManagedByLabel] = ManagedByValue
	l[PartOfLabel] = PartOfValue
	return l
}

// podSecurityLabels pins every mode to "latest" so that the rules follow the
// cluster's version; the levels themselves are the stable contract.
const podSecurityPrefix = "pod-security.kubernetes.io/"

func podSecurityLabels(enforce, audit, warn PodSecurityLevel) map[string]string {
	const p = podSecurityPrefix
	return map[string]string{
		p + "enforce":         string(enforce),
		p + "enforce-version": "latest",
		p + "audit":           string(audit),
		p + "audit-version":   "latest",
		p + "warn":            string(warn),
		p + "warn-version":    "latest",
	}
}

var (
	dnsLabelRE  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	labelNameRE = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
	dnsSubdomRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// ValidateDNSLabel reports whether s is an RFC 1123 DNS label, the form
// Kubernetes requires of namespace names.
func ValidateDNSLabel(s string) error {
	if s == "" {
		return errors.New("the name is empty; use a DNS label such as \"platform-system\"")
	}
	if len(s) > 63 {
		return fmt.Errorf("%q is %d characters; a DNS label has at most 63", s, len(s))
	}
	if !dnsLabelRE.MatchString(s) {
		return fmt.Errorf("%q is not a DNS label: use lowercase letters, digits and '-', starting and ending with a letter or digit", s)
	}
	return nil
}

// ValidateLabel reports whether key and value form a valid Kubernetes label.
func ValidateLabel(key, value string) error {
	name := key
	if prefix, n, ok := strings.Cut(key, "/"); ok {
		if prefix == "" || len(prefix) > 253 || !dnsSubdomRE.MatchString(prefix) {
			return fmt.Errorf("label key %q: the prefix must be a DNS subdomain", key)
		}
		name = n
	}
	if name == "" || len(name) > 63 || !labelNameRE.MatchString(name) {
		return fmt.Errorf("label key %q: the name must be 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric", key)
	}
	if len(value) > 63 || (value != "" && !labelNameRE.MatchString(value)) {
		return fmt.Errorf("label %q: value %q must be at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric", key, value)
	}
	return nil
}
