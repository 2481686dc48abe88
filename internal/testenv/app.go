package testenv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// App is a tenant's application, as the move tests and benchmark run it:
// a writer and a reader logged in as the tenant through PgBouncer, running
// until Stop. It behaves as a careful application does: it retries a
// transaction that failed with serialization_failure (40001), it reads its
// credentials again when its login is refused (a move to or from the
// database tier changes the database it connects to, as its credentials
// Secret would say), and after a lost connection it checks whether its
// write committed before it writes again. Everything else is a failure.
//
// The writer books one account with one transaction (the ledger example's
// trigger adds it to the balance) per write, each with a unique name; the
// reader counts the accounts it sees and the ones that are not the
// tenant's.
type App struct {
	Tenant string
	// Credentials returns the tenant's current credentials.
	Credentials func() (tenantspec.Credentials, error)
	// Amount is booked per write.
	Amount int64
	// Prefix starts the names of the accounts it writes; each run of an
	// App against one tenant needs its own.
	Prefix string
	// Refresh, when set, is how often each session reads Credentials
	// again; when they changed, the session logs in with the new ones and
	// closes the old login between two statements, as a pod restarted
	// onto a rotated credentials Secret does. Default: only after a
	// refused login.
	Refresh time.Duration

	mu       sync.Mutex
	stats    AppStats
	stop     context.CancelFunc
	stopping context.Context
	wg       sync.WaitGroup
}

// AppStats is what the application saw.
type AppStats struct {
	Written      []string      // names of the accounts whose write committed
	Retries      int           // transactions retried after 40001
	WriteErrors  []string      // writes that failed otherwise
	Reads        int           // reads that succeeded
	ReadErrors   []string      // reads that failed
	Refused      int           // logins refused (then the credentials are read again)
	Switches     int           // logins moved to changed credentials (Refresh)
	Reconnects   int           // connections lost and opened again
	ForeignRows  int64         // rows of other tenants any read saw
	LongestWrite time.Duration // the longest a write took, retries included
	LongestRead  time.Duration
	// LongestWriteAt is when the longest write started.
	LongestWriteAt time.Time
}

// Start logs the writer and the reader in, then starts them: what they
// see is counted from their first statement, not from the first login.
func (a *App) Start(ctx context.Context) error {
	// Statements run to their end when the App stops (so every write
	// that commits is counted); only the loops look at stop.
	stopping, stop := context.WithCancel(ctx)
	a.stop = stop
	a.stopping = stopping
	ctx = context.WithoutCancel(ctx)
	w, r := &session{a: a}, &session{a: a}
	for _, s := range []*session{w, r} {
		if _, err := s.get(ctx); err != nil {
			w.close()
			stop()
			return fmt.Errorf("logging the application in as tenant %q: %w", a.Tenant, err)
		}
	}
	a.wg.Add(2)
	go func() { defer a.wg.Done(); defer w.close(); a.writer(ctx, w) }()
	go func() { defer a.wg.Done(); defer r.close(); a.reader(ctx, r) }()
	return nil
}

