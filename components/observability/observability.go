package observability

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/components/cluster"
)

// TypeToken is the Pulumi type of the Observability component.
const TypeToken = "tenantstack:platform:Observability"

// Defaults of the component.
const (
	DefaultNamespace     = cluster.DefaultObservabilityNamespace
	DefaultClusterDomain = "cluster.local"
	DefaultMemoryLimit   = "512Mi"
)

// Labels that make the ConfigMaps discoverable by sidecars (such as the
// k8s-sidecar of the Grafana Helm chart) that load them into Grafana and
// Prometheus.
const (
	GrafanaDashboardLabel  = "grafana_dashboard"
	GrafanaDatasourceLabel = "grafana_datasource"
	PrometheusRuleLabel    = "prometheus_rule"
	// GrafanaFolderAnnotation names the Grafana folder of the dashboards for
	// sidecars configured with folderAnnotation.
	GrafanaFolderAnnotation = "grafana_folder"
	// SkipAwaitAnnotation tells the Pulumi Kubernetes provider not to wait
	// for a workload to become ready.
	SkipAwaitAnnotation = "pulumi.com/skipAwait"
)

// collectorUID is the user the contrib image runs as.
const collectorUID = 10001

// ObservabilityArgs configures an Observability component. Every field is
// optional.
//
// Pass the Kubernetes provider with pulumi.Provider(cluster.Provider) in the
// options; the component hands it to its children.
type ObservabilityArgs struct {
	// Namespace is where everything is created. Optional; default
	// "observability". Pass Cluster.ObservabilityNamespace so that the
	// namespace exists before its contents. Must be a DNS label.
	Namespace pulumi.StringInput
	// Labels are added to every resource. Optional. The tenantstack
	// managed-by and part-of labels are always set.
	Labels map[string]string
	// ClusterDomain is the cluster's DNS domain, used in the endpoint outputs.
	// Optional; default "cluster.local".
	ClusterDomain string

	// CollectorImage is the collector image. Optional; default
	// DefaultCollectorImage (a pinned otel/opentelemetry-collector-contrib).
	CollectorImage string
	// CollectorReplicas is the number of collector pods. Optional; default 1.
	CollectorReplicas int
	// CollectorMemoryLimit is the collector container's memory limit, which
	// its memory_limiter works within. Optional; default "512Mi".
	CollectorMemoryLimit string
	// PriorityClassName is the collector pods' PriorityClass. Optional;
	// default none. Pass Cluster.PlatformPriorityClass.
	PriorityClassName pulumi.StringInput
	// WaitForRollout makes Pulumi wait until the collector Deployment and
	// Service are ready. Optional; default false: they carry
	// pulumi.com/skipAwait "true", because an API server without kubelets
	// (the local platform) never runs the pods.
	WaitForRollout bool

	// TracesEndpoint is the OTLP/gRPC host:port the collector sends traces to.
	// Optional; default "tempo.<Namespace>.svc.<ClusterDomain>:4317".
	TracesEndpoint string
	// TracesTLS sends traces (and logs) over TLS. Optional; default false.
	TracesTLS bool
	// LogsEndpoint adds a logs pipeline to this OTLP/gRPC host:port.
	// Optional; default none (no logs pipeline).
	LogsEndpoint string
	// PrometheusRemoteWriteURL also pushes metrics to this remote-write URL.
	// Optional; default none. The Prometheus exporter on port 8889 is always
	// there to be scraped.
	PrometheusRemoteWriteURL string
	// PrometheusURL is the Prometheus base URL of the Grafana datasource.
	// Optional; default "http://prometheus.<Namespace>.svc.<ClusterDomain>:9090".
	PrometheusURL string

	// Alerts sets the per-tenant SLO thresholds. Optional; see RulesArgs for
	// the defaults.
	Alerts RulesArgs
	// DashboardUID is the tenant dashboard's uid. Optional; default
	// "tenantstack-tenant-overview".
	DashboardUID string
	// DashboardFolder is the Grafana folder of the dashboard. Optional;
	// default "Tenants".
	DashboardFolder string
	// DatasourceUID is the uid of the provisioned Prometheus datasource.
	// Optional; default "tenantstack-prometheus".
	DatasourceUID string
}

