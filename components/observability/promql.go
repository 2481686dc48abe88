package observability

import (
	"fmt"
	"strings"
)

// Metric names as the collector's Prometheus exporters write them: the OTLP
// name with dots turned into underscores and the unit appended. Both HTTP
// semantic conventions are covered: the stable one (http.server.request.duration,
// seconds, http.response.status_code) and the older one still emitted by many
// SDKs (http.server.duration, milliseconds, http.status_code).
const (
	stableDuration    = "http_server_request_duration_seconds"
	stableStatusLabel = "http_response_status_code"
	legacyDuration    = "http_server_duration_milliseconds"
	legacyStatusLabel = "http_status_code"

	// TenantLabel is the Prometheus label carrying the tenant id; the
	// collector derives it from the tenant.id resource attribute.
	TenantLabel = "tenant_id"
)

// selector is the label matcher list (without braces) that picks the
// tenants of interest, e.g. `tenant_id!=""` or `tenant_id=~"$tenant"`.
type selector string

func (s selector) with(extra string) string {
	if extra == "" {
		return string(s)
	}
	return string(s) + "," + extra
}

// p95Expr is the 95th percentile of server request duration per tenant, in
// seconds. Where a tenant emits both conventions, the stable one wins
// (`or` keeps the left-hand series).
func p95Expr(sel selector, window string) string {
	q := func(metric string) string {
		return fmt.Sprintf("histogram_quantile(0.95, sum by (%s, le) (rate(%s_bucket{%s}[%s])))", TenantLabel, metric, sel, window)
	}
	return q(stableDuration) + "\nor\n" + q(legacyDuration) + " / 1000"
}

// requestRateExpr is requests per second per tenant.
func requestRateExpr(sel selector, window string) string {
	q := func(metric string) string {
		return fmt.Sprintf("sum by (%s) (rate(%s_count{%s}[%s]))", TenantLabel, metric, sel, window)
	}
	return q(stableDuration) + "\nor\n" + q(legacyDuration)
}

// errorRatioExpr is the share of requests answered with a 5xx status, per
// tenant. A tenant with traffic but no errors gets 0 rather than no series.
func errorRatioExpr(sel selector, window string) string {
	q := func(metric, status string) string {
		all := fmt.Sprintf("sum by (%s) (rate(%s_count{%s}[%s]))", TenantLabel, metric, sel, window)
		errs := fmt.Sprintf("sum by (%s) (rate(%s_count{%s}[%s]))", TenantLabel, metric, sel.with(status+`=~"5.."`), window)
		return fmt.Sprintf("(\n  (%s or %s * 0)\n  /\n  %s\n)", errs, all, all)
	}
	return q(stableDuration, stableStatusLabel) + "\nor\n" + q(legacyDuration, legacyStatusLabel)
}

// cpuUsageExpr is the CPU (cores) used by each tenant namespace, from cAdvisor.
func cpuUsageExpr(nsRegex, window string) string {
	return fmt.Sprintf(`sum by (namespace) (rate(container_cpu_usage_seconds_total{namespace=~"%s",container!="",container!="POD"}[%s]))`, nsRegex, window)
}

// memoryUsageExpr is the working-set memory (bytes) of each tenant namespace, from cAdvisor.
func memoryUsageExpr(nsRegex string) string {
	return fmt.Sprintf(`sum by (namespace) (container_memory_working_set_bytes{namespace=~"%s",container!="",container!="POD"})`, nsRegex)
}

// quotaExpr is the hard quota of resource in each tenant namespace, from kube-state-metrics.
func quotaExpr(nsRegex, resource string) string {
	return fmt.Sprintf(`sum by (namespace) (kube_resourcequota{namespace=~"%s",resource=%q,type="hard"})`, nsRegex, resource)
}

// withTenantFromNamespace adds the tenant_id label to a per-namespace
// expression, taken from the namespace name tenant-<id>.
func withTenantFromNamespace(expr string) string {
	return fmt.Sprintf(`label_replace(
  %s,
  %q, "$1", "namespace", %q
)`, indent(expr, "  "), TenantLabel, "^"+TenantNamespacePrefix+"(.+)$")
}

// saturationExpr is usage over quota per tenant namespace, labelled with tenant_id.
func saturationExpr(usage, quota string) string {
	return withTenantFromNamespace(usage + "\n/ on (namespace)\n" + quota)
}

func indent(s, prefix string) string {
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}
