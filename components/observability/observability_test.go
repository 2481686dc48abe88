package observability

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/tenantstack/tenantstack/components/cluster"
)

const (
	providerType       = "pulumi:providers:kubernetes"
	configMapType      = "kubernetes:core/v1:ConfigMap"
	serviceAccountType = "kubernetes:core/v1:ServiceAccount"
	deploymentType     = "kubernetes:apps/v1:Deployment"
	serviceType        = "kubernetes:core/v1:Service"
)

// recorder is a mock resource monitor that records registrations and refuses
// resource types the component is not expected to create. Like the
// Kubernetes provider, it gives an object without metadata.name a generated
// name.
type recorder struct {
	mu        sync.Mutex
	resources []pulumi.MockResourceArgs
}

func (r *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r.mu.Lock()
	r.resources = append(r.resources, args)
	r.mu.Unlock()
	switch args.TypeToken {
	case TypeToken:
		return "", resource.PropertyMap{}, nil
	case providerType:
		return args.Name + "-id", args.Inputs, nil
	case configMapType, serviceAccountType, deploymentType, serviceType:
		state := args.Inputs.Copy()
		meta := state["metadata"].ObjectValue().Copy()
		if _, named := meta["name"]; !named {
			meta["name"] = resource.NewStringProperty(args.Name + "-a1b2c3")
		}
		state["metadata"] = resource.NewObjectProperty(meta)
		return args.Name + "-id", state, nil
	default:
		return "", nil, fmt.Errorf("unexpected resource type %q", args.TypeToken)
	}
}

func (r *recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("unexpected call %q", args.Token)
}

func (r *recorder) children() []pulumi.MockResourceArgs {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []pulumi.MockResourceArgs
	for _, a := range r.resources {
		if a.TypeToken != TypeToken && a.TypeToken != providerType {
			out = append(out, a)
		}
	}
	return out
}

func (r *recorder) get(t *testing.T, typ, name string) resource.PropertyMap {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.resources {
		if a.TypeToken == typ && a.Name == name {
			return a.Inputs
		}
	}
	t.Fatalf("no %s named %q was registered", typ, name)
	return nil
}

func await[T any](t *testing.T, out pulumi.Output) T {
	t.Helper()
	ch := make(chan T, 1)
	out.ApplyT(func(v T) T { ch <- v; return v })
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("output of type %s never resolved", out.ElementType())
		var zero T
		return zero
	}
}

// prop follows a path of object keys and array indexes ("0") through pm.
func prop(t *testing.T, pm resource.PropertyMap, path string) resource.PropertyValue {
	t.Helper()
	v := resource.NewObjectProperty(pm)
	for _, k := range strings.Split(path, ".") {
		switch {
		case v.IsObject():
			v = v.ObjectValue()[resource.PropertyKey(k)]
		case v.IsArray():
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i >= len(v.ArrayValue()) {
				t.Fatalf("%s: no element %q", path, k)
			}
			v = v.ArrayValue()[i]
		default:
			t.Fatalf("%s: cannot descend into %v at %q", path, v, k)
		}
	}
	return v
}

func str(t *testing.T, pm resource.PropertyMap, path string) string {
	t.Helper()
	v := prop(t, pm, path)
	if !v.IsString() {
		t.Fatalf("%s = %v, want a string", path, v)
	}
	return v.StringValue()
}

func strMap(t *testing.T, pm resource.PropertyMap, path string) map[string]string {
	t.Helper()
	v := prop(t, pm, path)
	m := map[string]string{}
	if v.IsNull() {
		return m
	}
	for k, e := range v.ObjectValue() {
		m[string(k)] = e.StringValue()
	}
	return m
}

// data returns the value of key in a ConfigMap's data; keys contain dots.
func data(t *testing.T, cm resource.PropertyMap, key string) string {
	t.Helper()
	v := prop(t, cm, "data").ObjectValue()[resource.PropertyKey(key)]
	if !v.IsString() {
		t.Fatalf("data[%s] = %v, want a string", key, v)
	}
	return v.StringValue()
}