// Observability is the platform's telemetry pipeline and its SLO content:
// an OpenTelemetry collector, Prometheus rules and Grafana provisioning.
type Observability struct {
	pulumi.ResourceState

	// Namespace is the namespace of every resource.
	Namespace pulumi.StringOutput
	// CollectorService is the name of the collector Service.
	CollectorService pulumi.StringOutput
	// CollectorHost is the collector Service's DNS name.
	CollectorHost pulumi.StringOutput
	// OTLPGRPCEndpoint is host:port of the collector's OTLP/gRPC receiver.
	OTLPGRPCEndpoint pulumi.StringOutput
	// OTLPHTTPEndpoint is the URL of the collector's OTLP/HTTP receiver.
	OTLPHTTPEndpoint pulumi.StringOutput
	// PrometheusScrapeEndpoint is host:port where Prometheus scrapes the
	// collector's metrics (path /metrics).
	PrometheusScrapeEndpoint pulumi.StringOutput
	// CollectorSelector are the labels of the collector pods, for
	// NetworkPolicies that allow tenants to reach them.
	CollectorSelector map[string]string
	// RulesConfigMap is the name of the ConfigMap holding the rules.
	RulesConfigMap pulumi.StringOutput
	// RulesFile is the rule file's name (the ConfigMap key).
	RulesFile pulumi.StringOutput
	// DashboardUID is the tenant dashboard's uid.
	DashboardUID pulumi.StringOutput
}

