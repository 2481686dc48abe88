package tenantspec

// Credentials is what `tenantctl credentials NAME -o json` prints: the
// tenant's own logins. Other tools depend on this shape: fields may be
// added, never renamed. The values come from the TenantStack component's
// outputs, recorded in the tenant's stack.
type Credentials struct {
	Tenant     string                `json:"tenant"`
	Tier       string                `json:"tier"`
	Postgres   PostgresCredentials   `json:"postgres"`
	Redis      RedisCredentials      `json:"redis"`
	Kubernetes KubernetesCredentials `json:"kubernetes"`
}

// PostgresCredentials is the tenant's own database login.
type PostgresCredentials struct {
	Host      string `json:"host"`
	Port      int    `json:"port"`
	Database  string `json:"database"`
	Schema    string `json:"schema"`
	User      string `json:"user"`
	Password  string `json:"password"`
	URL       string `json:"url"`
	PoolerURL string `json:"pooler_url"`
}

// RedisCredentials is the tenant's own Redis ACL user.
type RedisCredentials struct {
	Host          string `json:"host"`
	Port          int    `json:"port"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	KeyPrefix     string `json:"key_prefix"`
	ChannelPrefix string `json:"channel_prefix"`
}

// KubernetesCredentials names the tenant's namespace and service account.
type KubernetesCredentials struct {
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"service_account"`
}
