package devplatform

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

func TestURLs(t *testing.T) {
	c := Credentials{User: "admin", Password: "s3cret"}
	if got, want := postgresURL(c, 15432), "postgres://admin:s3cret@127.0.0.1:15432/postgres"; got != want {
		t.Errorf("postgresURL = %q, want %q", got, want)
	}
	if got, want := redisURL(c, 16379), "redis://admin:s3cret@127.0.0.1:16379"; got != want {
		t.Errorf("redisURL = %q, want %q", got, want)
	}
}

func TestURLEscaping(t *testing.T) {
	tests := []struct {
		name, user, pass, wantPG string
	}{
		{"at, slash, colon, question", "adm@in", "p@ss/w:rd?#", "postgres://adm%40in:p%40ss%2Fw%3Ard%3F%23@127.0.0.1:5/postgres"},
		{"space and percent", "a", "50% off", "postgres://a:50%25%20off@127.0.0.1:5/postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Credentials{User: tt.user, Password: tt.pass}
			got := postgresURL(c, 5)
			if got != tt.wantPG {
				t.Errorf("postgresURL = %q, want %q", got, tt.wantPG)
			}
			cfg, err := pgx.ParseConfig(got)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.User != tt.user || cfg.Password != tt.pass || cfg.Port != 5 || cfg.Database != "postgres" {
				t.Errorf("pgx reads user %q password %q port %d db %q", cfg.User, cfg.Password, cfg.Port, cfg.Database)
			}
			ropt, err := redis.ParseURL(redisURL(c, 6))
			if err != nil {
				t.Fatal(err)
			}
			if ropt.Username != tt.user || ropt.Password != tt.pass || ropt.Addr != "127.0.0.1:6" {
				t.Errorf("go-redis reads user %q password %q addr %q", ropt.Username, ropt.Password, ropt.Addr)
			}
			u, err := url.Parse(redisURL(c, 6))
			if err != nil {
				t.Fatal(err)
			}
			if p, _ := u.User.Password(); p != tt.pass {
				t.Errorf("net/url reads password %q", p)
			}
		})
	}
}

func TestEnvJSONShape(t *testing.T) {
	st := testState(t)
	st.Postgres.Password, st.Redis.Password = "pgpw", "rpw"
	b, err := json.Marshal(envOf(st, layout{dir: "/h/platform"}))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"postgres":{"admin_url":"postgres://admin:pgpw@127.0.0.1:1001/postgres","pooler_url":"postgres://admin:pgpw@127.0.0.1:1002/postgres"},` +
		`"redis":{"admin_url":"redis://admin:rpw@127.0.0.1:1003"},"kubernetes":{"kubeconfig":"/h/platform/kubernetes/admin.kubeconfig"}}`
	if string(b) != want {
		t.Errorf("env JSON =\n%s\nwant\n%s", b, want)
	}
}
