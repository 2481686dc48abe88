package devplatform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sys/unix"
)

// PostgreSQL: our own cluster made by initdb, on 127.0.0.1 only, SCRAM
// passwords for every connection, no Unix socket (so two platforms never
// meet in /var/run/postgresql).

func (p *Platform) postgresService() *service {
	l := p.layout
	return &service{
		name:    "postgres",
		program: "postgres",
		marker:  l.pgData(),
		// Fast shutdown: SIGTERM ("smart") would wait for every client,
		// including PgBouncer's pooled connections, to leave.
		stopSig: syscall.SIGINT,
		grace:   60 * time.Second,
		ports:   func() []listener { return []listener{{"postgres", p.state().Ports.Postgres}} },
		address: func() string { return loopback(p.state().Ports.Postgres) },
		prepare: p.preparePostgres,
		spec: func() procSpec {
			return procSpec{bin: p.bins.postgres, args: []string{"-D", l.pgData()}, dir: l.pgDir(), cred: p.cred()}
		},
		check: func(ctx context.Context) (string, error) {
			return pgVersion(ctx, postgresURL(p.state().Postgres, p.state().Ports.Postgres), false)
		},
		// After a crash the killed postmaster's children may still hold its
		// shared memory for a moment; they exit on their own.
		retry: func(log string) bool { return strings.Contains(log, "pre-existing shared memory block") },
	}
}

// postgresConf is written on every start, so it always matches the state
// file; postgresql.conf includes it.
func postgresConf(port int) string {
	return fmt.Sprintf(`# Written by "tenantctl dev up" before every start from the platform's
# state.json; use ALTER SYSTEM for other settings.
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = ''
password_encryption = 'scram-sha-256'
# Every tenant has its own login role (each with a CONNECTION LIMIT) and
# PgBouncer keeps a pool per role: tests with hundreds of tenants need room.
max_connections = 300
shared_buffers = 32MB
max_wal_size = 256MB
# Per-role statement counts and times for "tenantctl usage".
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = top
# Crash recovery syncs the data directory: one syncfs is much faster than
# an fsync per file.
recovery_init_sync_method = syncfs
# Commits stay synchronous: a killed postgres (or "dev up" recovering a
# crash) must not lose a transaction it acknowledged.
logging_collector = off
log_destination = 'stderr'
log_line_prefix = '%%m [%%p] %%q%%u@%%d '
log_timezone = 'UTC'
timezone = 'UTC'
`, port)
}

const pgHBA = `# Written by "tenantctl dev up": SCRAM passwords, loopback TCP only.
host all all 127.0.0.1/32 scram-sha-256
`

