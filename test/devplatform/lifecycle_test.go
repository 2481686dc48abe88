//go:build integration

package devplatform

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/internal/devplatform"
)

// TestLifecycle: up twice is a no-op; a killed postgres is recovered by up;
// a Redis ACL user and a table row survive down and up.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	p := startPlatform(t)
	env := p.env()
	ctx := context.Background()
	first, code := p.status()
	if code != 0 {
		t.Fatalf("status after up exits %d", code)
	}

	t.Run("second up is a no-op", func(t *testing.T) {
		r := p.mustRun("dev", "up")
		for _, s := range first.Services {
			want := fmt.Sprintf("%s: already running on %s (pid %d)", s.Name, s.Address, s.PID)
			if !strings.Contains(r.stderr, want) {
				t.Errorf("second up did not report %q:\n%s", want, r.stderr)
			}
		}
		if strings.Contains(r.stderr, "starting") {
			t.Errorf("second up started something:\n%s", r.stderr)
		}
		again, _ := p.status()
		for i, s := range again.Services {
			if s.PID != first.Services[i].PID {
				t.Errorf("%s changed pid %d -> %d on a second up", s.Name, first.Services[i].PID, s.PID)
			}
		}
	})

	// Data that must survive: a row, and a Redis ACL user saved with ACL SAVE.
	admin := pgConnect(t, env.Postgres.AdminURL, false)
	for _, q := range []string{"CREATE TABLE keep (v text)", "INSERT INTO keep VALUES ('still here')"} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	admin.Close(ctx)
	ropts, err := redis.ParseURL(env.Redis.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	ropts.Protocol = 2
	rdb := redis.NewClient(ropts)
	for _, cmd := range [][]any{
		{"ACL", "SETUSER", "tenant-keep", "on", ">keep-secret", "~t:keep:*", "-@all", "+get", "+set"},
		{"ACL", "SAVE"},
	} {
		if err := rdb.Do(ctx, cmd...).Err(); err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}
	rdb.Close()
	checkSurvivors := func(t *testing.T) {
		t.Helper()
		conn := pgConnect(t, env.Postgres.AdminURL, false)
		var v string
		if err := conn.QueryRow(ctx, "SELECT v FROM keep").Scan(&v); err != nil || v != "still here" {
			t.Errorf("row after restart = %q, %v", v, err)
		}
		c := redis.NewClient(&redis.Options{Addr: ropts.Addr, Protocol: 2, Username: "tenant-keep", Password: "keep-secret"})
		defer c.Close()
		if err := c.Set(ctx, "t:keep:a", "1", 0).Err(); err != nil {
			t.Errorf("ACL user after restart: SET in its keyspace: %v", err)
		}
		if err := c.Set(ctx, "other:a", "1", 0).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
			t.Errorf("ACL user after restart: SET outside its keyspace = %v, want NOPERM", err)
		}
	}

	t.Run("killed postgres is recovered by up", func(t *testing.T) {
		pg := p.service(first, "postgres")
		if err := syscall.Kill(pg.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "status notices the dead postgres", func() error {
			st, code := p.status()
			if s := p.service(st, "postgres"); code == 0 || s.State != devplatform.StateStopped {
				return fmt.Errorf("status exit %d, postgres %+v", code, s)
			}
			return nil
		})
		r := p.mustRun("dev", "up")
		if !strings.Contains(r.stderr, "postgres: ready") {
			t.Errorf("up did not restart postgres:\n%s", r.stderr)
		}
		st, code := p.status()
		if code != 0 {
			t.Fatalf("status after recovery exits %d: %+v", code, st)
		}
		if now := p.service(st, "postgres"); now.PID == pg.PID {
			t.Errorf("postgres pid unchanged (%d) after kill and up", now.PID)
		}
		if r := p.service(st, "redis"); r.PID != p.service(first, "redis").PID {
			t.Errorf("up restarted redis too (pid %d -> %d)", p.service(first, "redis").PID, r.PID)
		}
		checkSurvivors(t)
	})

	t.Run("data survives down and up", func(t *testing.T) {
		p.mustRun("dev", "down")
		if left := p.processes(); len(left) > 0 {
			t.Fatalf("processes left after down: %v", left)
		}
		r := p.mustRun("dev", "up")
		if strings.Contains(r.stderr, "initdb") {
			t.Errorf("up after down ran initdb again:\n%s", r.stderr)
		}
		if got := p.env(); got != env {
			t.Errorf("env changed across down and up:\n%+v\n%+v", got, env)
		}
		checkSurvivors(t)
	})

	t.Run("stale postmaster.pid after a reboot", func(t *testing.T) {
		st, _ := p.status()
		pg := p.service(st, "postgres")
		if err := syscall.Kill(pg.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "postgres gone", func() error {
			if alive(pg.PID) {
				return fmt.Errorf("pid %d alive", pg.PID)
			}
			return nil
		})
		// After a reboot the PID in postmaster.pid may belong to anything:
		// make it a live process that is not this cluster's postmaster.
		pidFile := p.home + "/platform/postgres/data/postmaster.pid"
		if err := rewriteFirstLine(pidFile, fmt.Sprint(syscall.Getpid())); err != nil {
			t.Fatal(err)
		}
		p.mustRun("dev", "up")
		conn := pgConnect(t, env.Postgres.AdminURL, false)
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM keep").Scan(&n); err != nil || n != 1 {
			t.Errorf("after recovery: %d rows, %v", n, err)
		}
		if !alive(syscall.Getpid()) {
			t.Error("the unrelated process named in postmaster.pid was harmed")
		}
	})
}