// NewObservability creates the collector, the SLO rules and the Grafana
// provisioning ConfigMaps.
func NewObservability(ctx *pulumi.Context, name string, args *ObservabilityArgs, opts ...pulumi.ResourceOption) (*Observability, error) {
	a, files, err := prepare(name, args)
	if err != nil {
		return nil, err
	}

	o := &Observability{}
	if err := ctx.RegisterComponentResource(TypeToken, name, o, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(o)

	ns := a.Namespace.ToStringOutput().ApplyT(func(ns string) (string, error) {
		if err := cluster.ValidateDNSLabel(ns); err != nil {
			return "", fmt.Errorf("observability %q: Namespace: %w", name, err)
		}
		return ns, nil
	}).(pulumi.StringOutput)

	common := maps.Clone(a.Labels)
	common[cluster.ManagedByLabel] = cluster.ManagedByValue
	common[cluster.PartOfLabel] = cluster.PartOfValue
	common["app.kubernetes.io/instance"] = name
	labels := func(extra map[string]string) pulumi.StringMap {
		l := maps.Clone(common)
		maps.Copy(l, extra)
		return pulumi.ToStringMap(l)
	}
	meta := func(k8sName string, extra map[string]string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(k8sName), Namespace: ns, Labels: labels(extra)}
	}
	configMap := func(suffix, key string, data pulumi.StringInput, extra map[string]string, annotations map[string]string) (*corev1.ConfigMap, error) {
		m := meta(name+suffix, extra)
		if annotations != nil {
			m.Annotations = pulumi.ToStringMap(annotations)
		}
		cm, err := corev1.NewConfigMap(ctx, name+suffix, &corev1.ConfigMapArgs{
			Metadata: m,
			Data:     pulumi.StringMap{key: data},
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("observability %q: config map %s: %w", name, name+suffix, err)
		}
		return cm, nil
	}

	// SLO rules and Grafana provisioning.
	rules, err := configMap("-prometheus-rules", RulesFileName, pulumi.String(files.rules),
		map[string]string{PrometheusRuleLabel: "1"}, nil)
	if err != nil {
		return nil, err
	}
	datasource := ns.ApplyT(func(ns string) (string, error) {
		b, err := DatasourceYAML(a.datasourceArgs(ns))
		if err != nil {
			return "", fmt.Errorf("observability %q: %w", name, err)
		}
		return string(b), nil
	}).(pulumi.StringOutput)
	if _, err := configMap("-grafana-datasource", DatasourceFileName, datasource,
		map[string]string{GrafanaDatasourceLabel: "1"}, nil); err != nil {
		return nil, err
	}
	if _, err := configMap("-grafana-dashboard-provider", DashboardProviderFileName, pulumi.String(files.provider), nil, nil); err != nil {
		return nil, err
	}
	if _, err := configMap("-grafana-dashboards", DashboardFileName, pulumi.String(files.dashboard),
		map[string]string{GrafanaDashboardLabel: "1"}, map[string]string{GrafanaFolderAnnotation: a.DashboardFolder}); err != nil {
		return nil, err
	}

	// The collector.
	collectorName := name + "-collector"
	selector := map[string]string{
		"app.kubernetes.io/name":     "opentelemetry-collector",
		"app.kubernetes.io/instance": name,
	}
	o.CollectorSelector = maps.Clone(selector)
	collectorLabels := maps.Clone(selector)
	collectorLabels["app.kubernetes.io/component"] = "collector"
	awaitAnnotations := pulumi.StringMap{}
	if !a.WaitForRollout {
		awaitAnnotations[SkipAwaitAnnotation] = pulumi.String("true")
	}

	collectorConfig := ns.ApplyT(func(ns string) (string, error) {
		b, err := CollectorConfig(a.collectorArgs(ns))
		if err != nil {
			return "", fmt.Errorf("observability %q: %w", name, err)
		}
		return string(b), nil
	}).(pulumi.StringOutput)
	// Auto-named (no metadata.name): a changed configuration becomes a new
	// ConfigMap, and the Deployment's reference to it rolls the pods.
	config, err := corev1.NewConfigMap(ctx, collectorName+"-config", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Namespace: ns, Labels: labels(collectorLabels)},
		Data:     pulumi.StringMap{CollectorFileName: collectorConfig},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("observability %q: collector config: %w", name, err)
	}

	// The collector needs no Kubernetes API access: no token is mounted.
	sa, err := corev1.NewServiceAccount(ctx, collectorName, &corev1.ServiceAccountArgs{
		Metadata:                     meta(collectorName, collectorLabels),
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("observability %q: collector service account: %w", name, err)
	}

	var priorityClass pulumi.StringPtrInput
	if a.PriorityClassName != nil {
		priorityClass = a.PriorityClassName.ToStringOutput().ToStringPtrOutput()
	}
	port := func(name string, p int) corev1.ContainerPortArgs {
		return corev1.ContainerPortArgs{Name: pulumi.String(name), ContainerPort: pulumi.Int(p), Protocol: pulumi.String("TCP")}
	}
	probe := &corev1.ProbeArgs{
		HttpGet: &corev1.HTTPGetActionArgs{Path: pulumi.String("/"), Port: pulumi.Int(HealthCheckPort)},
	}
	deployMeta := meta(collectorName, collectorLabels)
	deployMeta.Annotations = awaitAnnotations
	if _, err := appsv1.NewDeployment(ctx, collectorName, &appsv1.DeploymentArgs{
		Metadata: deployMeta,
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(a.CollectorReplicas),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selector)},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{
					Labels: labels(collectorLabels),
					Annotations: pulumi.StringMap{
						"prometheus.io/scrape": pulumi.String("true"),
						"prometheus.io/port":   pulumi.String(strconv.Itoa(PrometheusExporterPort)),
						"prometheus.io/path":   pulumi.String("/metrics"),
					},
				},
				Spec: &corev1.PodSpecArgs{
					ServiceAccountName:           sa.Metadata.Name().Elem(),
					AutomountServiceAccountToken: pulumi.Bool(false),
					PriorityClassName:            priorityClass,
					// Meets the "restricted" Pod Security level.
					SecurityContext: &corev1.PodSecurityContextArgs{
						RunAsNonRoot:   pulumi.Bool(true),
						RunAsUser:      pulumi.Int(collectorUID),
						RunAsGroup:     pulumi.Int(collectorUID),
						SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
					},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("otel-collector"),
						Image: pulumi.String(a.CollectorImage),
						Args:  pulumi.StringArray{pulumi.String("--config=/conf/" + CollectorFileName)},
						Ports: corev1.ContainerPortArray{
							port("otlp-grpc", OTLPGRPCPort),
							port("otlp-http", OTLPHTTPPort),
							port("prom-metrics", PrometheusExporterPort),
							port("health", HealthCheckPort),
						},
						Resources: &corev1.ResourceRequirementsArgs{
							Requests: pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("128Mi")},
							Limits:   pulumi.StringMap{"memory": pulumi.String(a.CollectorMemoryLimit)},
						},
						ReadinessProbe: probe,
						LivenessProbe:  probe,
						SecurityContext: &corev1.SecurityContextArgs{
							AllowPrivilegeEscalation: pulumi.Bool(false),
							ReadOnlyRootFilesystem:   pulumi.Bool(true),
							Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
						},
						VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
							Name: pulumi.String("config"), MountPath: pulumi.String("/conf"), ReadOnly: pulumi.Bool(true),
						}},
					}},
					Volumes: corev1.VolumeArray{corev1.VolumeArgs{
						Name:      pulumi.String("config"),
						ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: config.Metadata.Name().Elem()},
					}},
				},
			},
		},
	}, parent); err != nil {
		return nil, fmt.Errorf("observability %q: collector deployment: %w", name, err)
	}

	servicePort := func(name string, p int, appProtocol string) corev1.ServicePortArgs {
		return corev1.ServicePortArgs{
			Name: pulumi.String(name), Port: pulumi.Int(p), TargetPort: pulumi.String(name),
			Protocol: pulumi.String("TCP"), AppProtocol: pulumi.String(appProtocol),
		}
	}
	// A Service with a selector is awaited until it has ready endpoints,
	// hence the same skipAwait as the Deployment.
	svcMeta := meta(collectorName, collectorLabels)
	svcMeta.Annotations = awaitAnnotations
	svc, err := corev1.NewService(ctx, collectorName, &corev1.ServiceArgs{
		Metadata: svcMeta,
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: pulumi.ToStringMap(selector),
			Ports: corev1.ServicePortArray{
				servicePort("otlp-grpc", OTLPGRPCPort, "grpc"),
				servicePort("otlp-http", OTLPHTTPPort, "http"),
				servicePort("prom-metrics", PrometheusExporterPort, "http"),
			},
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("observability %q: collector service: %w", name, err)
	}

	o.Namespace = svc.Metadata.Namespace().Elem()
	o.CollectorService = svc.Metadata.Name().Elem()
	o.CollectorHost = pulumi.Sprintf("%s.%s.svc.%s", o.CollectorService, o.Namespace, a.ClusterDomain)
	o.OTLPGRPCEndpoint = pulumi.Sprintf("%s:%d", o.CollectorHost, OTLPGRPCPort)
	o.OTLPHTTPEndpoint = pulumi.Sprintf("http://%s:%d", o.CollectorHost, OTLPHTTPPort)
	o.PrometheusScrapeEndpoint = pulumi.Sprintf("%s:%d", o.CollectorHost, PrometheusExporterPort)
	o.RulesConfigMap = rules.Metadata.Name().Elem()
	o.RulesFile = pulumi.String(RulesFileName).ToStringOutput()
	o.DashboardUID = pulumi.String(a.DashboardUID).ToStringOutput()

	if err := ctx.RegisterResourceOutputs(o, pulumi.Map{
		"namespace":                o.Namespace,
		"collectorService":         o.CollectorService,
		"collectorHost":            o.CollectorHost,
		"otlpGrpcEndpoint":         o.OTLPGRPCEndpoint,
		"otlpHttpEndpoint":         o.OTLPHTTPEndpoint,
		"prometheusScrapeEndpoint": o.PrometheusScrapeEndpoint,
		"collectorSelector":        pulumi.ToStringMap(o.CollectorSelector),
		"rulesConfigMap":           o.RulesConfigMap,
		"rulesFile":                o.RulesFile,
		"dashboardUid":             o.DashboardUID,
	}); err != nil {
		return nil, fmt.Errorf("observability %q: register outputs: %w", name, err)
	}
	return o, nil
}

