package fleet

import (
	"strings"
	"testing"
	"time"

	"github.com/tenantstack/tenantstack/components/tenant"
)

func TestRotationApply(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		rot                    *Rotation
		wantAlt                bool
		wantLogin              int
		wantPGStandby, wantRSt bool
	}{
		{name: "never rotated", rot: nil},
		{name: "added", rot: &Rotation{AlternateLogin: true, Pending: &PendingRotation{Phase: RotationAdded, Postgres: true, Redis: true,
			StandbyPostgresPassword: "new-pg-password-0123", StandbyRedisPassword: "new-redis-password-0"}},
			wantAlt: true, wantPGStandby: true, wantRSt: true},
		{name: "switched, Redis only", rot: &Rotation{AlternateLogin: true, PostgresLogin: 1, Pending: &PendingRotation{Phase: RotationSwitched, Redis: true,
			StandbyRedisPassword: "old-redis-password-0"}},
			wantAlt: true, wantLogin: 1, wantRSt: true},
		{name: "done", rot: &Rotation{AlternateLogin: true, PostgresLogin: 1, Revoked: &RevokedCredentials{PostgresPassword: "x"}},
			wantAlt: true, wantLogin: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a tenant.TenantStackArgs
			tc.rot.Apply(&a)
			if a.AlternateLogin != tc.wantAlt || a.PostgresLogin != tc.wantLogin {
				t.Errorf("alternate %v login %d, want %v %d", a.AlternateLogin, a.PostgresLogin, tc.wantAlt, tc.wantLogin)
			}
			if (a.StandbyPostgresPassword != nil) != tc.wantPGStandby || (a.StandbyRedisPassword != nil) != tc.wantRSt {
				t.Errorf("standby passwords pg %v redis %v, want %v %v", a.StandbyPostgresPassword != nil, a.StandbyRedisPassword != nil, tc.wantPGStandby, tc.wantRSt)
			}
		})
	}
}

func TestRevokedCredentials(t *testing.T) {
	cur := Credentials{Tenant: "acme", Postgres: PostgresCredentials{User: "tenant_acme-2", Password: "new",
		URL: "postgres://tenant_acme-2:new@127.0.0.1:5432/platform", PoolerURL: "postgres://tenant_acme-2:new@127.0.0.1:6432/platform"},
		Redis: RedisCredentials{Username: "tenant-acme", Password: "newr"}}
	old, err := revokedCredentials(cur, &RevokedCredentials{PostgresUser: "tenant_acme", PostgresPassword: "o/ld@", RedisPassword: "oldr"})
	if err != nil {
		t.Fatal(err)
	}
	if old.Postgres.URL != "postgres://tenant_acme:o%2Fld%40@127.0.0.1:5432/platform" || !strings.Contains(old.Postgres.PoolerURL, ":6432/") {
		t.Errorf("URLs %q %q", old.Postgres.URL, old.Postgres.PoolerURL)
	}
	if old.Redis.Password != "oldr" || old.Redis.Username != "tenant-acme" {
		t.Errorf("redis %+v", old.Redis)
	}
	// A Redis-only rotation probes no PostgreSQL login.
	old, _ = revokedCredentials(cur, &RevokedCredentials{RedisPassword: "oldr"})
	if old.Postgres.URL != "" || old.Postgres.Password != "" {
		t.Errorf("a Redis-only rotation left a PostgreSQL login to probe: %+v", old.Postgres)
	}
}

func TestCredentialAge(t *testing.T) {
	now := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	created := now.Add(-40 * 24 * time.Hour)
	rotated := now.Add(-2 * 24 * time.Hour)
	never := &Tenant{Created: created}
	pgOnly := &Tenant{Created: created, Rotation: &RotationInfo{PostgresRotated: rotated}}
	for _, tc := range []struct {
		name      string
		t         *Tenant
		pg, redis bool
		want      time.Duration
	}{
		{"never rotated counts from creation", never, true, true, 40 * 24 * time.Hour},
		{"postgres rotated, asked for postgres", pgOnly, true, false, 2 * 24 * time.Hour},
		{"postgres rotated, redis never", pgOnly, true, true, 40 * 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := credentialAge(tc.t, tc.pg, tc.redis, now); got != tc.want {
				t.Errorf("age %s, want %s", got, tc.want)
			}
		})
	}
}