// Stop stops them and returns what they saw.
func (a *App) Stop() AppStats {
	a.stop()
	a.wg.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

func (a *App) note(f func(*AppStats)) {
	a.mu.Lock()
	f(&a.stats)
	a.mu.Unlock()
}

// session is one login of the application, reconnecting as needed.
type session struct {
	a       *App
	conn    *pgx.Conn
	url     string
	checked time.Time
}

func (s *session) get(ctx context.Context) (*pgx.Conn, error) {
	if s.a.Refresh > 0 && s.conn != nil && time.Since(s.checked) >= s.a.Refresh {
		s.checked = time.Now()
		if c, err := s.a.Credentials(); err == nil && c.Postgres.PoolerURL != s.url {
			s.close()
			s.a.note(func(st *AppStats) { st.Switches++ })
		}
	}
	for s.conn == nil || s.conn.IsClosed() {
		c, err := s.a.Credentials()
		if err != nil {
			return nil, err
		}
		cfg, err := pgx.ParseConfig(c.Postgres.PoolerURL)
		if err != nil {
			return nil, err
		}
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			s.conn, s.url, s.checked = conn, c.Postgres.PoolerURL, time.Now()
			break
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !refusedLogin(err) {
			return nil, err
		}
		s.a.note(func(st *AppStats) { st.Refused++ })
		time.Sleep(50 * time.Millisecond)
	}
	return s.conn, nil
}

func (s *session) close() {
	if s.conn != nil {
		s.conn.Close(context.Background())
		s.conn = nil
	}
}

// lost says the session is gone; the next get opens another.
func (s *session) lost() {
	if s.conn != nil {
		s.conn.Close(context.Background())
		s.conn = nil
	}
	s.a.note(func(st *AppStats) { st.Reconnects++ })
}

// refusedLogin is a login the server (or PgBouncer relaying it) refused.
func refusedLogin(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "permission denied for database") || strings.Contains(msg, "server_login_retry") ||
		strings.Contains(msg, "does not exist") && strings.Contains(msg, "database")
}

// connectionLost is an error after which the session cannot be used.
func connectionLost(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Severity == "FATAL" || strings.HasPrefix(pg.Code, "08") || pg.Code == "57P01"
	}
	// Not the server's answer: the connection broke (EOF, reset).
	return true
}

func (a *App) writer(ctx context.Context, s *session) {
	for i := 0; a.stopping.Err() == nil; i++ {
		name := fmt.Sprintf("app-%s%d", a.Prefix, i)
		start := time.Now()
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := a.write(wctx, s, name)
		cancel()
		took := time.Since(start)
		a.note(func(st *AppStats) {
			if err != nil {
				st.WriteErrors = append(st.WriteErrors, fmt.Sprintf("%s: %v", name, err))
				return
			}
			st.Written = append(st.Written, name)
			if took > st.LongestWrite {
				st.LongestWrite, st.LongestWriteAt = took, start
			}
		})
		time.Sleep(2 * time.Millisecond)
	}
}

// write commits one write, retrying what is safe to retry.
func (a *App) write(ctx context.Context, s *session, name string) error {
	for {
		conn, err := s.get(ctx)
		if err != nil {
			return err
		}
		_, err = conn.Exec(ctx, `WITH a AS (INSERT INTO accounts (name, currency) VALUES ($1, 'EUR') RETURNING id)
			INSERT INTO transactions (account_id, amount_minor) SELECT id, $2 FROM a`, name, a.Amount)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		var pg *pgconn.PgError
		if errors.As(err, &pg) && pg.Code == "40001" {
			a.note(func(st *AppStats) { st.Retries++ })
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !connectionLost(err) {
			return err
		}
		// The write may have committed before the connection went.
		s.lost()
		if conn, err = s.get(ctx); err != nil {
			return err
		}
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE name = $1`, name).Scan(&n); err != nil {
			return fmt.Errorf("checking whether a write committed after a lost connection: %w", err)
		}
		if n > 0 {
			return nil
		}
	}
}

func (a *App) reader(ctx context.Context, s *session) {
	for a.stopping.Err() == nil {
		start := time.Now()
		conn, err := s.get(ctx)
		var all, foreign int64
		if err == nil {
			err = conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE tenant_id <> $1) FROM accounts`, a.Tenant).Scan(&all, &foreign)
			if err != nil && connectionLost(err) {
				s.lost()
				continue // a read is safe to run again
			}
		}
		took := time.Since(start)
		a.note(func(st *AppStats) {
			if err != nil {
				st.ReadErrors = append(st.ReadErrors, err.Error())
				return
			}
			st.Reads++
			st.ForeignRows += foreign
			if took > st.LongestRead {
				st.LongestRead = took
			}
		})
		time.Sleep(2 * time.Millisecond)
	}
}