// generated holds the files that do not depend on the namespace.
type generated struct {
	rules, provider, dashboard string
}

var (
	dns1035RE     = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	quantityRE    = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$`)
	domainRE      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	errNoName     = errors.New("observability: name is required")
	maxNameLength = 63 - len("-collector")
)

// prepare checks args, applies the defaults, and generates the files that
// do not depend on the namespace, so that bad thresholds fail before any
// resource is registered.
func prepare(name string, args *ObservabilityArgs) (ObservabilityArgs, generated, error) {
	var a ObservabilityArgs
	if args != nil {
		a = *args
	}
	var err error
	if name == "" {
		return a, generated{}, errNoName
	}
	// The name prefixes Kubernetes object names, among them a Service's,
	// which must be a DNS-1035 label.
	if len(name) > maxNameLength || !dns1035RE.MatchString(name) {
		return a, generated{}, fmt.Errorf("observability %q: the name must be a DNS label of at most %d characters starting with a letter, since it prefixes the collector Service's name", name, maxNameLength)
	}
	fail := func(format string, v ...any) (ObservabilityArgs, generated, error) {
		return a, generated{}, fmt.Errorf("observability %q: "+format, append([]any{name}, v...)...)
	}

	if a.Namespace == nil {
		a.Namespace = pulumi.String(DefaultNamespace)
	}
	// A plain string can be checked now; an output is checked once known.
	if s, ok := a.Namespace.(pulumi.String); ok {
		if err := cluster.ValidateDNSLabel(string(s)); err != nil {
			return fail("Namespace: %w", err)
		}
	}
	a.Labels = maps.Clone(a.Labels)
	if a.Labels == nil {
		a.Labels = map[string]string{}
	}
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		v := a.Labels[k]
		if err := cluster.ValidateLabel(k, v); err != nil {
			return fail("Labels: %w", err)
		}
		fixed := map[string]string{cluster.ManagedByLabel: cluster.ManagedByValue, cluster.PartOfLabel: cluster.PartOfValue}
		if f, ok := fixed[k]; ok && f != v {
			return fail("Labels: %q is always %q; remove it from Labels", k, f)
		}
		if strings.HasPrefix(k, "app.kubernetes.io/") && k != cluster.ManagedByLabel && k != cluster.PartOfLabel {
			return fail("Labels: %q is set by the component on each resource; use a label of your own prefix", k)
		}
	}
	if a.ClusterDomain == "" {
		a.ClusterDomain = DefaultClusterDomain
	}
	if !domainRE.MatchString(a.ClusterDomain) {
		return fail("ClusterDomain %q is not a DNS domain such as cluster.local", a.ClusterDomain)
	}

	if a.CollectorImage == "" {
		a.CollectorImage = DefaultCollectorImage
	}
	if strings.ContainsAny(a.CollectorImage, " \t\n") {
		return fail("CollectorImage %q contains whitespace", a.CollectorImage)
	}
	if a.CollectorReplicas == 0 {
		a.CollectorReplicas = 1
	}
	if a.CollectorReplicas < 0 {
		return fail("CollectorReplicas %d is negative; use 1 or more", a.CollectorReplicas)
	}
	if a.CollectorMemoryLimit == "" {
		a.CollectorMemoryLimit = DefaultMemoryLimit
	}
	if !quantityRE.MatchString(a.CollectorMemoryLimit) {
		return fail("CollectorMemoryLimit %q is not a memory quantity such as 512Mi", a.CollectorMemoryLimit)
	}

	if a.DashboardUID == "" {
		a.DashboardUID = DefaultDashboardUID
	}
	if a.DashboardFolder == "" {
		a.DashboardFolder = DefaultDashboardFolder
	}
	if a.DatasourceUID == "" {
		a.DatasourceUID = DefaultDatasourceUID
	}
	if a.Alerts, err = a.Alerts.withDefaults(); err != nil {
		return fail("Alerts: %w", err)
	}

	// Check the namespace-dependent files with the default namespace now,
	// so that a bad endpoint or URL fails before anything is registered.
	if _, err := CollectorConfig(a.collectorArgs(DefaultNamespace)); err != nil {
		return fail("%w", err)
	}
	if _, err := DatasourceYAML(a.datasourceArgs(DefaultNamespace)); err != nil {
		return fail("%w", err)
	}

	var g generated
	rules, err := Rules(a.Alerts)
	if err != nil {
		return fail("Alerts: %w", err)
	}
	provider, err := DashboardProviderYAML(DashboardProviderArgs{Folder: a.DashboardFolder})
	if err != nil {
		return fail("%w", err)
	}
	dashboard, err := TenantDashboard(DashboardArgs{
		UID:                 a.DashboardUID,
		DatasourceUID:       a.DatasourceUID,
		CPUQuotaResource:    a.Alerts.CPUQuotaResource,
		MemoryQuotaResource: a.Alerts.MemoryQuotaResource,
	})
	if err != nil {
		return fail("%w", err)
	}
	g.rules, g.provider, g.dashboard = string(rules), string(provider), string(dashboard)
	return a, g, nil
}

func (a ObservabilityArgs) collectorArgs(ns string) CollectorConfigArgs {
	traces := a.TracesEndpoint
	if traces == "" {
		traces = fmt.Sprintf("tempo.%s.svc.%s:4317", ns, a.ClusterDomain)
	}
	return CollectorConfigArgs{
		TracesEndpoint:           traces,
		TracesTLS:                a.TracesTLS,
		LogsEndpoint:             a.LogsEndpoint,
		PrometheusRemoteWriteURL: a.PrometheusRemoteWriteURL,
	}
}

func (a ObservabilityArgs) datasourceArgs(ns string) DatasourceArgs {
	u := a.PrometheusURL
	if u == "" {
		u = fmt.Sprintf("http://prometheus.%s.svc.%s:9090", ns, a.ClusterDomain)
	}
	return DatasourceArgs{URL: u, UID: a.DatasourceUID}
}