type outputs struct {
	urn, providerURN                             string
	namespace, service, host, grpc, http, scrape string
	rulesConfigMap, rulesFile, dashboardUID      string
	selector                                     map[string]string
}

// run builds an Observability named name under a Kubernetes provider passed
// to the component only, as stacks do. It collects the outputs unless
// args fail, in which case some would never resolve.
func run(t *testing.T, name string, args func() *ObservabilityArgs, wantOutputs bool) (*recorder, outputs, error) {
	t.Helper()
	rec := &recorder{}
	var out outputs
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		o, err := NewObservability(ctx, name, args(), pulumi.Provider(p))
		if err != nil || !wantOutputs {
			return err
		}
		out = outputs{
			urn:            string(await[pulumi.URN](t, o.URN())),
			providerURN:    string(await[pulumi.URN](t, p.URN())),
			namespace:      await[string](t, o.Namespace),
			service:        await[string](t, o.CollectorService),
			host:           await[string](t, o.CollectorHost),
			grpc:           await[string](t, o.OTLPGRPCEndpoint),
			http:           await[string](t, o.OTLPHTTPEndpoint),
			scrape:         await[string](t, o.PrometheusScrapeEndpoint),
			rulesConfigMap: await[string](t, o.RulesConfigMap),
			rulesFile:      await[string](t, o.RulesFile),
			dashboardUID:   await[string](t, o.DashboardUID),
			selector:       o.CollectorSelector,
		}
		return nil
	}, pulumi.WithMocks("project", "stack", rec))
	return rec, out, err
}

