package usage

import (
	"context"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/output"
	"github.com/tenantstack/tenantstack/internal/usage"
)

func TestNewCmdUsage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{"every tenant", nil, nil, ""},
		{"two tenants", []string{"acme", "beta"}, []string{"acme", "beta"}, ""},
		{"bad name", []string{"Acme"}, nil, `use "acme" instead`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			var got *UsageOptions
			cmd := NewCmdUsage(tenanttest.NewFactory(t, s, output.Table), func(o *UsageOptions) error { got = o; return nil })
			err := tenanttest.Execute(t, cmd, tc.args...)
			tenanttest.CheckErr(t, err, tc.wantErr)
			if err != nil {
				return
			}
			if strings.Join(got.Names, ",") != strings.Join(tc.want, ",") {
				t.Errorf("names %v, want %v", got.Names, tc.want)
			}
		})
	}
}

type fakeMeter struct{ reps []usage.Report }

func (f fakeMeter) Usage(context.Context, []string) ([]usage.Report, error) { return f.reps, nil }

func TestUsageRunFormats(t *testing.T) {
	calls, secs := int64(42), 1.5
	reps := []usage.Report{{Tenant: "acme", Tier: "shared",
		Postgres:   usage.PostgresUsage{Bytes: 360, Rows: 5, Connections: 1, ConnectionLimit: 10, Statements: &calls, ExecSeconds: &secs},
		Redis:      usage.RedisUsage{Keys: 3, MemoryBytes: 504},
		Kubernetes: []usage.QuotaUsage{{Resource: "pods", Used: "1", Hard: "10", UsedN: 1, HardN: 10}}}}
	for _, tc := range []struct {
		format output.Format
		want   string
	}{
		{output.Table, "acme\tshared\t360\t5\t1/10\t42\t1.500\t3\t504\tpods=1/10\n"},
		{output.CSV, "TENANT,TIER,PG_BYTES,PG_ROWS,CONNECTIONS,STATEMENTS,EXEC_SECONDS,REDIS_KEYS,REDIS_BYTES,QUOTA\nacme,shared,360,5,1/10,42,1.500,3,504,pods=1/10\n"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			if err := usageRun(context.Background(), &UsageOptions{IO: s.IOStreams, Format: tc.format, Service: func() (Meter, error) { return fakeMeter{reps}, nil }}); err != nil {
				t.Fatal(err)
			}
			if got := s.OutBuf.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	s := tenanttest.NewStreams("", false)
	if err := usageRun(context.Background(), &UsageOptions{IO: s.IOStreams, Format: output.Prometheus, Service: func() (Meter, error) { return fakeMeter{reps}, nil }}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.OutBuf.String(), `tenantstack_tenant_postgres_statements{tenant="acme",tier="shared"} 42`) {
		t.Errorf("the exposition lacks the statements:\n%s", s.OutBuf.String())
	}
	if !strings.Contains(s.OutBuf.String(), `tenantstack_tenant_redis_keys{tenant="acme",tier="shared"} 3`) {
		t.Errorf("prometheus output:\n%s", s.OutBuf.String())
	}
}
