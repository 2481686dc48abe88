package observability

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Ports of the collector Service.
const (
	OTLPGRPCPort           = 4317
	OTLPHTTPPort           = 4318
	PrometheusExporterPort = 8889
	HealthCheckPort        = 13133
)

// DefaultCollectorImage is the pinned OpenTelemetry Collector (contrib)
// image; contrib is needed for the transform processor and the Prometheus
// exporters.
const DefaultCollectorImage = "otel/opentelemetry-collector-contrib:0.120.0"

// CollectorFileName is the collector configuration file (ConfigMap key).
const CollectorFileName = "collector.yaml"

// TenantProcessor is the name of the collector processor that sets
// tenant.id; it sits in every pipeline.
const TenantProcessor = "transform/tenant"

// TenantAttribute is the resource attribute identifying a tenant's telemetry.
const TenantAttribute = "tenant.id"

// TenantStatements returns the OTTL statements (resource context) that set
// tenant.id:
//
//  1. a tenant.id the workload reports itself (the tenant component sets
//     OTEL_RESOURCE_ATTRIBUTES=tenant.id=<id>) is kept only if it is a
//     well-formed id, so a malformed value never becomes a label;
//  2. a resource whose k8s.namespace.name is tenant-<id> gets tenant.id=<id>,
//     overriding whatever it reported: the namespace is the authority.
//
// k8s.namespace.name is taken as the SDK reports it (the k8sattributes
// processor is not used, so the collector needs no Kubernetes API access);
// see the package documentation for what that means for trust.
func TenantStatements() []string {
	const id = `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
	ns := `attributes["k8s.namespace.name"]`
	return []string{
		`delete_key(attributes, "` + TenantAttribute + `") where not IsMatch(attributes["` + TenantAttribute + `"], "^` + id + `$")`,
		fmt.Sprintf(`set(attributes["%s"], Substring(%s, %d, Len(%s) - %d)) where IsMatch(%s, "^%s%s$")`,
			TenantAttribute, ns, len(TenantNamespacePrefix), ns, len(TenantNamespacePrefix), ns, TenantNamespacePrefix, id),
	}
}

// CollectorConfigArgs configures the collector configuration file.
type CollectorConfigArgs struct {
	// TracesEndpoint is the OTLP/gRPC endpoint (host:port) traces are sent
	// to, e.g. a Tempo or Jaeger collector. Required.
	TracesEndpoint string
	// TracesTLS sends traces over TLS. Optional; default false (plaintext
	// inside the cluster).
	TracesTLS bool
	// LogsEndpoint, when set, adds a logs pipeline exporting over OTLP/gRPC
	// to this host:port. Optional; default none (no logs pipeline).
	LogsEndpoint string
	// PrometheusRemoteWriteURL, when set, also pushes metrics to this
	// Prometheus remote-write URL. Optional; the Prometheus exporter on port
	// 8889 is always there to be scraped.
	PrometheusRemoteWriteURL string
	// MemoryLimitPercent is the share of the container memory limit the
	// memory_limiter lets the collector use before refusing data.
	// Optional; default 80.
	MemoryLimitPercent int
}

// CollectorConfig returns the OpenTelemetry Collector configuration: OTLP
// receivers (gRPC and HTTP), memory_limiter, the tenant.id transform and
// batch processors in that order in every pipeline, metrics to Prometheus,
// traces (and optionally logs) over OTLP.
func CollectorConfig(args CollectorConfigArgs) ([]byte, error) {
	if args.MemoryLimitPercent == 0 {
		args.MemoryLimitPercent = 80
	}
	if args.MemoryLimitPercent < 10 || args.MemoryLimitPercent > 95 {
		return nil, fmt.Errorf("collector: MemoryLimitPercent %d is out of range; use 10 to 95", args.MemoryLimitPercent)
	}
	if args.TracesEndpoint == "" {
		return nil, fmt.Errorf("collector: TracesEndpoint is required, such as tempo.observability.svc:4317")
	}
	if err := checkHostPort("TracesEndpoint", args.TracesEndpoint); err != nil {
		return nil, err
	}
	if args.LogsEndpoint != "" {
		if err := checkHostPort("LogsEndpoint", args.LogsEndpoint); err != nil {
			return nil, err
		}
	}
	if args.PrometheusRemoteWriteURL != "" {
		u, err := url.Parse(args.PrometheusRemoteWriteURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("collector: PrometheusRemoteWriteURL %q must be an absolute http or https URL, such as http://prometheus.observability.svc:9090/api/v1/write", args.PrometheusRemoteWriteURL)
		}
	}

	// Statements run per signal: first at resource level, then dropping any
	// tenant.id set on individual spans, data points or log records, so that
	// the resource's value is the only one exported.
	statements := func(inner string) []map[string]any {
		return []map[string]any{
			{"context": "resource", "statements": TenantStatements()},
			{"context": inner, "statements": []string{`delete_key(attributes, "` + TenantAttribute + `")`}},
		}
	}
	otlpExporter := func(endpoint string, tls bool) map[string]any {
		e := map[string]any{"endpoint": endpoint}
		if !tls {
			e["tls"] = map[string]any{"insecure": true}
		}
		return e
	}
	processors := []string{"memory_limiter", TenantProcessor, "batch"}

	exporters := map[string]any{
		// resource_to_telemetry_conversion turns resource attributes, tenant.id
		// among them, into labels: tenant.id becomes tenant_id.
		"prometheus": map[string]any{
			"endpoint":                         "0.0.0.0:" + strconv.Itoa(PrometheusExporterPort),
			"resource_to_telemetry_conversion": map[string]any{"enabled": true},
			"metric_expiration":                "10m",
		},
		"otlp/traces": otlpExporter(args.TracesEndpoint, args.TracesTLS),
	}
	metricExporters := []string{"prometheus"}
	if args.PrometheusRemoteWriteURL != "" {
		exporters["prometheusremotewrite"] = map[string]any{
			"endpoint":                         args.PrometheusRemoteWriteURL,
			"resource_to_telemetry_conversion": map[string]any{"enabled": true},
		}
		metricExporters = append(metricExporters, "prometheusremotewrite")
	}
	pipelines := map[string]any{
		"traces":  map[string]any{"receivers": []string{"otlp"}, "processors": processors, "exporters": []string{"otlp/traces"}},
		"metrics": map[string]any{"receivers": []string{"otlp"}, "processors": processors, "exporters": metricExporters},
	}
	if args.LogsEndpoint != "" {
		exporters["otlp/logs"] = otlpExporter(args.LogsEndpoint, args.TracesTLS)
		pipelines["logs"] = map[string]any{"receivers": []string{"otlp"}, "processors": processors, "exporters": []string{"otlp/logs"}}
	}

	cfg := map[string]any{
		"extensions": map[string]any{
			"health_check": map[string]any{"endpoint": "0.0.0.0:" + strconv.Itoa(HealthCheckPort)},
		},
		"receivers": map[string]any{
			"otlp": map[string]any{"protocols": map[string]any{
				"grpc": map[string]any{"endpoint": "0.0.0.0:" + strconv.Itoa(OTLPGRPCPort)},
				"http": map[string]any{"endpoint": "0.0.0.0:" + strconv.Itoa(OTLPHTTPPort)},
			}},
		},
		"processors": map[string]any{
			"memory_limiter": map[string]any{
				"check_interval":         "1s",
				"limit_percentage":       args.MemoryLimitPercent,
				"spike_limit_percentage": args.MemoryLimitPercent / 4,
			},
			TenantProcessor: map[string]any{
				"error_mode":        "ignore",
				"trace_statements":  statements("span"),
				"metric_statements": statements("datapoint"),
				"log_statements":    statements("log"),
			},
			"batch": map[string]any{"send_batch_size": 8192, "timeout": "5s"},
		},
		"exporters": exporters,
		"service": map[string]any{
			"extensions": []string{"health_check"},
			"pipelines":  pipelines,
		},
	}
	return encodeYAML("# Generated by tenantstack (components/observability.CollectorConfig); do not edit.\n", cfg)
}

func checkHostPort(field, hp string) error {
	host, port, err := net.SplitHostPort(hp)
	if err != nil || host == "" || strings.Contains(hp, "://") {
		return fmt.Errorf("collector: %s %q must be host:port, such as tempo.observability.svc:4317", field, hp)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("collector: %s %q: port %q is not 1-65535", field, hp, port)
	}
	return nil
}
