package usage

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The metrics WritePrometheus writes, each with a tenant label.
const (
	MetricPostgresBytes   = "tenantstack_tenant_postgres_bytes"
	MetricPostgresRows    = "tenantstack_tenant_postgres_rows"
	MetricConnections     = "tenantstack_tenant_postgres_connections"
	MetricConnectionLimit = "tenantstack_tenant_postgres_connection_limit"
	MetricRedisKeys       = "tenantstack_tenant_redis_keys"
	MetricRedisMemory     = "tenantstack_tenant_redis_memory_bytes"
	MetricStatements      = "tenantstack_tenant_postgres_statements"
	MetricExecSeconds     = "tenantstack_tenant_postgres_exec_seconds"
	MetricQuotaUsed       = "tenantstack_tenant_quota_used"
	MetricQuotaHard       = "tenantstack_tenant_quota_hard"
)

// WritePrometheus writes reps as Prometheus exposition text (version
// 0.0.4): one gauge family per measure, one sample per tenant, labelled
// tenant and tier (and resource for the quota).
func WritePrometheus(w io.Writer, reps []Report) error {
	bw := bufio.NewWriter(w)
	family := func(name, help string, sample func(r Report) []sample) {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
		for _, r := range reps {
			for _, s := range sample(r) {
				labels := `tenant="` + escapeLabel(r.Tenant) + `",tier="` + escapeLabel(r.Tier) + `"`
				if s.resource != "" {
					labels += `,resource="` + escapeLabel(s.resource) + `"`
				}
				fmt.Fprintf(bw, "%s{%s} %s\n", name, labels, strconv.FormatFloat(s.v, 'g', -1, 64))
			}
		}
	}
	one := func(f func(r Report) float64) func(r Report) []sample {
		return func(r Report) []sample { return []sample{{v: f(r)}} }
	}
	family(MetricPostgresBytes, "Bytes of the tenant's data in PostgreSQL on its tier.", one(func(r Report) float64 { return float64(r.Postgres.Bytes) }))
	family(MetricPostgresRows, "Rows of the tenant's tables, counted.", one(func(r Report) float64 { return float64(r.Postgres.Rows) }))
	family(MetricConnections, "Open PostgreSQL sessions of the tenant's login roles.", one(func(r Report) float64 { return float64(r.Postgres.Connections) }))
	family(MetricConnectionLimit, "CONNECTION LIMIT of each of the tenant's login roles (its plan's).", one(func(r Report) float64 { return float64(r.Postgres.ConnectionLimit) }))
	family(MetricRedisKeys, "Redis keys under the tenant's prefix.", one(func(r Report) float64 { return float64(r.Redis.Keys) }))
	family(MetricRedisMemory, "MEMORY USAGE of the Redis keys under the tenant's prefix.", one(func(r Report) float64 { return float64(r.Redis.MemoryBytes) }))
	if len(reps) > 0 && reps[0].Postgres.Statements != nil {
		family(MetricStatements, "Statements the tenant's login roles ran (pg_stat_statements, since its reset).", one(func(r Report) float64 { return float64(deref(r.Postgres.Statements)) }))
		family(MetricExecSeconds, "Total execution time of the tenant's statements in seconds (pg_stat_statements).", one(func(r Report) float64 { return derefF(r.Postgres.ExecSeconds) }))
	}
	quota := func(used bool) func(r Report) []sample {
		return func(r Report) []sample {
			out := make([]sample, 0, len(r.Kubernetes))
			for _, q := range r.Kubernetes {
				v := q.HardN
				if used {
					v = q.UsedN
				}
				out = append(out, sample{resource: q.Resource, v: v})
			}
			return out
		}
	}
	family(MetricQuotaUsed, "Used amount of a resource of the tenant namespace's quota.", quota(true))
	family(MetricQuotaHard, "Hard limit of a resource of the tenant namespace's quota.", quota(false))
	return bw.Flush()
}

type sample struct {
	resource string
	v        float64
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func derefF(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
