package observability

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tenantstack/tenantstack/components/cluster"
)

// TenantNamespacePrefix starts the name of every tenant namespace; the
// saturation rules and dashboard panels select namespaces with it.
const TenantNamespacePrefix = cluster.TenantNamespacePrefix

// RulesFileName is the file (ConfigMap key) holding the tenant SLO rules.
const RulesFileName = "tenantstack-tenant-slo.rules.yaml"

// Names of the alerts in the rules file.
const (
	AlertHighLatency      = "TenantHighP95Latency"
	AlertHighErrorRate    = "TenantHighErrorRate"
	AlertCPUSaturation    = "TenantCPUSaturation"
	AlertMemorySaturation = "TenantMemorySaturation"
)

// Names of the recording rules the alerts are built on; dashboards and ad
// hoc queries can use them too.
const (
	RecordP95Latency       = "tenant_id:http_server_request_duration_seconds:p95"
	RecordErrorRatio       = "tenant_id:http_server_requests:error_ratio"
	RecordCPUSaturation    = "tenant_id:container_cpu_usage:quota_ratio"
	RecordMemorySaturation = "tenant_id:container_memory_working_set:quota_ratio"
)

// RulesArgs sets the per-tenant SLO thresholds. Every field is optional; the
// zero value of a field selects its default.
type RulesArgs struct {
	// P95Latency is the 95th percentile server request duration above which a
	// tenant alerts. Optional; default 500ms.
	P95Latency time.Duration
	// ErrorRatio is the share of 5xx responses above which a tenant alerts,
	// in (0, 1]. Optional; default 0.05.
	ErrorRatio float64
	// CPUSaturation is the CPU usage over the namespace's CPU quota above which
	// a tenant alerts, in (0, 1]. Optional; default 0.9.
	CPUSaturation float64
	// MemorySaturation is the working-set memory over the namespace's memory
	// quota above which a tenant alerts, in (0, 1]. Optional; default 0.9.
	MemorySaturation float64
	// For is how long a condition must hold before its alert fires.
	// Optional; default 10m. Whole seconds.
	For time.Duration
	// RateWindow is the range over which rates and quantiles are computed.
	// Optional; default 5m. Whole seconds.
	RateWindow time.Duration
	// CPUQuotaResource is the ResourceQuota resource the CPU usage is compared
	// with. Optional; default "limits.cpu".
	CPUQuotaResource string
	// MemoryQuotaResource is the ResourceQuota resource the memory usage is
	// compared with. Optional; default "limits.memory".
	MemoryQuotaResource string
	// Severity is the severity label of every alert. Optional; default "warning".
	Severity string
}

func (a RulesArgs) withDefaults() (RulesArgs, error) {
	if a.P95Latency == 0 {
		a.P95Latency = 500 * time.Millisecond
	}
	if a.ErrorRatio == 0 {
		a.ErrorRatio = 0.05
	}
	if a.CPUSaturation == 0 {
		a.CPUSaturation = 0.9
	}
	if a.MemorySaturation == 0 {
		a.MemorySaturation = 0.9
	}
	if a.For == 0 {
		a.For = 10 * time.Minute
	}
	if a.RateWindow == 0 {
		a.RateWindow = 5 * time.Minute
	}
	if a.CPUQuotaResource == "" {
		a.CPUQuotaResource = "limits.cpu"
	}
	if a.MemoryQuotaResource == "" {
		a.MemoryQuotaResource = "limits.memory"
	}
	if a.Severity == "" {
		a.Severity = "warning"
	}

	if a.P95Latency < 0 {
		return a, fmt.Errorf("rules: P95Latency %s is negative; use a positive duration such as 500ms", a.P95Latency)
	}
	for _, r := range []struct {
		field string
		v     float64
	}{{"ErrorRatio", a.ErrorRatio}, {"CPUSaturation", a.CPUSaturation}, {"MemorySaturation", a.MemorySaturation}} {
		if !(r.v > 0 && r.v <= 1) { // also refuses NaN
			return a, fmt.Errorf("rules: %s %v is not a ratio; use a value above 0 and at most 1, such as 0.05", r.field, r.v)
		}
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"For", a.For}, {"RateWindow", a.RateWindow}} {
		if d.v < 0 || d.v%time.Second != 0 {
			return a, fmt.Errorf("rules: %s %s must be a positive whole number of seconds, such as 5m", d.field, d.v)
		}
	}
	if a.RateWindow < time.Minute {
		return a, fmt.Errorf("rules: RateWindow %s is too short for rate(); use at least 1m (four scrape intervals)", a.RateWindow)
	}
	for _, s := range []struct{ field, v string }{
		{"CPUQuotaResource", a.CPUQuotaResource},
		{"MemoryQuotaResource", a.MemoryQuotaResource},
		{"Severity", a.Severity},
	} {
		if !quotaResourceRE.MatchString(s.v) {
			return a, fmt.Errorf("rules: %s %q may contain only letters, digits, '.', '_', '/' and '-'", s.field, s.v)
		}
	}
	return a, nil
}

