package devplatform

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakePlatform returns a platform under a temporary home whose tools are
// all found (as /bin/true) and whose Debian paths are real unless missing
// names them.
func fakePlatform(t *testing.T, euid int, missing ...string) (*Platform, *[][]string) {
	t.Helper()
	p := New(t.TempDir(), io.Discard)
	p.lookupTool = func(name string) (string, error) { return "/bin/true", nil }
	p.geteuid = func() int { return euid }
	p.debianPath = func(path string) string {
		for _, m := range missing {
			if strings.HasSuffix(path, "/"+m) {
				return filepath.Join(t.TempDir(), "absent", m)
			}
		}
		return "/bin/true"
	}
	var calls [][]string
	p.runApt = func(_ context.Context, _ string, args ...string) error {
		calls = append(calls, args)
		return nil
	}
	return p, &calls
}

func TestFindBinariesMissingDebianNotRoot(t *testing.T) {
	p, calls := fakePlatform(t, 1000, "initdb", "pgbouncer")
	_, err := p.findBinaries(context.Background())
	want := "Debian packages postgresql-15, pgbouncer are not installed; run: sudo apt-get install -y postgresql-15 pgbouncer"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
	if len(*calls) != 0 {
		t.Errorf("apt-get ran without root: %v", *calls)
	}
}

func TestFindBinariesInstallsAsRoot(t *testing.T) {
	p, calls := fakePlatform(t, 0, "redis-server")
	failFirst := true
	p.runApt = func(_ context.Context, _ string, args ...string) error {
		*calls = append(*calls, args)
		if args[0] == "install" && failFirst {
			failFirst = false
			return errors.New("E: Unable to locate package redis-server")
		}
		return nil
	}
	_, err := p.findBinaries(context.Background())
	// The fake install does not create the file, so this still fails, but
	// only after install, update, install.
	if err == nil || !strings.Contains(err.Error(), "still missing after installing redis-server") {
		t.Fatalf("error = %v", err)
	}
	var got []string
	for _, c := range *calls {
		got = append(got, strings.Join(c, " "))
	}
	want := []string{"install -y --no-install-recommends redis-server", "update", "install -y --no-install-recommends redis-server"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("apt-get calls = %q, want %q", got, want)
	}
}

func TestFindBinariesMissingKubeTool(t *testing.T) {
	p, calls := fakePlatform(t, 0, "pgbouncer")
	p.lookupTool = func(name string) (string, error) {
		return "", errors.New(name + ` not found; run "make tools" in the tenantstack checkout`)
	}
	_, err := p.findBinaries(context.Background())
	if err == nil || !strings.Contains(err.Error(), `etcd not found; run "make tools"`) {
		t.Fatalf("error = %v", err)
	}
	if len(*calls) != 0 {
		t.Errorf("installed Debian packages although a Kubernetes tool is missing: %v", *calls)
	}
}

func TestUpRefusesBadInputWithoutSideEffects(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name  string
		ports Ports
		kind  error
		want  string
	}{
		{"out of range", Ports{Postgres: 65536}, ErrInvalidInput, "--postgres-port 65536 is not a port"},
		{"two services on one port", Ports{Redis: 20000, APIServer: 20000}, ErrInvalidInput, "--redis-port and --apiserver-port are both 20000"},
		{"port in use", Ports{PgBouncer: busyPort}, ErrPortInUse, "port " + strconv.Itoa(busyPort) + " for pgbouncer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := fakePlatform(t, 1000)
			_, err := p.Up(context.Background(), UpOptions{Ports: tt.ports})
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Up error = %v, want %v containing %q", err, tt.kind, tt.want)
			}
			if _, err := os.Stat(p.Dir()); !os.IsNotExist(err) {
				t.Errorf("Up created %s although it refused (%v)", p.Dir(), err)
			}
		})
	}
}

func TestUpRefusesChangedPort(t *testing.T) {
	p, _ := fakePlatform(t, 1000)
	st := testState(t)
	if err := SaveState(p.Dir(), st); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(p.Dir(), stateFile))
	_, err := p.Up(context.Background(), UpOptions{Ports: Ports{Postgres: st.Ports.Postgres + 1000}})
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "ports are fixed on the first up") {
		t.Fatalf("Up error = %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(p.Dir(), stateFile))
	if string(before) != string(after) {
		t.Error("Up changed the state file although it refused")
	}
}

func TestUpRefusesDataWithoutState(t *testing.T) {
	p, _ := fakePlatform(t, 1000)
	if err := os.MkdirAll(p.layout.redisDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.layout.redisACL(), []byte("user default off\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := p.Up(context.Background(), UpOptions{})
	if err == nil || !strings.Contains(err.Error(), "holds a platform's data but no state.json") {
		t.Fatalf("Up error = %v", err)
	}
	if _, err := os.Stat(p.layout.state()); !os.IsNotExist(err) {
		t.Errorf("Up wrote a state file next to orphaned data")
	}
}

func TestNoPlatformErrors(t *testing.T) {
	p, _ := fakePlatform(t, 1000)
	ctx := context.Background()
	_, err := p.Status(ctx)
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), `run "tenantctl dev up"`) {
		t.Errorf("Status error = %v", err)
	}
	_, err = p.Env(ctx)
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), `run "tenantctl dev up"`) {
		t.Errorf("Env error = %v", err)
	}
	if err := p.Down(ctx, DownOptions{}); err != nil {
		t.Errorf("Down without a platform = %v, want nil (nothing to stop)", err)
	}
}

func TestEnvOfStoppedPlatform(t *testing.T) {
	p, _ := fakePlatform(t, 1000)
	st := testState(t)
	st.Processes = map[string]int{"postgres": os.Getpid()} // a live PID that is not postgres
	if err := SaveState(p.Dir(), st); err != nil {
		t.Fatal(err)
	}
	_, err := p.Env(context.Background())
	want := "is not running (stopped: postgres, pgbouncer, redis, etcd, kube-apiserver, kube-controller-manager); run \"tenantctl dev up\""
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Env error = %v, want %q", err, want)
	}
	status, err := p.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := status.NotHealthy(); len(got) != 6 {
		t.Errorf("NotHealthy = %v, want all six", got)
	}
	if status.Services[0].State != StateStopped || status.Services[0].PID != 0 {
		t.Errorf("postgres status = %+v, want stopped without a PID (the recorded PID is another program)", status.Services[0])
	}
}
