package devplatform

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func testState(t *testing.T) *State {
	t.Helper()
	st, err := newState(Ports{Postgres: 1001, PgBouncer: 1002, Redis: 1003, Etcd: 1004, EtcdPeer: 1005, APIServer: 1006, ControllerManager: 1007})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSaveLoadState(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "platform")
	st := testState(t)
	st.Processes["redis"] = 42
	if err := SaveState(dir, st); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("state file mode = %04o, want 0600", perm)
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode = %v (%v), want 0700", di.Mode().Perm(), err)
	}
	got, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Ports != st.Ports || got.Postgres != st.Postgres || got.Redis != st.Redis || got.Processes["redis"] != 42 {
		t.Errorf("loaded %+v, want %+v", got, st)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state dir holds %d entries, want only %s (no temporary files left)", len(entries), stateFile)
	}
}

func TestLoadStateErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"readable by others", `{"version":1}`, 0o644, `has mode 0644 but holds passwords; run "chmod 600`},
		{"readable by group", `{"version":1}`, 0o640, "has mode 0640"},
		{"garbage", `{`, 0o600, `"tenantctl dev down --purge"`},
		{"newer layout", `{"version":99}`, 0o600, "layout version 99"},
		{"no ports", `{"version":1}`, 0o600, "not a port"},
		{"same port twice", `{"version":1,"ports":{"postgres":5,"pgbouncer":5,"redis":6,"etcd":7,"etcd_peer":8,"apiserver":9,"controller_manager":10}}`, 0o600, "both 5"},
		{"no credentials", `{"version":1,"ports":{"postgres":4,"pgbouncer":5,"redis":6,"etcd":7,"etcd_peer":8,"apiserver":9,"controller_manager":10}}`, 0o600, "lacks admin credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, stateFile)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := LoadState(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadState error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadStateMissing(t *testing.T) {
	_, err := LoadState(t.TempDir())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadState of an empty dir = %v, want fs.ErrNotExist", err)
	}
}

func TestNewStatePasswords(t *testing.T) {
	a, b := testState(t), testState(t)
	alnum := regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	for _, p := range []string{a.Postgres.Password, a.Redis.Password, b.Postgres.Password} {
		if !alnum.MatchString(p) {
			t.Errorf("password %q is not 32 alphanumerics", p)
		}
	}
	if a.Postgres.Password == a.Redis.Password || a.Postgres.Password == b.Postgres.Password {
		t.Error("generated passwords repeat")
	}
}
