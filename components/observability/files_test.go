package observability

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./components/observability -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the generated file; if the change is intended, run go test ./components/observability -update and review the diff", path)
	}
}

func TestGoldenFiles(t *testing.T) {
	tests := []struct {
		file string
		gen  func() ([]byte, error)
	}{
		{RulesFileName, func() ([]byte, error) { return Rules(RulesArgs{}) }},
		{DashboardFileName, func() ([]byte, error) { return TenantDashboard(DashboardArgs{}) }},
		{DatasourceFileName, func() ([]byte, error) {
			return DatasourceYAML(DatasourceArgs{URL: "http://prometheus.observability.svc.cluster.local:9090"})
		}},
		{DashboardProviderFileName, func() ([]byte, error) { return DashboardProviderYAML(DashboardProviderArgs{}) }},
		{CollectorFileName, func() ([]byte, error) {
			return CollectorConfig(CollectorConfigArgs{TracesEndpoint: "tempo.observability.svc.cluster.local:4317"})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, err := tc.gen()
			if err != nil {
				t.Fatal(err)
			}
			again, err := tc.gen()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, again) {
				t.Fatal("two runs generated different files; the output must be deterministic")
			}
			golden(t, tc.file, got)
		})
	}
}

// --- Collector configuration ---

type collectorDoc struct {
	Extensions map[string]map[string]any `yaml:"extensions"`
	Receivers  map[string]map[string]any `yaml:"receivers"`
	Processors map[string]map[string]any `yaml:"processors"`
	Exporters  map[string]map[string]any `yaml:"exporters"`
	Service    struct {
		Extensions []string `yaml:"extensions"`
		Pipelines  map[string]struct {
			Receivers  []string `yaml:"receivers"`
			Processors []string `yaml:"processors"`
			Exporters  []string `yaml:"exporters"`
		} `yaml:"pipelines"`
	} `yaml:"service"`
}

type statementGroup struct {
	Context    string   `yaml:"context"`
	Statements []string `yaml:"statements"`
}

type transformDoc struct {
	Processors map[string]struct {
		ErrorMode        string           `yaml:"error_mode"`
		TraceStatements  []statementGroup `yaml:"trace_statements"`
		MetricStatements []statementGroup `yaml:"metric_statements"`
		LogStatements    []statementGroup `yaml:"log_statements"`
	} `yaml:"processors"`
}