var quotaResourceRE = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)

// ruleFile is the Prometheus rule file format.
type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

type rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Rules returns a Prometheus rule file with per-tenant SLO recording rules
// and alerts: p95 latency, 5xx error ratio, and CPU and memory saturation of
// the tenant namespace against its ResourceQuota. Every alert carries the
// tenant_id label. The output is deterministic for given args.
func Rules(args RulesArgs) ([]byte, error) {
	a, err := args.withDefaults()
	if err != nil {
		return nil, err
	}
	window := promDuration(a.RateWindow)
	tenants := selector(TenantLabel + `!=""`)
	nsRegex := TenantNamespacePrefix + ".+"

	alert := func(name, record, threshold, slo, summary, description string) rule {
		return rule{
			Alert: name,
			Expr:  record + " > " + threshold,
			For:   promDuration(a.For),
			Labels: map[string]string{
				"severity": a.Severity,
				"slo":      slo,
			},
			Annotations: map[string]string{
				"summary":     summary,
				"description": description,
			},
		}
	}

	f := ruleFile{Groups: []ruleGroup{
		{
			Name: "tenantstack-tenant-slo.records",
			Rules: []rule{
				{Record: RecordP95Latency, Expr: p95Expr(tenants, window)},
				{Record: RecordErrorRatio, Expr: errorRatioExpr(tenants, window)},
				{Record: RecordCPUSaturation, Expr: saturationExpr(cpuUsageExpr(nsRegex, window), quotaExpr(nsRegex, a.CPUQuotaResource))},
				{Record: RecordMemorySaturation, Expr: saturationExpr(memoryUsageExpr(nsRegex), quotaExpr(nsRegex, a.MemoryQuotaResource))},
			},
		},
		{
			Name: "tenantstack-tenant-slo.alerts",
			Rules: []rule{
				alert(AlertHighLatency, RecordP95Latency, formatFloat(a.P95Latency.Seconds()), "latency",
					"Tenant {{ $labels.tenant_id }}: p95 latency above "+a.P95Latency.String(),
					"The 95th percentile of server request duration for tenant {{ $labels.tenant_id }} is {{ $value | humanizeDuration }} (threshold "+a.P95Latency.String()+")."),
				alert(AlertHighErrorRate, RecordErrorRatio, formatFloat(a.ErrorRatio), "errors",
					"Tenant {{ $labels.tenant_id }}: 5xx ratio above "+formatPercent(a.ErrorRatio),
					"{{ $value | humanizePercentage }} of the requests of tenant {{ $labels.tenant_id }} end with a 5xx status (threshold "+formatPercent(a.ErrorRatio)+")."),
				alert(AlertCPUSaturation, RecordCPUSaturation, formatFloat(a.CPUSaturation), "saturation",
					"Tenant {{ $labels.tenant_id }}: CPU near quota",
					"Namespace {{ $labels.namespace }} uses {{ $value | humanizePercentage }} of its "+a.CPUQuotaResource+" quota (threshold "+formatPercent(a.CPUSaturation)+")."),
				alert(AlertMemorySaturation, RecordMemorySaturation, formatFloat(a.MemorySaturation), "saturation",
					"Tenant {{ $labels.tenant_id }}: memory near quota",
					"Namespace {{ $labels.namespace }} uses {{ $value | humanizePercentage }} of its "+a.MemoryQuotaResource+" quota (threshold "+formatPercent(a.MemorySaturation)+")."),
			},
		},
	}}

	var buf bytes.Buffer
	buf.WriteString("# Generated by tenantstack (components/observability.Rules); do not edit.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("rules: encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("rules: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// promDuration formats d the way Prometheus writes durations ("1h30m", "5m", "45s").
func promDuration(d time.Duration) string {
	var out string
	for _, u := range []struct {
		suffix string
		d      time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if n := d / u.d; n > 0 {
			out += strconv.FormatInt(int64(n), 10) + u.suffix
			d -= n * u.d
		}
	}
	if out == "" {
		return "0s"
	}
	return out
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func formatPercent(f float64) string { return strconv.FormatFloat(f*100, 'g', -1, 64) + "%" }
