// Package devplatform runs the local platform that `tenantctl dev` manages:
// PostgreSQL 15, PgBouncer, Redis 7 with ACLs, and a Kubernetes control plane
// (etcd, kube-apiserver, kube-controller-manager), all on 127.0.0.1 and all
// kept as files under one state directory inside TENANTSTACK_HOME.
//
// The state directory (TENANTSTACK_HOME/platform) holds state.json (ports
// picked on the first up, generated admin passwords, PIDs; mode 0600), each
// service's data and configuration, and logs/NAME.log. Up starts what is not
// running and waits until each service answers for real; services that run
// are only checked, so up is idempotent and recovers after a crash or a
// reboot. Down signals only processes whose PID still runs the expected
// program with this platform's paths on its command line, so a recycled PID
// is never touched.
//
// PostgreSQL and PgBouncer refuse to run as root: as root they run as the
// postgres system user (see access.go for how it reaches the state
// directory); otherwise everything runs as the current user.
package devplatform
