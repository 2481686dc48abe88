package devplatform

import (
	"net"
	"path/filepath"
)

// stateFile is the name of the state file in the state directory.
const stateFile = "state.json"

// StateDirName is the directory under TENANTSTACK_HOME that holds everything
// of the local platform.
const StateDirName = "platform"

// serviceIP is the first address of the service range: the API server's
// "kubernetes" Service, and a SAN of its serving certificate.
var serviceIP = net.IPv4(10, 0, 0, 1)

const serviceCIDR = "10.0.0.0/24"

// layout names the files of a platform under its state directory:
//
//	state.json            ports, admin credentials, PIDs (0600)
//	lock                  held by up and down
//	logs/NAME.log         each service's output
//	postgres/data         the PostgreSQL cluster
//	pgbouncer/            pgbouncer.ini, userlist.txt
//	redis/                redis.conf, users.acl (ACL SAVE target), dump.rdb
//	etcd/data             etcd's data
//	kubernetes/pki        CA, certificates, service-account keys
//	kubernetes/*.kubeconfig
type layout struct{ dir string }

func (l layout) state() string              { return filepath.Join(l.dir, stateFile) }
func (l layout) lock() string               { return filepath.Join(l.dir, "lock") }
func (l layout) logs() string               { return filepath.Join(l.dir, "logs") }
func (l layout) log(name string) string     { return filepath.Join(l.logs(), name+".log") }
func (l layout) pgDir() string              { return filepath.Join(l.dir, "postgres") }
func (l layout) pgData() string             { return filepath.Join(l.pgDir(), "data") }
func (l layout) pgbDir() string             { return filepath.Join(l.dir, "pgbouncer") }
func (l layout) pgbConfig() string          { return filepath.Join(l.pgbDir(), "pgbouncer.ini") }
func (l layout) pgbUsers() string           { return filepath.Join(l.pgbDir(), "userlist.txt") }
func (l layout) redisDir() string           { return filepath.Join(l.dir, "redis") }
func (l layout) redisConfig() string        { return filepath.Join(l.redisDir(), "redis.conf") }
func (l layout) redisACL() string           { return filepath.Join(l.redisDir(), "users.acl") }
func (l layout) etcdDir() string            { return filepath.Join(l.dir, "etcd") }
func (l layout) etcdData() string           { return filepath.Join(l.etcdDir(), "data") }
func (l layout) kubeDir() string            { return filepath.Join(l.dir, "kubernetes") }
func (l layout) pki() string                { return filepath.Join(l.kubeDir(), "pki") }
func (l layout) pkiFile(name string) string { return filepath.Join(l.pki(), name) }
func (l layout) adminKubeconfig() string    { return filepath.Join(l.kubeDir(), "admin.kubeconfig") }
func (l layout) kcmKubeconfig() string {
	return filepath.Join(l.kubeDir(), "controller-manager.kubeconfig")
}
