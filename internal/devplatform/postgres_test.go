package devplatform

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func writePostmasterPID(t *testing.T, dir string, pid, shmid int) string {
	t.Helper()
	path := filepath.Join(dir, "postmaster.pid")
	content := fmt.Sprintf("%d\n%s\n1700000000\n5432\n\n127.0.0.1\n  5432001   %d\nready   \n", pid, dir, shmid)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// deadPID returns a PID that no process has.
func deadPID(t *testing.T) int {
	t.Helper()
	for pid := 4_000_000; pid > 3_000_000; pid-- {
		if !procRunning(pid) {
			return pid
		}
	}
	t.Fatal("no free PID found")
	return 0
}

func TestRemoveStalePostmasterPID(t *testing.T) {
	ctx := context.Background()
	t.Run("dead pid is left to postgres", func(t *testing.T) {
		dir := t.TempDir()
		path := writePostmasterPID(t, dir, deadPID(t), -1)
		if err := removeStalePostmasterPID(ctx, dir); err != nil {
			t.Fatal(err)
		}
		if !fileExists(path) {
			t.Error("removed a lock of a dead PID; PostgreSQL's own shared-memory check would be skipped")
		}
	})
	t.Run("recycled pid after a reboot", func(t *testing.T) {
		dir := t.TempDir()
		path := writePostmasterPID(t, dir, os.Getpid(), 999999999) // no such segment
		if err := removeStalePostmasterPID(ctx, dir); err != nil {
			t.Fatal(err)
		}
		if fileExists(path) {
			t.Error("kept a lock naming a live process that is not the postmaster")
		}
	})
	t.Run("killed postmaster not yet reaped", func(t *testing.T) {
		zombie := exec.Command("sh", "-c", "exit 0")
		if err := zombie.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { zombie.Wait() })
		deadline := time.Now().Add(5 * time.Second)
		for procRunning(zombie.Process.Pid) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		dir := t.TempDir()
		path := writePostmasterPID(t, dir, zombie.Process.Pid, -1)
		if err := removeStalePostmasterPID(ctx, dir); err != nil {
			t.Fatal(err)
		}
		if fileExists(path) {
			t.Error("kept a lock naming a zombie, which PostgreSQL takes for a running postmaster")
		}
	})
	t.Run("old backends still attached", func(t *testing.T) {
		id, err := unix.SysvShmGet(unix.IPC_PRIVATE, 4096, unix.IPC_CREAT|0o600)
		if err != nil {
			t.Skipf("System V shared memory unavailable: %v", err)
		}
		t.Cleanup(func() { unix.SysvShmCtl(id, unix.IPC_RMID, nil) })
		mem, err := unix.SysvShmAttach(id, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.SysvShmDetach(mem) })
		dir := t.TempDir()
		path := writePostmasterPID(t, dir, os.Getpid(), id)
		cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		err = removeStalePostmasterPID(cctx, dir)
		if err == nil || !strings.Contains(err.Error(), "old processes of the PostgreSQL cluster") {
			t.Fatalf("error = %v, want a refusal while the segment is attached", err)
		}
		if !fileExists(path) {
			t.Error("removed the lock while old backends were attached")
		}
	})
}

func TestPgbouncerConfig(t *testing.T) {
	st := testState(t)
	ini := pgbouncerINI(layout{dir: "/h/platform"}, st)
	for _, want := range []string{
		"* = host=127.0.0.1 port=1001\n",
		"listen_addr = 127.0.0.1\nlisten_port = 1002\n",
		"pool_mode = transaction\n",
		"auth_type = scram-sha-256\n",
		"auth_user = admin\n",
		"auth_query = SELECT usename, passwd FROM pg_shadow WHERE usename=$1\n",
		"auth_file = /h/platform/pgbouncer/userlist.txt\n",
	} {
		if !strings.Contains(ini, want) {
			t.Errorf("pgbouncer.ini lacks %q:\n%s", want, ini)
		}
	}
	if strings.Contains(ini, st.Postgres.Password) {
		t.Error("pgbouncer.ini holds the admin password; it belongs in auth_file only")
	}
	if got := pgbQuote(`a"b`); got != `"a""b"` {
		t.Errorf("pgbQuote = %s", got)
	}
}

func TestRedisConfig(t *testing.T) {
	l := layout{dir: "/h/my platform"}
	conf := redisConf(l, 6390)
	for _, want := range []string{"bind 127.0.0.1\n", "port 6390\n", `aclfile "/h/my platform/redis/users.acl"`, "{config-file}"} {
		if !strings.Contains(conf, want) {
			t.Errorf("redis.conf lacks %q:\n%s", want, conf)
		}
	}
	acl := redisACL(Credentials{User: "admin", Password: "pw"})
	// sha256("pw")
	want := "user default off resetkeys resetchannels -@all\nuser admin on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~* &* +@all\n"
	if acl != want {
		t.Errorf("users.acl =\n%s\nwant\n%s", acl, want)
	}
}