func TestCollectorConfig(t *testing.T) {
	tests := []struct {
		name          string
		args          CollectorConfigArgs
		wantPipelines []string
		wantMetricsTo []string
	}{
		{
			name:          "traces and metrics",
			args:          CollectorConfigArgs{TracesEndpoint: "tempo:4317"},
			wantPipelines: []string{"metrics", "traces"},
			wantMetricsTo: []string{"prometheus"},
		},
		{
			name: "with logs and remote write",
			args: CollectorConfigArgs{
				TracesEndpoint: "tempo:4317", TracesTLS: true, LogsEndpoint: "loki:4317",
				PrometheusRemoteWriteURL: "http://prometheus:9090/api/v1/write",
			},
			wantPipelines: []string{"logs", "metrics", "traces"},
			wantMetricsTo: []string{"prometheus", "prometheusremotewrite"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := CollectorConfig(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			var cfg collectorDoc
			if err := yaml.Unmarshal(b, &cfg); err != nil {
				t.Fatalf("not YAML: %v", err)
			}
			var tr transformDoc
			if err := yaml.Unmarshal(b, &tr); err != nil {
				t.Fatalf("not YAML: %v", err)
			}

			protocols, _ := cfg.Receivers["otlp"]["protocols"].(map[string]any)
			for proto, want := range map[string]string{"grpc": "0.0.0.0:4317", "http": "0.0.0.0:4318"} {
				p, _ := protocols[proto].(map[string]any)
				if p["endpoint"] != want {
					t.Errorf("otlp %s endpoint = %v, want %s", proto, p["endpoint"], want)
				}
			}

			pipelines := slices.Sorted(func(yield func(string) bool) {
				for k := range cfg.Service.Pipelines {
					if !yield(k) {
						return
					}
				}
			})
			if !slices.Equal(pipelines, tc.wantPipelines) {
				t.Fatalf("pipelines = %q, want %q", pipelines, tc.wantPipelines)
			}
			statementsFor := map[string][]statementGroup{
				"traces":  tr.Processors[TenantProcessor].TraceStatements,
				"metrics": tr.Processors[TenantProcessor].MetricStatements,
				"logs":    tr.Processors[TenantProcessor].LogStatements,
			}
			for name, p := range cfg.Service.Pipelines {
				if !slices.Equal(p.Receivers, []string{"otlp"}) {
					t.Errorf("%s: receivers = %q", name, p.Receivers)
				}
				// memory_limiter first, batch last, the tenant stamp before batching.
				if want := []string{"memory_limiter", TenantProcessor, "batch"}; !slices.Equal(p.Processors, want) {
					t.Errorf("%s: processors = %q, want %q", name, p.Processors, want)
				}
				for _, proc := range p.Processors {
					if _, ok := cfg.Processors[proc]; !ok {
						t.Errorf("%s: processor %q is not defined", name, proc)
					}
				}
				for _, exp := range p.Exporters {
					if _, ok := cfg.Exporters[exp]; !ok {
						t.Errorf("%s: exporter %q is not defined", name, exp)
					}
				}
				checkTenantStatements(t, name, statementsFor[name])
			}
			if got := cfg.Service.Pipelines["metrics"].Exporters; !slices.Equal(got, tc.wantMetricsTo) {
				t.Errorf("metrics exporters = %q, want %q", got, tc.wantMetricsTo)
			}
			for _, exp := range tc.wantMetricsTo {
				conv, _ := cfg.Exporters[exp]["resource_to_telemetry_conversion"].(map[string]any)
				if conv["enabled"] != true {
					t.Errorf("%s: resource_to_telemetry_conversion not enabled, so tenant.id would not become the tenant_id label", exp)
				}
			}
			_, insecure := cfg.Exporters["otlp/traces"]["tls"]
			if insecure == tc.args.TracesTLS {
				t.Errorf("otlp/traces tls block present = %v with TracesTLS = %v", insecure, tc.args.TracesTLS)
			}
			if !slices.Contains(cfg.Service.Extensions, "health_check") {
				t.Error("health_check extension not enabled; the probes need it")
			}
		})
	}
}

// checkTenantStatements asserts that a signal's statements first drop a
// malformed self-reported tenant.id, then set it from a tenant-<id>
// namespace (so the namespace wins), and drop tenant.id below the resource.
// What the statements do to data is checked against the real transform
// processor outside this module (see the commit message); here the wiring.
func checkTenantStatements(t *testing.T, pipeline string, groups []statementGroup) {
	t.Helper()
	var resource []string
	var innerDrop bool
	for _, g := range groups {
		switch g.Context {
		case "resource":
			resource = g.Statements
		case "span", "datapoint", "log":
			innerDrop = slices.Contains(g.Statements, `delete_key(attributes, "tenant.id")`)
		}
	}
	drop := regexp.MustCompile(`^delete_key\(attributes, "tenant\.id"\) where not IsMatch\(attributes\["tenant\.id"\], "\^\[a-z0-9\]`)
	set := regexp.MustCompile(`^set\(attributes\["tenant\.id"\], Substring\(attributes\["k8s\.namespace\.name"\], 7, Len\(attributes\["k8s\.namespace\.name"\]\) - 7\)\) where IsMatch\(attributes\["k8s\.namespace\.name"\], "\^tenant-`)
	iDrop, iSet := slices.IndexFunc(resource, drop.MatchString), slices.IndexFunc(resource, set.MatchString)
	switch {
	case len(resource) == 0:
		t.Errorf("%s: no resource-context statements in %s", pipeline, TenantProcessor)
	case iSet < 0:
		t.Errorf("%s: no statement setting tenant.id from a tenant- namespace in %q", pipeline, resource)
	case iDrop < 0:
		t.Errorf("%s: a malformed self-reported tenant.id is not dropped: %q", pipeline, resource)
	case iDrop > iSet:
		t.Errorf("%s: the namespace-derived tenant.id is set before the check of self-reported ones: %q", pipeline, resource)
	}
	if !innerDrop {
		t.Errorf("%s: tenant.id set on spans, data points or log records is not dropped", pipeline)
	}
}

func TestCollectorConfigRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    CollectorConfigArgs
		wantErr string
	}{
		{"no traces endpoint", CollectorConfigArgs{}, "TracesEndpoint is required"},
		{"traces URL", CollectorConfigArgs{TracesEndpoint: "grpc://tempo:4317"}, "must be host:port"},
		{"logs without port", CollectorConfigArgs{TracesEndpoint: "t:1", LogsEndpoint: "loki"}, "LogsEndpoint \"loki\" must be host:port"},
		{"remote write relative", CollectorConfigArgs{TracesEndpoint: "t:1", PrometheusRemoteWriteURL: "api/v1/write"}, "PrometheusRemoteWriteURL"},
		{"memory percent", CollectorConfigArgs{TracesEndpoint: "t:1", MemoryLimitPercent: 99}, "MemoryLimitPercent 99 is out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CollectorConfig(tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

// --- Prometheus rules ---

type ruleDoc struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record      string            `yaml:"record"`
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func TestRules(t *testing.T) {
	tests := []struct {
		name       string
		args       RulesArgs
		wantExprs  map[string]string // alert -> expr
		wantFor    string
		wantWindow string
		wantQuota  string
	}{
		{
			name: "defaults",
			wantExprs: map[string]string{
				AlertHighLatency:      RecordP95Latency + " > 0.5",
				AlertHighErrorRate:    RecordErrorRatio + " > 0.05",
				AlertCPUSaturation:    RecordCPUSaturation + " > 0.9",
				AlertMemorySaturation: RecordMemorySaturation + " > 0.9",
			},
			wantFor: "10m", wantWindow: "[5m]", wantQuota: `resource="limits.cpu"`,
		},
		{
			name: "custom thresholds",
			args: RulesArgs{
				P95Latency: 1500 * time.Millisecond, ErrorRatio: 0.01, CPUSaturation: 0.8, MemorySaturation: 0.75,
				For: 90 * time.Second, RateWindow: 2 * time.Minute, CPUQuotaResource: "requests.cpu",
			},
			wantExprs: map[string]string{
				AlertHighLatency:      RecordP95Latency + " > 1.5",
				AlertHighErrorRate:    RecordErrorRatio + " > 0.01",
				AlertCPUSaturation:    RecordCPUSaturation + " > 0.8",
				AlertMemorySaturation: RecordMemorySaturation + " > 0.75",
			},
			wantFor: "1m30s", wantWindow: "[2m]", wantQuota: `resource="requests.cpu"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Rules(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			var doc ruleDoc
			if err := yaml.Unmarshal(b, &doc); err != nil {
				t.Fatalf("not YAML: %v", err)
			}
			records := map[string]string{}
			alerts := map[string]string{}
			for _, g := range doc.Groups {
				for _, r := range g.Rules {
					if r.Record != "" {
						records[r.Record] = r.Expr
						continue
					}
					alerts[r.Alert] = r.Expr
					if r.For != tc.wantFor {
						t.Errorf("%s: for = %q, want %q", r.Alert, r.For, tc.wantFor)
					}
					if r.Labels["severity"] != "warning" || r.Labels["slo"] == "" {
						t.Errorf("%s: labels = %v, want severity and slo", r.Alert, r.Labels)
					}
					if !strings.Contains(r.Annotations["summary"], "{{ $labels.tenant_id }}") {
						t.Errorf("%s: summary %q does not name the tenant", r.Alert, r.Annotations["summary"])
					}
				}
			}
			if len(alerts) != len(tc.wantExprs) {
				t.Errorf("alerts = %v, want %d", alerts, len(tc.wantExprs))
			}
			for alert, want := range tc.wantExprs {
				if alerts[alert] != want {
					t.Errorf("%s: expr = %q, want %q", alert, alerts[alert], want)
				}
			}
			for rec, expr := range records {
				if !strings.Contains(expr, TenantLabel) {
					t.Errorf("record %s is not per tenant: %s", rec, expr)
				}
			}
			for _, rec := range []string{RecordP95Latency, RecordErrorRatio} {
				if !strings.Contains(records[rec], tc.wantWindow) {
					t.Errorf("record %s does not use the %s window: %s", rec, tc.wantWindow, records[rec])
				}
			}
			if !strings.Contains(records[RecordP95Latency], "by (tenant_id, le)") {
				t.Errorf("p95 is not aggregated by (tenant_id, le): %s", records[RecordP95Latency])
			}
			if !strings.Contains(records[RecordCPUSaturation], tc.wantQuota) {
				t.Errorf("CPU saturation does not compare with %s: %s", tc.wantQuota, records[RecordCPUSaturation])
			}
		})
	}
}

func TestRulesRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    RulesArgs
		wantErr string
	}{
		{"negative latency", RulesArgs{P95Latency: -time.Millisecond}, "P95Latency -1ms is negative"},
		{"error ratio above 1", RulesArgs{ErrorRatio: 2}, "ErrorRatio 2 is not a ratio"},
		{"negative cpu", RulesArgs{CPUSaturation: -0.5}, "CPUSaturation -0.5 is not a ratio"},
		{"memory above 1", RulesArgs{MemorySaturation: 1.01}, "MemorySaturation 1.01 is not a ratio"},
		{"fractional for", RulesArgs{For: 1500 * time.Millisecond}, "For 1.5s must be a positive whole number of seconds"},
		{"short window", RulesArgs{RateWindow: 30 * time.Second}, "RateWindow 30s is too short"},
		{"quota with quote", RulesArgs{CPUQuotaResource: `limits.cpu"}`}, "CPUQuotaResource"},
		{"severity with space", RulesArgs{Severity: "very bad"}, "Severity"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Rules(tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not found (Debian package prometheus); the rules are not checked")
	}
	return p
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRulesPassPromtoolCheck(t *testing.T) {
	bin := promtool(t)
	defaults, err := Rules(RulesArgs{})
	if err != nil {
		t.Fatal(err)
	}
	custom, err := Rules(RulesArgs{P95Latency: 2 * time.Second, For: 90 * time.Second, RateWindow: 10 * time.Minute, Severity: "critical"})
	if err != nil {
		t.Fatal(err)
	}
	// The same file with one expression broken must fail, or the check proves nothing.
	broken := bytes.Replace(defaults, []byte("sum by (tenant_id, le) (rate("), []byte("sum by (tenant_id, le) (rate(("), 1)
	if bytes.Equal(broken, defaults) {
		t.Fatal("could not break the rules file")
	}

	tests := []struct {
		name   string
		rules  []byte
		wantOK bool
	}{
		{"defaults", defaults, true},
		{"custom", custom, true},
		{"broken expression", broken, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), RulesFileName, tc.rules)
			out, err := exec.Command(bin, "check", "rules", path).CombinedOutput()
			if ok := err == nil; ok != tc.wantOK {
				t.Fatalf("promtool check rules: success = %v, want %v\n%s", ok, tc.wantOK, out)
			}
			if tc.wantOK && !strings.Contains(string(out), "SUCCESS: 8 rules found") {
				t.Errorf("promtool did not find the 8 rules:\n%s", out)
			}
		})
	}
}

// ruleTests fires each alert for one tenant and not for another, through
// Prometheus' own rule evaluation. %s is the rules file.
const ruleTests = `rule_files:
  - %s
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # slow: every request between 100ms and 1s (p95 955ms); fast: all under 100ms.
      - series: 'http_server_request_duration_seconds_bucket{tenant_id="slow",le="0.1"}'
        values: '0+0x30'
      - series: 'http_server_request_duration_seconds_bucket{tenant_id="slow",le="1"}'
        values: '0+60x30'
      - series: 'http_server_request_duration_seconds_bucket{tenant_id="slow",le="+Inf"}'
        values: '0+60x30'
      - series: 'http_server_request_duration_seconds_bucket{tenant_id="fast",le="0.1"}'
        values: '0+60x30'
      - series: 'http_server_request_duration_seconds_bucket{tenant_id="fast",le="1"}'
        values: '0+60x30'
      - series: 'http_server_request_duration_seconds_bucket{tenant_id="fast",le="+Inf"}'
        values: '0+60x30'
      # legacy: the older convention in milliseconds, as slow as "slow".
      - series: 'http_server_duration_milliseconds_bucket{tenant_id="legacy",le="100"}'
        values: '0+0x30'
      - series: 'http_server_duration_milliseconds_bucket{tenant_id="legacy",le="1000"}'
        values: '0+60x30'
      - series: 'http_server_duration_milliseconds_bucket{tenant_id="legacy",le="+Inf"}'
        values: '0+60x30'
      # flaky: 10%% of requests fail; fast: none do.
      - series: 'http_server_request_duration_seconds_count{tenant_id="flaky",http_response_status_code="500"}'
        values: '0+6x30'
      - series: 'http_server_request_duration_seconds_count{tenant_id="flaky",http_response_status_code="200"}'
        values: '0+54x30'
      - series: 'http_server_request_duration_seconds_count{tenant_id="fast",http_response_status_code="200"}'
        values: '0+60x30'
      # busy uses 0.95 of its 1-core CPU quota; idle 0.1.
      - series: 'container_cpu_usage_seconds_total{namespace="tenant-busy",pod="p",container="app"}'
        values: '0+57x30'
      - series: 'container_cpu_usage_seconds_total{namespace="tenant-idle",pod="p",container="app"}'
        values: '0+6x30'
      - series: 'kube_resourcequota{namespace="tenant-busy",resource="limits.cpu",type="hard"}'
        values: '1x30'
      - series: 'kube_resourcequota{namespace="tenant-idle",resource="limits.cpu",type="hard"}'
        values: '1x30'
    alert_rule_test:
      # Pending, not yet firing: "for" holds the alert back.
      - eval_time: 5m
        alertname: TenantHighP95Latency
        exp_alerts: []
      - eval_time: 20m
        alertname: TenantHighP95Latency
        exp_alerts:
          - exp_labels: {severity: warning, slo: latency, tenant_id: %s}
            exp_annotations:
              summary: 'Tenant %[2]s: p95 latency above 500ms'
              description: 'The 95th percentile of server request duration for tenant %[2]s is 955ms (threshold 500ms).'
          - exp_labels: {severity: warning, slo: latency, tenant_id: legacy}
            exp_annotations:
              summary: 'Tenant legacy: p95 latency above 500ms'
              description: 'The 95th percentile of server request duration for tenant legacy is 955ms (threshold 500ms).'
      - eval_time: 20m
        alertname: TenantHighErrorRate
        exp_alerts:
          - exp_labels: {severity: warning, slo: errors, tenant_id: flaky}
            exp_annotations:
              summary: 'Tenant flaky: 5xx ratio above 5%%'
              description: '10%% of the requests of tenant flaky end with a 5xx status (threshold 5%%).'
      - eval_time: 20m
        alertname: TenantCPUSaturation
        exp_alerts:
          - exp_labels: {severity: warning, slo: saturation, tenant_id: busy, namespace: tenant-busy}
            exp_annotations:
              summary: 'Tenant busy: CPU near quota'
              description: 'Namespace tenant-busy uses 95%% of its limits.cpu quota (threshold 90%%).'
    promql_expr_test:
      # Traffic without errors is a 0 ratio, not a missing series.
      - expr: tenant_id:http_server_requests:error_ratio{tenant_id="fast"}
        eval_time: 20m
        exp_samples:
          - labels: 'tenant_id:http_server_requests:error_ratio{tenant_id="fast"}'
            value: 0
`

func TestRulesFireThroughPromtool(t *testing.T) {
	bin := promtool(t)
	rules, err := Rules(RulesArgs{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rulesPath := writeFile(t, dir, RulesFileName, rules)

	tests := []struct {
		name       string
		slowTenant string
		wantOK     bool
	}{
		{"the slow tenant alerts, the fast one does not", "slow", true},
		// Expecting the fast tenant instead must fail, or the test proves nothing.
		{"a wrong expectation fails", "fast", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			testFile := writeFile(t, dir, "test-"+tc.slowTenant+".yaml", []byte(fmt.Sprintf(ruleTests, rulesPath, tc.slowTenant)))
			out, err := exec.Command(bin, "test", "rules", testFile).CombinedOutput()
			if ok := err == nil; ok != tc.wantOK {
				t.Fatalf("promtool test rules: success = %v, want %v\n%s", ok, tc.wantOK, out)
			}
		})
	}
}

// --- Grafana ---

// grafanaDashboard is the part of Grafana's dashboard model the checks need.
type grafanaDashboard struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
			Query      struct {
				Query string `json:"query"`
			} `json:"query"`
			Datasource struct {
				Type string `json:"type"`
				UID  string `json:"uid"`
			} `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int    `json:"id"`
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
		GridPos struct{ X, Y, W, H int } `json:"gridPos"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func TestTenantDashboard(t *testing.T) {
	b, err := TenantDashboard(DashboardArgs{})
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if d.UID != DefaultDashboardUID || d.Title == "" || d.SchemaVersion < 30 {
		t.Errorf("uid = %q, title = %q, schemaVersion = %d", d.UID, d.Title, d.SchemaVersion)
	}

	var found bool
	for _, v := range d.Templating.List {
		if v.Name != TenantVariable {
			continue
		}
		found = true
		if v.Type != "query" || !regexp.MustCompile(`^label_values\(.+, tenant_id\)$`).MatchString(v.Query.Query) {
			t.Errorf("tenant variable: type %q, query %q, want label_values(..., tenant_id)", v.Type, v.Query.Query)
		}
		if v.Datasource.UID != DefaultDatasourceUID {
			t.Errorf("tenant variable datasource = %q", v.Datasource.UID)
		}
	}
	if !found {
		t.Fatalf("templating.list has no variable named %q", TenantVariable)
	}

	wantTitles := []string{"Request rate", "Error rate (5xx)", "p95 latency", "CPU", "Memory"}
	var titles []string
	ids := map[int]bool{}
	for _, p := range d.Panels {
		titles = append(titles, p.Title)
		if p.ID == 0 || ids[p.ID] {
			t.Errorf("panel %q: id %d is missing or repeated", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Type == "" || p.Datasource.UID != DefaultDatasourceUID || p.GridPos.W == 0 || p.GridPos.H == 0 {
			t.Errorf("panel %q: type %q, datasource %q, gridPos %+v", p.Title, p.Type, p.Datasource.UID, p.GridPos)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no targets", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.RefID == "" || tg.Expr == "" {
				t.Errorf("panel %q: target without refId or expr", p.Title)
			}
			if !strings.Contains(tg.Expr, "$tenant") {
				t.Errorf("panel %q: expr does not filter by $tenant: %s", p.Title, tg.Expr)
			}
		}
	}
	if !slices.Equal(titles, wantTitles) {
		t.Errorf("panels = %q, want %q", titles, wantTitles)
	}

	custom, err := TenantDashboard(DashboardArgs{UID: "acme-tenants", Title: "Acme", DatasourceUID: "prom-2", MemoryQuotaResource: "requests.memory"})
	if err != nil {
		t.Fatal(err)
	}
	var c grafanaDashboard
	if err := json.Unmarshal(custom, &c); err != nil {
		t.Fatal(err)
	}
	if c.UID != "acme-tenants" || c.Title != "Acme" || c.Panels[0].Datasource.UID != "prom-2" || !strings.Contains(string(custom), `resource=\"requests.memory\"`) {
		t.Errorf("custom args not applied: uid %q, title %q, datasource %q", c.UID, c.Title, c.Panels[0].Datasource.UID)
	}

	for _, bad := range []DashboardArgs{{UID: strings.Repeat("u", 41)}, {DatasourceUID: "a/b"}, {CPUQuotaResource: `x"`}} {
		if _, err := TenantDashboard(bad); err == nil {
			t.Errorf("TenantDashboard(%+v) accepted bad args", bad)
		}
	}
}

func TestGrafanaProvisioning(t *testing.T) {
	b, err := DatasourceYAML(DatasourceArgs{URL: "http://prometheus:9090"})
	if err != nil {
		t.Fatal(err)
	}
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, Type, UID, URL, Access string
			IsDefault                    bool           `yaml:"isDefault"`
			JSONData                     map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(b, &ds); err != nil {
		t.Fatal(err)
	}
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 {
		t.Fatalf("datasource file = %+v", ds)
	}
	d := ds.Datasources[0]
	if d.Type != "prometheus" || d.UID != DefaultDatasourceUID || d.URL != "http://prometheus:9090" || d.Access != "proxy" || d.IsDefault {
		t.Errorf("datasource = %+v", d)
	}
	if d.JSONData["timeInterval"] != "30s" {
		t.Errorf("timeInterval = %v, want 30s", d.JSONData["timeInterval"])
	}

	b, err = DashboardProviderYAML(DashboardProviderArgs{Folder: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	var prov struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name, Folder, Type string
			Options            struct{ Path string } `yaml:"options"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal(b, &prov); err != nil {
		t.Fatal(err)
	}
	if prov.APIVersion != 1 || len(prov.Providers) != 1 || prov.Providers[0].Type != "file" ||
		prov.Providers[0].Folder != "Acme" || prov.Providers[0].Options.Path != DefaultDashboardPath {
		t.Errorf("dashboard provider file = %+v", prov)
	}

	for _, tc := range []struct {
		name string
		err  error
	}{
		{"datasource without URL", func() error { _, err := DatasourceYAML(DatasourceArgs{}); return err }()},
		{"datasource with a relative URL", func() error { _, err := DatasourceYAML(DatasourceArgs{URL: "prometheus:9090"}); return err }()},
		{"datasource with a bad uid", func() error {
			_, err := DatasourceYAML(DatasourceArgs{URL: "http://p", UID: "a b"})
			return err
		}()},
		{"scrape interval below a second", func() error {
			_, err := DatasourceYAML(DatasourceArgs{URL: "http://p", ScrapeInterval: time.Millisecond})
			return err
		}()},
		{"relative dashboard path", func() error { _, err := DashboardProviderYAML(DashboardProviderArgs{Path: "dashboards"}); return err }()},
	} {
		if tc.err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

// The OTTL check module (testdata/ottlcheck) must test the collector release
// the component deploys.
func TestOTTLCheckPinsTheDeployedCollector(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join("testdata", "ottlcheck", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/open-telemetry/opentelemetry-collector-contrib/processor/transformprocessor (v\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("testdata/ottlcheck/go.mod does not require the transform processor")
	}
	_, tag, _ := strings.Cut(DefaultCollectorImage, ":")
	if string(m[1]) != "v"+tag {
		t.Errorf("testdata/ottlcheck tests transformprocessor %s, but the component deploys %s", m[1], DefaultCollectorImage)
	}
}
