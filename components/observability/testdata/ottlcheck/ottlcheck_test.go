// Package ottlcheck runs the collector configuration's tenant.id statements
// through the transform processor of the collector release that
// observability.DefaultCollectorImage pins, on sample telemetry. It is a
// module of its own so that the main module does not depend on the
// collector; run it with
//
//	cd components/observability/testdata/ottlcheck && go test ./...
//
// after changing the statements (and refreshing ../collector.yaml with
// go test ./components/observability -update). Keep the collector versions
// in go.mod equal to the image tag.
package ottlcheck

import (
	"context"
	"os"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/transformprocessor"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"gopkg.in/yaml.v3"
)

// rc is a resource with its attributes and the tenant.id expected after the
// processor ("" for none).
type rc struct {
	name  string
	attrs map[string]any
	want  string // "" = absent
}

var cases = []rc{
	{"tenant namespace", map[string]any{"k8s.namespace.name": "tenant-acme"}, "acme"},
	{"namespace overrides spoof", map[string]any{"k8s.namespace.name": "tenant-acme", "tenant.id": "globex"}, "acme"},
	{"self-reported kept", map[string]any{"tenant.id": "acme"}, "acme"},
	{"malformed self-reported dropped", map[string]any{"tenant.id": "Bad Value!"}, ""},
	{"numeric self-reported kept", map[string]any{"tenant.id": int64(5)}, "5"},
	{"platform namespace", map[string]any{"k8s.namespace.name": "platform-system"}, ""},
	{"bare prefix", map[string]any{"k8s.namespace.name": "tenant-"}, ""},
	{"nothing", map[string]any{}, ""},
}

func setAttrs(m pcommon.Map, attrs map[string]any) {
	for k, v := range attrs {
		switch v := v.(type) {
		case string:
			m.PutStr(k, v)
		case int64:
			m.PutInt(k, v)
		}
	}
}

func TestCollectorTransform(t *testing.T) {
	path := os.Getenv("COLLECTOR_YAML")
	if path == "" {
		path = "../collector.yaml"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	raw := doc["processors"].(map[string]any)["transform/tenant"].(map[string]any)
	f := transformprocessor.NewFactory()
	cfg := f.CreateDefaultConfig()
	if err := confmap.NewFromStringMap(raw).Unmarshal(cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.(interface{ Validate() error }).Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	ctx := context.Background()

	msink := &consumertest.MetricsSink{}
	mp, err := f.CreateMetrics(ctx, processortest.NewNopSettings(), cfg, msink)
	if err != nil {
		t.Fatal(err)
	}
	tsink := &consumertest.TracesSink{}
	tp, err := f.CreateTraces(ctx, processortest.NewNopSettings(), cfg, tsink)
	if err != nil {
		t.Fatal(err)
	}
	lsink := &consumertest.LogsSink{}
	lp, err := f.CreateLogs(ctx, processortest.NewNopSettings(), cfg, lsink)
	if err != nil {
		t.Fatal(err)
	}

	md := pmetric.NewMetrics()
	td := ptrace.NewTraces()
	ld := plog.NewLogs()
	for _, c := range cases {
		rm := md.ResourceMetrics().AppendEmpty()
		setAttrs(rm.Resource().Attributes(), c.attrs)
		m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("x")
		dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.Attributes().PutStr("tenant.id", "spoof")
		rs := td.ResourceSpans().AppendEmpty()
		setAttrs(rs.Resource().Attributes(), c.attrs)
		rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty().Attributes().PutStr("tenant.id", "spoof")
		rl := ld.ResourceLogs().AppendEmpty()
		setAttrs(rl.Resource().Attributes(), c.attrs)
		rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Attributes().PutStr("tenant.id", "spoof")
	}
	if err := mp.ConsumeMetrics(ctx, md); err != nil {
		t.Fatal(err)
	}
	if err := tp.ConsumeTraces(ctx, td); err != nil {
		t.Fatal(err)
	}
	if err := lp.ConsumeLogs(ctx, ld); err != nil {
		t.Fatal(err)
	}
	get := func(m pcommon.Map) string {
		v, ok := m.Get("tenant.id")
		if !ok {
			return ""
		}
		return v.AsString()
	}
	gotM := msink.AllMetrics()[0]
	gotT := tsink.AllTraces()[0]
	gotL := lsink.AllLogs()[0]
	for i, c := range cases {
		rm := gotM.ResourceMetrics().At(i)
		rs := gotT.ResourceSpans().At(i)
		rl := gotL.ResourceLogs().At(i)
		for sig, got := range map[string]string{
			"metrics": get(rm.Resource().Attributes()),
			"traces":  get(rs.Resource().Attributes()),
			"logs":    get(rl.Resource().Attributes()),
		} {
			if got != c.want {
				t.Errorf("%s/%s: tenant.id = %q, want %q", c.name, sig, got, c.want)
			}
		}
		if v := get(rm.ScopeMetrics().At(0).Metrics().At(0).Gauge().DataPoints().At(0).Attributes()); v != "" {
			t.Errorf("%s: datapoint tenant.id = %q, want dropped", c.name, v)
		}
		if v := get(rs.ScopeSpans().At(0).Spans().At(0).Attributes()); v != "" {
			t.Errorf("%s: span tenant.id = %q, want dropped", c.name, v)
		}
		if v := get(rl.ScopeLogs().At(0).LogRecords().At(0).Attributes()); v != "" {
			t.Errorf("%s: log tenant.id = %q, want dropped", c.name, v)
		}
		t.Logf("%-32s -> %q", c.name, get(rm.Resource().Attributes()))
	}
}
