package observability

// UsageRulesFileName is the rules file of the alerts on `tenantctl usage
// -o prometheus` metrics (tenantstack_tenant_*).
const UsageRulesFileName = "tenantstack-tenant-usage.rules.yaml"

// Names of the usage alerts.
const (
	AlertNearConnectionLimit = "TenantNearConnectionLimit"
	AlertNearQuota           = "TenantNearQuota"
)

// UsageRules returns the Prometheus rules that fire when a tenant passes
// 80% of a plan limit: its PostgreSQL connections against its login role's
// connection limit, or any resource of its namespace quota against hard.
// They read the gauges `tenantctl usage -o prometheus` writes.
func UsageRules() []byte {
	return []byte(`# Written by tenantstack: alerts at 80% of a tenant's plan limits, on
# the metrics of "tenantctl usage -o prometheus".
groups:
  - name: tenantstack-tenant-usage
    rules:
      - alert: ` + AlertNearConnectionLimit + `
        expr: |
          tenantstack_tenant_postgres_connections
            / on (tenant, tier) (tenantstack_tenant_postgres_connection_limit > 0)
          > 0.8
        for: 5m
        labels: {severity: warning, limit: connections}
        annotations:
          summary: 'Tenant {{ $labels.tenant }}: connections near its plan limit'
          description: 'Tenant {{ $labels.tenant }} holds {{ $value | humanizePercentage }} of its connection limit (threshold 80%).'
      - alert: ` + AlertNearQuota + `
        expr: |
          tenantstack_tenant_quota_used
            / on (tenant, tier, resource) (tenantstack_tenant_quota_hard > 0)
          > 0.8
        for: 5m
        labels: {severity: warning, limit: quota}
        annotations:
          summary: 'Tenant {{ $labels.tenant }}: {{ $labels.resource }} near its quota'
          description: 'Tenant {{ $labels.tenant }} uses {{ $value | humanizePercentage }} of its {{ $labels.resource }} quota (threshold 80%).'
`)
}