func (p *Platform) preparePostgres(ctx context.Context) error {
	l := p.layout
	if err := p.mkdirOwned(l.pgDir()); err != nil {
		return err
	}
	if !fileExists(filepath.Join(l.pgData(), "PG_VERSION")) {
		// A data directory without PG_VERSION is what an interrupted initdb leaves.
		if err := os.RemoveAll(l.pgData()); err != nil {
			return err
		}
		pwfile := filepath.Join(l.pgDir(), ".initdb-password")
		if err := p.writeOwned(pwfile, []byte(p.state().Postgres.Password+"\n")); err != nil {
			return err
		}
		defer os.Remove(pwfile)
		p.progressf("postgres: creating a cluster in %s (initdb)", l.pgData())
		err := runOnce(ctx, procSpec{
			bin: p.bins.initdb,
			args: []string{"-D", l.pgData(), "--username=" + p.state().Postgres.User, "--pwfile=" + pwfile,
				"--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"},
			dir:  l.pgDir(),
			cred: p.cred(),
		}, l.log("initdb"))
		if err != nil {
			return err
		}
		conf := filepath.Join(l.pgData(), "postgresql.conf")
		f, err := os.OpenFile(conf, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		_, err = f.WriteString("\n# Added by tenantctl dev up.\ninclude = 'tenantstack.conf'\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	if err := p.writeOwned(filepath.Join(l.pgData(), "tenantstack.conf"), []byte(postgresConf(p.state().Ports.Postgres))); err != nil {
		return err
	}
	if err := p.writeOwned(filepath.Join(l.pgData(), "pg_hba.conf"), []byte(pgHBA)); err != nil {
		return err
	}
	return removeStalePostmasterPID(ctx, l.pgData())
}

// removeStalePostmasterPID deletes postmaster.pid when the PID in it is not
// this cluster's live postmaster but PostgreSQL would think so: after a
// reboot the PID may belong to anything, and a killed postmaster stays a
// zombie until its new parent reaps it. A PID that no longer exists is left
// to PostgreSQL, which clears the lock itself after checking that no old
// backend still uses the cluster's shared memory. We make the same check
// before deleting: the lock names a System V segment, and while a process is
// attached to it, old backends still run on this data directory.
func removeStalePostmasterPID(ctx context.Context, data string) error {
	path := filepath.Join(data, "postmaster.pid")
	b, err := os.ReadFile(path)
	if isNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	lines := strings.Split(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
	if _, _, exists := procStat(pid); !exists || procMatches(pid, "postgres", data) {
		return nil
	}
	shmid := -1
	if len(lines) > 6 {
		if f := strings.Fields(lines[6]); len(f) == 2 {
			if id, err := strconv.Atoi(f[1]); err == nil {
				shmid = id
			}
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for shmid >= 0 {
		var ds unix.SysvShmDesc
		if _, err := unix.SysvShmCtl(shmid, unix.IPC_STAT, &ds); err != nil || ds.Nattch == 0 {
			break // gone (a reboot) or unused
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("old processes of the PostgreSQL cluster in %s still run (its shared memory %d is in use); stop them, then run \"tenantctl dev up\" again", data, shmid)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for old processes of the PostgreSQL cluster in %s to exit: %w", data, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := os.Remove(path); err != nil && !isNotExist(err) {
		return err
	}
	return nil
}

// pgVersion connects to url and asks the server's version: a real SQL round
// trip. simple selects the simple protocol, which PgBouncer's transaction
// pooling needs (1.18 does not track prepared statements).
func pgVersion(ctx context.Context, url string, simple bool) (string, error) {
	conn, err := pgConnect(ctx, url, simple)
	if err != nil {
		return "", err
	}
	defer closeConn(conn)
	var v string
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version')").Scan(&v); err != nil {
		return "", err
	}
	v, _, _ = strings.Cut(v, " ")
	return "PostgreSQL " + v, nil
}

func pgConnect(ctx context.Context, url string, simple bool) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if simple {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	}
	return pgx.ConnectConfig(ctx, cfg)
}

func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c.Close(ctx)
}

// PgBouncer: transaction pooling in front of PostgreSQL. Login roles made
// later by other tools (one per tenant) log in with their own passwords:
// PgBouncer looks their SCRAM secret up with auth_query, as the admin
// (auth_user), and the "*" entry routes any database name to the cluster.

func (p *Platform) pgbouncerService() *service {
	l := p.layout
	return &service{
		name:    "pgbouncer",
		program: "pgbouncer",
		marker:  l.pgbConfig(),
		after:   "postgres",
		stopSig: syscall.SIGTERM, // immediate shutdown; SIGINT waits for clients
		grace:   20 * time.Second,
		ports:   func() []listener { return []listener{{"pgbouncer", p.state().Ports.PgBouncer}} },
		address: func() string { return loopback(p.state().Ports.PgBouncer) },
		prepare: p.preparePgBouncer,
		spec: func() procSpec {
			return procSpec{bin: p.bins.pgbouncer, args: []string{l.pgbConfig()}, dir: l.pgbDir(), cred: p.cred()}
		},
		check: func(ctx context.Context) (string, error) {
			if _, err := pgVersion(ctx, poolerURL(p.state().Postgres, p.state().Ports.PgBouncer), true); err != nil {
				return "", err
			}
			return fmt.Sprintf("transaction pooling to %s", loopback(p.state().Ports.Postgres)), nil
		},
		verify: p.verifyNewRoleLogin,
	}
}

func pgbouncerINI(l layout, st *State) string {
	return fmt.Sprintf(`; Written by "tenantctl dev up" before every start.
[databases]
; Any database name goes to the platform cluster.
* = host=127.0.0.1 port=%d

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
pool_mode = transaction
auth_type = scram-sha-256
auth_file = %s
; Roles not in auth_file (every tenant's) are looked up as they log in.
auth_user = %s
auth_query = SELECT usename, passwd FROM pg_shadow WHERE usename=$1
admin_users = %s
stats_users = %s
max_client_conn = 2000
default_pool_size = 10
; Idle server connections go back soon: with hundreds of tenant roles, each
; pool would otherwise hold connections PostgreSQL needs for others.
server_idle_timeout = 15
; After PostgreSQL restarts, retry soon instead of refusing clients for 15s.
server_login_retry = 1
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
`, st.Ports.Postgres, st.Ports.PgBouncer, l.pgbUsers(), st.Postgres.User, st.Postgres.User, st.Postgres.User)
}

func (p *Platform) preparePgBouncer(context.Context) error {
	l, st := p.layout, p.state()
	if err := p.mkdirOwned(l.pgbDir()); err != nil {
		return err
	}
	// The admin's password in clear: PgBouncer needs it to log in as
	// auth_user. The file is 0600 in a 0700 directory.
	users := pgbQuote(st.Postgres.User) + " " + pgbQuote(st.Postgres.Password) + "\n"
	if err := p.writeOwned(l.pgbUsers(), []byte(users)); err != nil {
		return err
	}
	return p.writeOwned(l.pgbConfig(), []byte(pgbouncerINI(l, st)))
}

// verifyNewRoleLogin proves that a login role created after PgBouncer
// started can log in through it with its own password (PgBouncer looks its
// secret up with auth_query), then drops it. The role is granted CONNECT on
// the database it logs in to explicitly: the platform stack revokes CONNECT
// on "postgres" from PUBLIC, and the check must hold whatever the platform
// stack did to PUBLIC's privileges.
func (p *Platform) verifyNewRoleLogin(ctx context.Context) error {
	st := p.state()
	suffix, err := randomString("abcdefghijklmnopqrstuvwxyz0123456789", 10)
	if err != nil {
		return err
	}
	pass, err := password()
	if err != nil {
		return err
	}
	role := probeRolePrefix + suffix
	admin, err := pgConnect(ctx, postgresURL(st.Postgres, st.Ports.Postgres), false)
	if err != nil {
		return err
	}
	defer closeConn(admin)
	// Probe roles of an earlier check that was killed before its cleanup.
	dropProbeRoles(ctx, admin, "")
	defer dropProbeRoles(context.WithoutCancel(ctx), admin, role)
	ident := pgx.Identifier{role}.Sanitize()
	for _, q := range []string{
		"CREATE ROLE " + ident + " LOGIN CONNECTION LIMIT 2 PASSWORD '" + pass + "'",
		"GRANT CONNECT ON DATABASE postgres TO " + ident,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			return fmt.Errorf("creating probe role: %w", err)
		}
	}
	conn, err := pgConnect(ctx, poolerURL(Credentials{User: role, Password: pass}, st.Ports.PgBouncer), true)
	if err != nil {
		return fmt.Errorf("a new login role cannot log in through pgbouncer: %w%s", err, logTail(p.layout.log("pgbouncer")))
	}
	defer closeConn(conn)
	var who string
	if err := conn.QueryRow(ctx, "SELECT session_user").Scan(&who); err != nil {
		return fmt.Errorf("querying through pgbouncer as a new login role: %w", err)
	}
	if who != role {
		return fmt.Errorf("through pgbouncer, a new login role %s ran as %q", role, who)
	}
	return nil
}

// probeRolePrefix names the throwaway roles of verifyNewRoleLogin.
const probeRolePrefix = "tenantstack_probe_"

// dropProbeRoles ends the sessions of and drops the probe role named, or
// every probe role when role is empty. Best effort: a leftover is dropped by
// the next check.
func dropProbeRoles(ctx context.Context, admin *pgx.Conn, role string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var roles []string
	if role != "" {
		roles = []string{role}
	} else {
		rows, err := admin.Query(ctx, "SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)", probeRolePrefix)
		if err != nil {
			return
		}
		roles, _ = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	for _, r := range roles {
		ident := pgx.Identifier{r}.Sanitize()
		// PgBouncer may still hold a server connection as the role.
		admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", r)
		// DROP OWNED revokes the role's privileges on shared objects (the
		// CONNECT above), which DROP ROLE would otherwise refuse over.
		admin.Exec(ctx, "DROP OWNED BY "+ident)
		admin.Exec(ctx, "DROP ROLE IF EXISTS "+ident)
	}
}

// pgbQuote quotes s for PgBouncer's auth_file, where a quote is doubled.
func pgbQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
