package probe

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

func TestPolicyProblems(t *testing.T) {
	t.Parallel()
	tenantPolicy := tablePolicy{Name: "tenant_isolation", Permissive: true, Cmd: "*",
		Qual: "(tenant_id = app.current_tenant())", Check: "(tenant_id = app.current_tenant())"}
	tests := []struct {
		name            string
		enabled, forced bool
		policies        []tablePolicy
		want            []string
	}{
		{"isolated", true, true, []tablePolicy{tenantPolicy}, nil},
		{"restrictive extra policy only narrows", true, true,
			[]tablePolicy{tenantPolicy, {Name: "r", Permissive: false, Cmd: "r", Qual: "true"}}, nil},
		{"disabled", false, true, []tablePolicy{tenantPolicy}, []string{"row-level security is disabled"}},
		{"not forced", true, false, []tablePolicy{tenantPolicy}, []string{"not forced"}},
		{"policy dropped", true, true, nil, []string{"no policy for all commands keyed on app.current_tenant()"}},
		{"open permissive policy", true, true,
			[]tablePolicy{tenantPolicy, {Name: "open", Permissive: true, Cmd: "r", Qual: "true"}}, []string{"permissive policy open lets rows through with USING true"}},
		{"insert policy without check", true, true,
			[]tablePolicy{tenantPolicy, {Name: "ins", Permissive: true, Cmd: "a"}}, []string{"permissive policy ins has no condition"}},
		{"check not keyed", true, true,
			[]tablePolicy{{Name: "tenant_isolation", Permissive: true, Cmd: "*", Qual: "(tenant_id = app.current_tenant())", Check: "true"}},
			[]string{"accepts rows WITH CHECK true", "no policy for all commands"}},
	}
	for _, tt := range tests {
		got := policyProblems("app.t", tt.enabled, tt.forced, tt.policies)
		if len(got) != len(tt.want) {
			t.Errorf("%s: problems %q, want %d", tt.name, got, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(got[i], w) || !strings.HasPrefix(got[i], "app.t: ") {
				t.Errorf("%s: problem %q, want it to name the table and say %q", tt.name, got[i], w)
			}
		}
	}
}

func TestPostgresClassification(t *testing.T) {
	t.Parallel()
	pgErr := func(code, msg string) error {
		return fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code, Message: msg})
	}
	tests := []struct {
		name                 string
		err                  error
		denied, loginRefused bool
	}{
		{"no privilege", pgErr("42501", "permission denied for table t"), true, true},
		{"rls check", pgErr("42501", "new row violates row-level security policy"), true, true},
		{"no pg_hba entry", pgErr("28000", "no pg_hba.conf entry"), false, true},
		{"pgbouncer relays", errors.New(`FATAL: permission denied for database "x" (SQLSTATE 08P01)`), false, true},
		{"pgbouncer retry window", errors.New("server login has been failing, try again later (server_login_retry)"), false, true},
		{"wrong password", pgErr("28P01", "password authentication failed"), false, false},
		{"no such database", pgErr("3D000", `database "x" does not exist`), false, false},
		{"network", errors.New("dial tcp: connection refused"), false, false},
	}
	for _, tt := range tests {
		if got := denied(tt.err); got != tt.denied {
			t.Errorf("%s: denied = %v", tt.name, got)
		}
		if got := connectRefused(tt.err); got != tt.loginRefused {
			t.Errorf("%s: connectRefused = %v", tt.name, got)
		}
	}
	if got := pgMessage(&pgconn.PgError{Message: "permission denied for database \"x\"", Detail: "User does not have CONNECT privilege."}); got != `permission denied for database "x" (User does not have CONNECT privilege.)` {
		t.Errorf("pgMessage = %q", got)
	}
}

func TestTenantConnConfig(t *testing.T) {
	t.Parallel()
	creds := tenantspec.PostgresCredentials{Host: "10.0.0.5", Port: 5432, Database: "platform", User: "tenant_a", Password: "p@ss/word",
		PoolerURL: "postgres://tenant_a:pw@pgbouncer:6432/platform"}
	direct := &tenantConns{creds: creds}
	cfg, err := direct.config("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "10.0.0.5" || cfg.Port != 5432 || cfg.User != "tenant_a" || cfg.Password != "p@ss/word" || cfg.Database != "platform" {
		t.Errorf("built from host and port: %s@%s:%d/%s (password %q)", cfg.User, cfg.Host, cfg.Port, cfg.Database, cfg.Password)
	}
	if cfg.DefaultQueryExecMode != pgx.QueryExecModeSimpleProtocol || cfg.ConnectTimeout != 10*time.Second {
		t.Errorf("exec mode %v, timeout %v", cfg.DefaultQueryExecMode, cfg.ConnectTimeout)
	}
	pooled := &tenantConns{creds: creds, pooled: true}
	cfg, err = pooled.config("tenant_b")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "pgbouncer" || cfg.Port != 6432 || cfg.Database != "tenant_b" || cfg.ConnectTimeout != pooledConnectTimeout {
		t.Errorf("pooled: %s:%d/%s timeout %v", cfg.Host, cfg.Port, cfg.Database, cfg.ConnectTimeout)
	}
	creds.PoolerURL = ""
	if _, err := (&tenantConns{creds: creds, pooled: true}).config(""); err == nil {
		t.Error("a pooled config without a pooler URL succeeded")
	}
	creds.URL = "postgres://tenant_a:secret-pw@host:5432/db?sslmode=bogus"
	_, err = (&tenantConns{creds: creds}).config("")
	if err == nil || strings.Contains(err.Error(), "secret-pw") {
		t.Errorf("bad URL: error %v must exist and not echo the password", err)
	}
}

func TestRedisClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err     error
		refused bool
	}{
		{errors.New("NOPERM this user has no permissions to run the 'keys' command"), true},
		{errors.New("ERR BY option of SORT denied due to insufficient ACL permissions."), true},
		{errors.New("This user has no permissions to run the 'flushall' command"), true},
		{errors.New("ERR The user executing the script can't access at least one of the keys"), false},
		{errors.New("NOAUTH Authentication required."), false},
		{errors.New("WRONGPASS invalid username-password pair"), false},
		{redis.Nil, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := redisRefused(tt.err); got != tt.refused {
			t.Errorf("redisRefused(%v) = %v", tt.err, got)
		}
	}
	if got := commandString([]any{"EVAL", "return 1", "0"}); got != `EVAL "return 1" 0` {
		t.Errorf("commandString = %q", got)
	}
	keys := []any{"t:b:1", "t:b:2", "t:c:1", "t:c:2", "t:d:1", "t:d:2"}
	if got := describeReply([]any{"0", keys}); got != " and got 6 entries (t:b:1, t:b:2, t:c:1, t:c:2, t:d:1)" {
		t.Errorf("describeReply(SCAN) = %q", got)
	}
	if got := describeReply(int64(42)); got != " and got 42" {
		t.Errorf("describeReply(DBSIZE) = %q", got)
	}
	if !slices.ContainsFunc(dryRunCommands, func(c []string) bool { return c[0] == "FLUSHALL" }) {
		t.Error("FLUSHALL must be asked with ACL DRYRUN, never run")
	}
	for _, c := range liveCommands {
		if s := fmt.Sprint(c[0]); s == "FLUSHALL" || s == "FLUSHDB" || s == "SHUTDOWN" || s == "MONITOR" {
			t.Errorf("%s is run live; it must only be asked with ACL DRYRUN", s)
		}
	}
}
