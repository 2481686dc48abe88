package devplatform

// Env is what `tenantctl dev env -o json` prints: the admin endpoints of a
// running local platform. Other tools depend on this shape; fields may be
// added, never renamed or removed.
type Env struct {
	Postgres   PostgresEnv   `json:"postgres"`
	Redis      RedisEnv      `json:"redis"`
	Kubernetes KubernetesEnv `json:"kubernetes"`
}

// PostgresEnv holds the platform PostgreSQL's admin URLs.
type PostgresEnv struct {
	// AdminURL connects straight to PostgreSQL as the admin role:
	// postgres://USER:PASS@127.0.0.1:PORT/postgres
	AdminURL string `json:"admin_url"`
	// PoolerURL connects through PgBouncer (transaction mode) as the admin.
	// Any login role can use the same host and port with its own password,
	// to any database. PgBouncer 1.18 does not track prepared statements:
	// pgx clients set default_query_exec_mode=simple_protocol (or exec).
	PoolerURL string `json:"pooler_url"`
}

// RedisEnv holds the platform Redis's admin URL: redis://USER:PASS@127.0.0.1:PORT
type RedisEnv struct {
	AdminURL string `json:"admin_url"`
}

// KubernetesEnv holds the absolute path of the admin kubeconfig.
type KubernetesEnv struct {
	Kubeconfig string `json:"kubeconfig"`
}