func TestNewObservabilityDefaults(t *testing.T) {
	rec, out, err := run(t, "obs", func() *ObservabilityArgs { return nil }, true)
	if err != nil {
		t.Fatalf("NewObservability: %v", err)
	}
	if want := "urn:pulumi:stack::project::" + TypeToken + "::obs"; out.urn != want {
		t.Errorf("component URN = %q, want %q", out.urn, want)
	}

	// Exactly these children, named after the component, all in the
	// observability namespace, parented to the component, using the
	// provider given to the component, labelled with the convention.
	var got []string
	for _, a := range rec.children() {
		got = append(got, a.TypeToken+" "+a.Name)
		if p := a.RegisterRPC.GetParent(); p != out.urn {
			t.Errorf("%s %s: parent %q, want the component %q", a.TypeToken, a.Name, p, out.urn)
		}
		if p := a.RegisterRPC.GetProvider(); !strings.HasPrefix(p, out.providerURN+"::") {
			t.Errorf("%s %s: provider %q, want the component's %q", a.TypeToken, a.Name, p, out.providerURN)
		}
		if ns := str(t, a.Inputs, "metadata.namespace"); ns != "observability" {
			t.Errorf("%s %s: namespace %q, want observability", a.TypeToken, a.Name, ns)
		}
		labels := strMap(t, a.Inputs, "metadata.labels")
		for k, v := range map[string]string{
			cluster.ManagedByLabel:       cluster.ManagedByValue,
			cluster.PartOfLabel:          cluster.PartOfValue,
			"app.kubernetes.io/instance": "obs",
		} {
			if labels[k] != v {
				t.Errorf("%s %s: label %s = %q, want %q", a.TypeToken, a.Name, k, labels[k], v)
			}
		}
	}
	want := []string{
		configMapType + " obs-prometheus-rules",
		configMapType + " obs-grafana-datasource",
		configMapType + " obs-grafana-dashboard-provider",
		configMapType + " obs-grafana-dashboards",
		configMapType + " obs-collector-config",
		serviceAccountType + " obs-collector",
		deploymentType + " obs-collector",
		serviceType + " obs-collector",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("children =\n%q\nwant\n%q", got, want)
	}

	// ConfigMaps: names, sidecar labels, and the generated content.
	rulesWant, err := Rules(RulesArgs{})
	if err != nil {
		t.Fatal(err)
	}
	dashboardWant, err := TenantDashboard(DashboardArgs{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		res, key, label, content string
	}{
		{"obs-prometheus-rules", RulesFileName, PrometheusRuleLabel, string(rulesWant)},
		{"obs-grafana-dashboards", DashboardFileName, GrafanaDashboardLabel, string(dashboardWant)},
		{"obs-grafana-datasource", DatasourceFileName, GrafanaDatasourceLabel, ""},
		{"obs-grafana-dashboard-provider", DashboardProviderFileName, "", ""},
	} {
		cm := rec.get(t, configMapType, tc.res)
		if name := str(t, cm, "metadata.name"); name != tc.res {
			t.Errorf("%s: metadata.name = %q, want %q", tc.res, name, tc.res)
		}
		got := data(t, cm, tc.key)
		if tc.content != "" && got != tc.content {
			t.Errorf("%s: data[%s] differs from the generator's output", tc.res, tc.key)
		}
		if tc.label != "" && strMap(t, cm, "metadata.labels")[tc.label] != "1" {
			t.Errorf("%s: label %s not set to \"1\"", tc.res, tc.label)
		}
	}
	if ann := strMap(t, rec.get(t, configMapType, "obs-grafana-dashboards"), "metadata.annotations"); ann[GrafanaFolderAnnotation] != "Tenants" {
		t.Errorf("dashboards folder annotation = %q, want Tenants", ann[GrafanaFolderAnnotation])
	}
	var ds struct {
		Datasources []struct{ UID, URL string } `yaml:"datasources"`
	}
	if err := yaml.Unmarshal([]byte(data(t, rec.get(t, configMapType, "obs-grafana-datasource"), DatasourceFileName)), &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds.Datasources) != 1 || ds.Datasources[0].URL != "http://prometheus.observability.svc.cluster.local:9090" || ds.Datasources[0].UID != DefaultDatasourceUID {
		t.Errorf("datasource = %+v, want the default Prometheus URL and uid", ds.Datasources)
	}

	// The collector configuration: auto-named, default traces endpoint.
	cfgMap := rec.get(t, configMapType, "obs-collector-config")
	if v := prop(t, cfgMap, "metadata.name"); !v.IsNull() {
		t.Errorf("collector config metadata.name = %v, want auto-naming so that changes roll the pods", v)
	}
	var cfg collectorDoc
	if err := yaml.Unmarshal([]byte(data(t, cfgMap, CollectorFileName)), &cfg); err != nil {
		t.Fatalf("collector config: %v", err)
	}
	if ep := cfg.Exporters["otlp/traces"]["endpoint"]; ep != "tempo.observability.svc.cluster.local:4317" {
		t.Errorf("traces endpoint = %v, want the default", ep)
	}

	// The Deployment.
	dep := rec.get(t, deploymentType, "obs-collector")
	if name := str(t, dep, "metadata.name"); name != "obs-collector" {
		t.Errorf("deployment name = %q", name)
	}
	if ann := strMap(t, dep, "metadata.annotations"); ann[SkipAwaitAnnotation] != "true" {
		t.Errorf("deployment annotations = %v, want %s=true by default", ann, SkipAwaitAnnotation)
	}
	if img := str(t, dep, "spec.template.spec.containers.0.image"); img != DefaultCollectorImage {
		t.Errorf("image = %q, want %q", img, DefaultCollectorImage)
	}
	if !strings.Contains(DefaultCollectorImage, "opentelemetry-collector-contrib:0.") {
		t.Errorf("default image %q is not a pinned contrib release", DefaultCollectorImage)
	}
	if n := prop(t, dep, "spec.replicas").NumberValue(); n != 1 {
		t.Errorf("replicas = %v, want 1", n)
	}
	if v := str(t, dep, "spec.template.spec.volumes.0.configMap.name"); v != "obs-collector-config-a1b2c3" {
		t.Errorf("config volume refers to %q, want the generated name of the collector ConfigMap", v)
	}
	if v := str(t, dep, "spec.template.spec.serviceAccountName"); v != "obs-collector" {
		t.Errorf("serviceAccountName = %q", v)
	}
	if v := prop(t, dep, "spec.template.spec.priorityClassName"); !v.IsNull() {
		t.Errorf("priorityClassName = %v, want unset by default", v)
	}
	selector := strMap(t, dep, "spec.selector.matchLabels")
	podLabels := strMap(t, dep, "spec.template.metadata.labels")
	for k, v := range selector {
		if podLabels[k] != v {
			t.Errorf("pod labels %v do not match selector %v", podLabels, selector)
		}
	}
	if !maps.Equal(selector, out.selector) {
		t.Errorf("CollectorSelector = %v, want the Deployment's selector %v", out.selector, selector)
	}
	// Restricted Pod Security: the collector runs in a namespace that warns at restricted.
	for path, want := range map[string]any{
		"spec.template.spec.securityContext.runAsNonRoot":                          true,
		"spec.template.spec.securityContext.seccompProfile.type":                   "RuntimeDefault",
		"spec.template.spec.automountServiceAccountToken":                          false,
		"spec.template.spec.containers.0.securityContext.allowPrivilegeEscalation": false,
		"spec.template.spec.containers.0.securityContext.capabilities.drop.0":      "ALL",
		"spec.template.spec.containers.0.resources.limits.memory":                  DefaultMemoryLimit,
	} {
		if got := prop(t, dep, path).V; got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	if v := prop(t, rec.get(t, serviceAccountType, "obs-collector"), "automountServiceAccountToken"); !v.IsBool() || v.BoolValue() {
		t.Errorf("service account automountServiceAccountToken = %v, want false", v)
	}

	// The Service: ports, selector, skipAwait.
	svc := rec.get(t, serviceType, "obs-collector")
	if ann := strMap(t, svc, "metadata.annotations"); ann[SkipAwaitAnnotation] != "true" {
		t.Errorf("service annotations = %v, want %s=true by default", ann, SkipAwaitAnnotation)
	}
	if !maps.Equal(strMap(t, svc, "spec.selector"), selector) {
		t.Errorf("service selector = %v, want %v", strMap(t, svc, "spec.selector"), selector)
	}
	ports := map[string]float64{}
	for _, p := range prop(t, svc, "spec.ports").ArrayValue() {
		ports[p.ObjectValue()["name"].StringValue()] = p.ObjectValue()["port"].NumberValue()
	}
	if want := map[string]float64{"otlp-grpc": OTLPGRPCPort, "otlp-http": OTLPHTTPPort, "prom-metrics": PrometheusExporterPort}; !maps.Equal(ports, want) {
		t.Errorf("service ports = %v, want %v", ports, want)
	}

	// Outputs.
	wantOut := outputs{
		urn: out.urn, providerURN: out.providerURN, selector: out.selector,
		namespace:      "observability",
		service:        "obs-collector",
		host:           "obs-collector.observability.svc.cluster.local",
		grpc:           "obs-collector.observability.svc.cluster.local:4317",
		http:           "http://obs-collector.observability.svc.cluster.local:4318",
		scrape:         "obs-collector.observability.svc.cluster.local:8889",
		rulesConfigMap: "obs-prometheus-rules",
		rulesFile:      RulesFileName,
		dashboardUID:   DefaultDashboardUID,
	}
	if fmt.Sprint(out) != fmt.Sprint(wantOut) {
		t.Errorf("outputs =\n%+v\nwant\n%+v", out, wantOut)
	}
}

func TestNewObservabilityCustomArgs(t *testing.T) {
	rec, out, err := run(t, "telemetry", func() *ObservabilityArgs {
		return &ObservabilityArgs{
			// An output, as Cluster.ObservabilityNamespace is.
			Namespace:                pulumi.String("ts-telemetry").ToStringOutput(),
			Labels:                   map[string]string{"example.com/env": "staging"},
			ClusterDomain:            "corp.internal",
			CollectorImage:           "registry.example.com/otelcol-contrib:0.120.0",
			CollectorReplicas:        3,
			CollectorMemoryLimit:     "1Gi",
			PriorityClassName:        pulumi.String(cluster.PlatformPriorityClassName),
			WaitForRollout:           true,
			TracesEndpoint:           "jaeger.tracing:4317",
			PrometheusRemoteWriteURL: "http://mimir.metrics:8080/api/v1/push",
			PrometheusURL:            "https://prometheus.example.com",
			Alerts:                   RulesArgs{P95Latency: 250 * time.Millisecond},
			DashboardUID:             "tenants-staging",
		}
	}, true)
	if err != nil {
		t.Fatalf("NewObservability: %v", err)
	}
	for _, a := range rec.children() {
		if ns := str(t, a.Inputs, "metadata.namespace"); ns != "ts-telemetry" {
			t.Errorf("%s %s: namespace %q, want ts-telemetry", a.TypeToken, a.Name, ns)
		}
		if l := strMap(t, a.Inputs, "metadata.labels")["example.com/env"]; l != "staging" {
			t.Errorf("%s %s: extra label = %q, want staging", a.TypeToken, a.Name, l)
		}
	}
	dep := rec.get(t, deploymentType, "telemetry-collector")
	if ann := strMap(t, dep, "metadata.annotations"); ann[SkipAwaitAnnotation] != "" {
		t.Errorf("WaitForRollout: deployment still has %s", SkipAwaitAnnotation)
	}
	if ann := strMap(t, rec.get(t, serviceType, "telemetry-collector"), "metadata.annotations"); ann[SkipAwaitAnnotation] != "" {
		t.Errorf("WaitForRollout: service still has %s", SkipAwaitAnnotation)
	}
	for path, want := range map[string]any{
		"spec.template.spec.containers.0.image":                   "registry.example.com/otelcol-contrib:0.120.0",
		"spec.replicas":                                           float64(3),
		"spec.template.spec.containers.0.resources.limits.memory": "1Gi",
		"spec.template.spec.priorityClassName":                    cluster.PlatformPriorityClassName,
	} {
		if got := prop(t, dep, path).V; got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	var cfg collectorDoc
	if err := yaml.Unmarshal([]byte(data(t, rec.get(t, configMapType, "telemetry-collector-config"), CollectorFileName)), &cfg); err != nil {
		t.Fatal(err)
	}
	if ep := cfg.Exporters["otlp/traces"]["endpoint"]; ep != "jaeger.tracing:4317" {
		t.Errorf("traces endpoint = %v", ep)
	}
	if ep := cfg.Exporters["prometheusremotewrite"]["endpoint"]; ep != "http://mimir.metrics:8080/api/v1/push" {
		t.Errorf("remote write endpoint = %v", ep)
	}
	if ds := data(t, rec.get(t, configMapType, "telemetry-grafana-datasource"), DatasourceFileName); !strings.Contains(ds, "url: https://prometheus.example.com\n") {
		t.Errorf("datasource does not use PrometheusURL:\n%s", ds)
	}
	if rules := data(t, rec.get(t, configMapType, "telemetry-prometheus-rules"), RulesFileName); !strings.Contains(rules, RecordP95Latency+" > 0.25\n") {
		t.Errorf("rules do not use the 250ms threshold:\n%s", rules)
	}
	if out.host != "telemetry-collector.ts-telemetry.svc.corp.internal" || out.dashboardUID != "tenants-staging" || out.namespace != "ts-telemetry" {
		t.Errorf("outputs = %+v", out)
	}
}

func TestNewObservabilityRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name    string
		cname   string
		args    ObservabilityArgs
		wantErr string
	}{
		{"name with uppercase", "Obs", ObservabilityArgs{}, `observability "Obs": the name must be a DNS label`},
		{"name starting with a digit", "1obs", ObservabilityArgs{}, "starting with a letter"},
		{"name too long", strings.Repeat("o", 54), ObservabilityArgs{}, "at most 53 characters"},
		{"empty namespace", "obs", ObservabilityArgs{Namespace: pulumi.String("")}, "Namespace: the name is empty"},
		{"invalid namespace", "obs", ObservabilityArgs{Namespace: pulumi.String("Obs_NS")}, `Namespace: "Obs_NS" is not a DNS label`},
		{"invalid namespace known later", "obs", ObservabilityArgs{Namespace: pulumi.String("bad.ns").ToStringOutput()}, `Namespace: "bad.ns" is not a DNS label`},
		{"bad label", "obs", ObservabilityArgs{Labels: map[string]string{"a b": "c"}}, `label key "a b"`},
		{"managed-by overridden", "obs", ObservabilityArgs{Labels: map[string]string{cluster.ManagedByLabel: "helm"}}, "is always \"tenantstack\""},
		{"component label overridden", "obs", ObservabilityArgs{Labels: map[string]string{"app.kubernetes.io/instance": "x"}}, "is set by the component"},
		{"bad cluster domain", "obs", ObservabilityArgs{ClusterDomain: "Cluster.Local."}, "ClusterDomain"},
		{"negative replicas", "obs", ObservabilityArgs{CollectorReplicas: -1}, "CollectorReplicas -1 is negative"},
		{"bad memory", "obs", ObservabilityArgs{CollectorMemoryLimit: "lots"}, `CollectorMemoryLimit "lots"`},
		{"image with spaces", "obs", ObservabilityArgs{CollectorImage: "otel collector"}, "contains whitespace"},
		{"traces endpoint is a URL", "obs", ObservabilityArgs{TracesEndpoint: "http://tempo:4317"}, "TracesEndpoint \"http://tempo:4317\" must be host:port"},
		{"traces endpoint without port", "obs", ObservabilityArgs{TracesEndpoint: "tempo"}, "must be host:port"},
		{"logs endpoint bad port", "obs", ObservabilityArgs{LogsEndpoint: "loki:99999"}, "port \"99999\" is not 1-65535"},
		{"remote write not a URL", "obs", ObservabilityArgs{PrometheusRemoteWriteURL: "prometheus:9090"}, "PrometheusRemoteWriteURL"},
		{"prometheus URL relative", "obs", ObservabilityArgs{PrometheusURL: "/prometheus"}, "datasource: URL \"/prometheus\""},
		{"error ratio above 1", "obs", ObservabilityArgs{Alerts: RulesArgs{ErrorRatio: 1.5}}, "Alerts: rules: ErrorRatio 1.5 is not a ratio"},
		{"negative latency", "obs", ObservabilityArgs{Alerts: RulesArgs{P95Latency: -time.Second}}, "P95Latency -1s is negative"},
		{"bad dashboard uid", "obs", ObservabilityArgs{DashboardUID: "has space"}, `dashboard: UID "has space"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, _, err := run(t, tc.cname, func() *ObservabilityArgs { return &tc.args }, false)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), `observability "`+tc.cname+`"`) {
				t.Errorf("error %q does not name the component", err)
			}
			// Arguments known up front are refused before anything is
			// registered; a namespace known only later fails when it resolves.
			if _, later := tc.args.Namespace.(pulumi.StringOutput); !later {
				if n := len(rec.children()); n != 0 {
					t.Errorf("%d resources registered before the arguments were rejected", n)
				}
			}
		})
	}
}
