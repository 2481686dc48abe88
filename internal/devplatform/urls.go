package devplatform

import (
	"net/url"
)

// postgresURL is the admin URL straight to PostgreSQL.
func postgresURL(c Credentials, port int) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(c.User, c.Password), Host: loopback(port), Path: "/postgres"}
	return u.String()
}

// poolerURL is the URL through PgBouncer; its shape is the same.
func poolerURL(c Credentials, port int) string { return postgresURL(c, port) }

// redisURL is the admin URL of Redis.
func redisURL(c Credentials, port int) string {
	u := url.URL{Scheme: "redis", User: url.UserPassword(c.User, c.Password), Host: loopback(port)}
	return u.String()
}

// envOf is what "tenantctl dev env" prints for the platform in st.
func envOf(st *State, l layout) Env {
	return Env{
		Postgres: PostgresEnv{
			AdminURL:  postgresURL(st.Postgres, st.Ports.Postgres),
			PoolerURL: poolerURL(st.Postgres, st.Ports.PgBouncer),
		},
		Redis:      RedisEnv{AdminURL: redisURL(st.Redis, st.Ports.Redis)},
		Kubernetes: KubernetesEnv{Kubeconfig: l.adminKubeconfig()},
	}
}
