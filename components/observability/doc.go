// Package observability provides the Observability component: the
// platform's telemetry pipeline and the per-tenant SLO content that sits on
// top of it.
//
// The component deploys, into the observability namespace:
//
//   - an OpenTelemetry Collector (Deployment, Service, ServiceAccount without
//     a token, and its configuration in a ConfigMap) receiving OTLP over gRPC
//     and HTTP, exporting metrics for Prometheus and traces over OTLP;
//   - a ConfigMap with Prometheus recording and alerting rules for
//     per-tenant SLOs: p95 latency, 5xx ratio, CPU and memory saturation
//     against the tenant namespace's ResourceQuota;
//   - ConfigMaps with Grafana provisioning: a Prometheus datasource, a
//     dashboard provider, and a tenant overview dashboard with a $tenant
//     variable, labelled for the Grafana sidecar.
//
// Prometheus and Grafana themselves are not deployed here; the ConfigMaps
// are what they load. The files come from pure functions (CollectorConfig,
// Rules, DatasourceYAML, DashboardProviderYAML, TenantDashboard) that can be
// called without Pulumi, for review or for other deployment tools.
//
// # Tenant attribution
//
// The collector's transform processor sets the resource attribute tenant.id
// on every signal (traces, metrics, logs) whose k8s.namespace.name is
// tenant-<id>, overriding whatever the workload reported. A tenant.id the
// workload reports itself (the tenant component sets it through
// OTEL_RESOURCE_ATTRIBUTES) is kept when no tenant namespace is given and
// it is a well-formed id. tenant.id set on single spans, data points or log
// records is removed, so the resource value is the only one exported; the
// Prometheus exporters turn it into the tenant_id label.
//
// Both attributes are reported by the workload's SDK: the k8sattributes
// processor, which would check the namespace against the connecting pod's IP,
// is left out so that the collector needs no access to the Kubernetes API.
// Telemetry attribution is therefore as trustworthy as the workloads; where
// one tenant must not be able to skew another's SLO alerts, add
// k8sattributes with pod association by connection IP.
package observability
