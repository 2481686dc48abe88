// Package devplatform runs the local platform that `tenantctl dev` manages:
// PostgreSQL 15, PgBouncer, Redis 7 with ACLs, and a Kubernetes control plane
// (etcd, kube-apiserver, kube-controller-manager), all on 127.0.0.1 and all
// kept as files under one state directory inside TENANTSTACK_HOME.
package devplatform
