//go:build integration

package devplatform

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRefusals: bad input and missing platforms fail with the documented
// exit codes, say what to do, and create nothing.
func TestRefusals(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() }) // not defer: the subtests run after this function returns
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"port out of range", []string{"dev", "up", "--postgres-port", "99999"}, 2, "--postgres-port 99999 is not a port"},
		{"two services on one port", []string{"dev", "up", "--redis-port", "16379", "--etcd-port", "16379"}, 2, "--redis-port and --etcd-port are both 16379"},
		{"not a number", []string{"dev", "up", "--redis-port", "six"}, 2, "invalid argument"},
		{"port in use", []string{"dev", "up", "--pgbouncer-port", busyPort}, 4, "port " + busyPort + " for pgbouncer is not free"},
		{"env without platform", []string{"dev", "env", "-o", "json"}, 3, `run "tenantctl dev up"`},
		{"status without platform", []string{"dev", "status"}, 3, `run "tenantctl dev up"`},
		{"purge unconfirmed", []string{"dev", "down", "--purge"}, 2, "add --yes to confirm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPlatform(t)
			r := p.run(tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("tenantctl %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.code, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			if _, err := os.Stat(filepath.Join(p.home, "platform")); !os.IsNotExist(err) {
				t.Errorf("%s was created (%v)", filepath.Join(p.home, "platform"), err)
			}
		})
	}
}
