package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/tenantstack/tenantstack/internal/rotate"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/stacks/tenant/tenantprogram"
)

// The phases of a rotation under way, as Rotation.Pending.Phase records
// them. A rotation with no pending phase is complete.
const (
	// RotationAdded: the new credential is valid beside the old one; the
	// credentials (Secret, outputs) still name the old one.
	RotationAdded = "added"
	// RotationSwitched: the credentials name the new one; the old one is
	// still valid until the grace ends (or --finish).
	RotationSwitched = "switched"
	// RotationRevoked: the old one is refused (only in reports).
	RotationRevoked = "revoked"
)

// The rotation records of a tenant's stack (tenantprogram's).
type (
	Rotation           = tenantprogram.Rotation
	PendingRotation    = tenantprogram.PendingRotation
	RevokedCredentials = tenantprogram.RevokedCredentials
)

// RotationInfo is what get and list show of a tenant's rotations: times
// and names, never a password.
type RotationInfo struct {
	PostgresUser    string    `json:"postgresUser" yaml:"postgresUser"`
	PostgresRotated time.Time `json:"postgresRotated,omitzero" yaml:"postgresRotated,omitempty"`
	RedisRotated    time.Time `json:"redisRotated,omitzero" yaml:"redisRotated,omitempty"`
	// Phase is the rotation under way (added or switched), empty when none.
	Phase       string    `json:"phase,omitempty" yaml:"phase,omitempty"`
	RevokeAfter time.Time `json:"revokeAfter,omitzero" yaml:"revokeAfter,omitempty"`
}

func rotationInfo(r *Rotation, c Credentials) *RotationInfo {
	if r == nil {
		return nil
	}
	i := &RotationInfo{PostgresUser: c.Postgres.User, PostgresRotated: r.PostgresRotated, RedisRotated: r.RedisRotated}
	if r.Pending != nil {
		i.Phase, i.RevokeAfter = r.Pending.Phase, r.Pending.RevokeAfter
	}
	return i
}

// RotateOptions say what Rotate does.
type RotateOptions struct {
	Name string
	// Postgres and Redis choose what to rotate; neither means both.
	Postgres, Redis bool
	// Grace is how long the old credential stays valid after the switch;
	// 0 revokes it right after.
	Grace time.Duration
	// NoRevoke leaves the old credential valid until Finish.
	NoRevoke bool
	// Finish revokes the old credential of the rotation under way now.
	Finish bool
	// Now is the clock; tests set it. Default time.Now.
	Now func() time.Time
}

func (o *RotateOptions) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

// RotateReport says what a rotation did.
type RotateReport struct {
	Tenant string `json:"tenant"`
	// Phase is where the rotation stands: switched (the old credential is
	// still valid) or revoked (done).
	Phase       string    `json:"phase"`
	Postgres    bool      `json:"postgres"`
	Redis       bool      `json:"redis"`
	OldUser     string    `json:"old_user,omitempty"`
	NewUser     string    `json:"new_user,omitempty"`
	Switched    time.Time `json:"switched,omitzero"`
	RevokeAfter time.Time `json:"revoke_after,omitzero"`
	Revoked     time.Time `json:"revoked,omitzero"`
	// OldSessions were still open on the old login role when it was
	// revoked, and were ended.
	OldSessions int `json:"old_sessions"`
	// Resumed: this run completed a rotation an earlier run had started.
	Resumed bool `json:"resumed,omitempty"`
}

// Rotate rotates a tenant's credentials in two phases, so that no login is
// refused: the new credential is made valid beside the old one, then the
// credentials Secret and outputs name it (and the workload's pods roll),
// and only after the grace is the old one revoked (its sessions ended).
// PostgreSQL alternates between the tenant's two login roles, Redis keeps
// two passwords on its ACL user. Every phase is recorded in the stack, so a
// rotation interrupted anywhere is completed by running Rotate again; a new
// rotation while one is under way completes that one instead.
func (s *Service) Rotate(ctx context.Context, o RotateOptions, progress io.Writer) (*RotateReport, error) {
	if !o.Postgres && !o.Redis {
		o.Postgres, o.Redis = true, true
	}
	if o.Grace < 0 {
		return nil, fmt.Errorf("%w: the grace %s is negative; use 0 to revoke right after the switch", ErrInvalid, o.Grace)
	}
	r, err := s.openRotation(ctx, o, progress)
	if err != nil {
		return nil, err
	}
	if err := r.toSwitched(ctx); err != nil {
		return nil, err
	}
	if r.rep.Phase == RotationSwitched && !r.cur.Rotation.Pending.RevokeAfter.IsZero() || o.Finish {
		if err := r.waitAndRevoke(ctx); err != nil {
			return nil, err
		}
	}
	return r.rep, nil
}

// rotation is one tenant's rotation in progress through its phases.
type rotation struct {
	s        *Service
	st       auto.Stack
	cur      *state
	plat     *Platform
	o        RotateOptions
	rep      *RotateReport
	progress io.Writer
}

// openRotation reads the tenant, refuses what cannot be rotated, and adds
// the new credential unless a rotation is already under way.
func (s *Service) openRotation(ctx context.Context, o RotateOptions, progress io.Writer) (*rotation, error) {
	st, cur, err := s.current(ctx, o.Name)
	if err != nil {
		return nil, err
	}
	switch {
	case cur.Status == StatusSuspended:
		return nil, fmt.Errorf("%w: tenant %q is suspended, so nothing logs in with its credentials; resume it first (\"tenantctl resume %s\") and then rotate",
			ErrInvalid, o.Name, o.Name)
	case cur.Moving != "":
		return nil, fmt.Errorf("%w: tenant %q is moving to or from the %s tier; finish or abort the move (\"tenantctl move %s\") before rotating",
			ErrInvalid, o.Name, cur.Moving, o.Name)
	}
	plat, err := s.platform(ctx)
	if err != nil {
		return nil, err
	}
	if o.Postgres && (cur.Rotation == nil || !cur.Rotation.AlternateLogin) {
		ready, err := rotate.SecondLoginReady(ctx, plat.PostgresAdminURL, plat.Database)
		if err != nil {
			return nil, err
		}
		if !ready {
			return nil, fmt.Errorf("%w: the platform's contract predates rotation (app.current_tenant() does not know a tenant's second login role); "+
				"run \"tenantctl platform up\" to apply it, then rotate %s", ErrInvalid, o.Name)
		}
	}
	if err := s.recover(ctx, st, progress); err != nil {
		return nil, err
	}
	r := &rotation{s: s, st: st, cur: cur, plat: plat, o: o, progress: progress, rep: &RotateReport{Tenant: o.Name}}
	if cur.Rotation != nil && cur.Rotation.Pending != nil {
		p := cur.Rotation.Pending
		r.rep.Resumed = true
		r.rep.Postgres, r.rep.Redis = p.Postgres, p.Redis
		if !o.Finish && (p.Postgres != o.Postgres || p.Redis != o.Redis) {
			printf(progress, "%s: completing the rotation started at %s first (%s); run rotate again afterwards for the rest\n",
				o.Name, p.Started.Format(time.RFC3339), what(p.Postgres, p.Redis))
		} else {
			printf(progress, "%s: completing the rotation started at %s (phase %s)\n", o.Name, p.Started.Format(time.RFC3339), p.Phase)
		}
		return r, nil
	}
	if o.Finish {
		return nil, fmt.Errorf("%w: tenant %q has no rotation under way to finish; \"tenantctl rotate %s\" starts one", ErrInvalid, o.Name, o.Name)
	}
	r.rep.Postgres, r.rep.Redis = o.Postgres, o.Redis
	return r, r.add(ctx)
}

// what names the credentials a rotation covers.
func what(pg, redis bool) string {
	switch {
	case pg && redis:
		return "PostgreSQL and Redis"
	case pg:
		return "PostgreSQL"
	}
	return "Redis"
}

// add makes the new credential valid beside the old one. The credentials
// do not change yet, so an interruption here loses nothing: the next run
// starts again with other new passwords.
func (r *rotation) add(ctx context.Context) error {
	next := *r.cur
	rot := Rotation{}
	if r.cur.Rotation != nil {
		rot = *r.cur.Rotation
	}
	p := &PendingRotation{Phase: RotationAdded, Postgres: r.o.Postgres, Redis: r.o.Redis, Started: r.o.now()}
	var err error
	if p.Postgres {
		rot.AlternateLogin = true
		if p.StandbyPostgresPassword, err = newPassword(); err != nil {
			return err
		}
	}
	if p.Redis {
		if p.StandbyRedisPassword, err = newPassword(); err != nil {
			return err
		}
	}
	rot.Pending = p
	next.Rotation = &rot
	printf(r.progress, "%s: adding a new %s credential beside the current one\n", r.o.Name, what(p.Postgres, p.Redis))
	return r.up(ctx, next)
}

// toSwitched points the credentials at the new credential (a pending
// rotation in phase added), keeping the old one valid as the standby.
func (r *rotation) toSwitched(ctx context.Context) error {
	rot := *r.cur.Rotation
	p := *rot.Pending
	oldUser := r.cur.Credentials.Postgres.User
	if p.Phase != RotationAdded {
		r.report(oldUser)
		return nil
	}
	next := *r.cur
	now := r.o.now()
	if p.Postgres {
		next.Credentials.Postgres.Password, p.StandbyPostgresPassword = p.StandbyPostgresPassword, r.cur.Credentials.Postgres.Password
		rot.PostgresLogin = 1 - rot.PostgresLogin
		rot.PostgresRotated = now
	}
	if p.Redis {
		next.Credentials.Redis.Password, p.StandbyRedisPassword = p.StandbyRedisPassword, r.cur.Credentials.Redis.Password
		rot.RedisRotated = now
	}
	p.Phase, p.Switched = RotationSwitched, now
	switch {
	case r.o.NoRevoke:
		p.RevokeAfter = time.Time{}
	default:
		p.RevokeAfter = now.Add(r.o.Grace)
	}
	rot.Revision = now.Format(time.RFC3339)
	rot.Pending = &p
	next.Rotation = &rot
	printf(r.progress, "%s: switching the credentials Secret to the new credential (the old one stays valid)\n", r.o.Name)
	if err := r.up(ctx, next); err != nil {
		return err
	}
	r.report(oldUser)
	return nil
}

// report fills the report from the recorded state.
func (r *rotation) report(oldUser string) {
	p := r.cur.Rotation.Pending
	r.rep.Phase = RotationSwitched
	r.rep.NewUser = r.cur.Credentials.Postgres.User
	r.rep.OldUser = oldUser
	if p.Postgres && oldUser == r.rep.NewUser {
		r.rep.OldUser = tenantspec.LoginRoleName(r.o.Name, 1-r.cur.Rotation.PostgresLogin)
	}
	if !p.Postgres {
		r.rep.OldUser = ""
	}
	r.rep.Switched, r.rep.RevokeAfter = p.Switched, p.RevokeAfter
}

// waitAndRevoke waits out the grace and then revokes the old credential.
func (r *rotation) waitAndRevoke(ctx context.Context) error {
	p := r.cur.Rotation.Pending
	oldRole := tenantspec.LoginRoleName(r.o.Name, 1-r.cur.Rotation.PostgresLogin)
	if !r.o.Finish && time.Now().Before(p.RevokeAfter) {
		left := time.Until(p.RevokeAfter).Round(time.Second)
		printf(r.progress, "%s: the old credential stays valid for %s (until %s); run \"tenantctl rotate %s --finish\" to revoke it sooner\n",
			r.o.Name, left, p.RevokeAfter.Format(time.RFC3339), r.o.Name)
		last := -1
		_, err := rotate.WaitGrace(ctx, r.plat.PostgresAdminURL, oldRole, p.RevokeAfter, 5*time.Second, func(open int, left time.Duration) {
			if p.Postgres && open != last && left > 0 {
				printf(r.progress, "%s: %d session(s) still use %s, %s left\n", r.o.Name, open, oldRole, left.Round(time.Second))
				last = open
			}
		})
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("stopped while waiting to revoke the old credential of %q, which is still valid; run \"tenantctl rotate %s\" again to complete it: %w", r.o.Name, r.o.Name, err)
			}
			return err
		}
	}
	return r.revoke(ctx, oldRole)
}

// revoke makes the old credential invalid: the old login role can no
// longer log in and has no password, Redis keeps the new password only,
// and the old role's sessions (PgBouncer's pooled ones too) are ended.
func (r *rotation) revoke(ctx context.Context, oldRole string) error {
	rot := *r.cur.Rotation
	p := rot.Pending
	now := r.o.now()
	revoked := &RevokedCredentials{Revoked: now}
	if p.Postgres {
		revoked.PostgresUser, revoked.PostgresPassword = oldRole, p.StandbyPostgresPassword
	}
	if p.Redis {
		revoked.RedisPassword = p.StandbyRedisPassword
	}
	rot.Pending, rot.Revoked = nil, revoked
	next := *r.cur
	next.Rotation = &rot
	printf(r.progress, "%s: revoking the old %s credential\n", r.o.Name, what(p.Postgres, p.Redis))
	if err := r.up(ctx, next); err != nil {
		return err
	}
	if p.Postgres {
		n, err := rotate.EndSessions(ctx, r.plat.PostgresAdminURL, oldRole)
		if err != nil {
			return fmt.Errorf("the old login %s of %q is revoked (new logins are refused) but its open sessions could not all be ended; "+
				"end them as the admin with: SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '%s': %w", oldRole, r.o.Name, oldRole, err)
		}
		r.rep.OldSessions = n
		if n > 0 {
			printf(r.progress, "%s: ended %d session(s) still open as %s\n", r.o.Name, n, oldRole)
		}
	}
	r.rep.Phase, r.rep.Revoked = RotationRevoked, now
	return nil
}

// up runs the stack to next and makes it the current state.
func (r *rotation) up(ctx context.Context, next state) error {
	if _, err := r.s.convergeState(ctx, r.st, r.cur, next, r.progress); err != nil {
		return err
	}
	// The component names the login; read it back rather than guess.
	cur, err := readState(ctx, r.st)
	if err != nil {
		return err
	}
	if cur == nil {
		return fmt.Errorf("tenant %q has no recorded state after its rotation step; run \"tenantctl rotate %s\" again", r.o.Name, r.o.Name)
	}
	r.cur = cur
	return nil
}

// RotateDueOptions say which tenants RotateDue rotates and how.
type RotateDueOptions struct {
	// OlderThan selects the tenants whose oldest credential was last
	// rotated (or created) longer ago than this.
	OlderThan time.Duration
	// Postgres, Redis, Grace and NoRevoke are as in RotateOptions.
	Postgres, Redis bool
	Grace           time.Duration
	NoRevoke        bool
	Now             func() time.Time
}

// RotateDueReport is the result of RotateDue: a report per rotated tenant,
// and the tenants skipped or failed with why.
type RotateDueReport struct {
	Rotated []*RotateReport   `json:"rotated"`
	Skipped map[string]string `json:"skipped,omitempty"`
	Failed  map[string]string `json:"failed,omitempty"`
}

// RotateDue rotates every active tenant whose credentials are older than
// o.OlderThan. All of them switch first, then one grace passes for all,
// then all are revoked: the fleet waits once, not once per tenant. A
// rotation already under way is completed whatever its age.
func (s *Service) RotateDue(ctx context.Context, o RotateDueOptions, progress io.Writer) (*RotateDueReport, error) {
	if o.OlderThan <= 0 {
		return nil, fmt.Errorf("%w: --older-than must be positive, such as 30d", ErrInvalid)
	}
	if !o.Postgres && !o.Redis {
		o.Postgres, o.Redis = true, true
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	rep := &RotateDueReport{Skipped: map[string]string{}, Failed: map[string]string{}}
	var runs []*rotation
	for _, t := range all {
		if t.Status != StatusActive {
			rep.Skipped[t.Name] = fmt.Sprintf("status %s", t.Status)
			continue
		}
		full, err := s.Get(ctx, t.Name)
		if err != nil {
			rep.Failed[t.Name] = err.Error()
			continue
		}
		age := credentialAge(full, o.Postgres, o.Redis, now())
		pending := full.Rotation != nil && full.Rotation.Phase != ""
		if !pending && age < o.OlderThan {
			continue
		}
		ro := RotateOptions{Name: t.Name, Postgres: o.Postgres, Redis: o.Redis, Grace: o.Grace, NoRevoke: o.NoRevoke, Now: o.Now}
		r, err := s.openRotation(ctx, ro, progress)
		if err == nil {
			err = r.toSwitched(ctx)
		}
		if err != nil {
			rep.Failed[t.Name] = err.Error()
			continue
		}
		runs = append(runs, r)
	}
	// The latest deadline first is waited for once; the others have
	// passed by then.
	sort.Slice(runs, func(i, j int) bool {
		return runs[i].cur.Rotation.Pending.RevokeAfter.Before(runs[j].cur.Rotation.Pending.RevokeAfter)
	})
	for _, r := range runs {
		if !r.cur.Rotation.Pending.RevokeAfter.IsZero() {
			if err := r.waitAndRevoke(ctx); err != nil {
				rep.Failed[r.o.Name] = err.Error()
				continue
			}
		}
		rep.Rotated = append(rep.Rotated, r.rep)
	}
	return rep, nil
}

// credentialAge is how long ago the oldest of the chosen credentials was
// last rotated, counting from the tenant's creation when never.
func credentialAge(t *Tenant, pg, redis bool, now time.Time) time.Duration {
	oldest := now
	pick := func(at time.Time) {
		if at.IsZero() {
			at = t.Created
		}
		if at.Before(oldest) {
			oldest = at
		}
	}
	var r RotationInfo
	if t.Rotation != nil {
		r = *t.Rotation
	}
	if pg {
		pick(r.PostgresRotated)
	}
	if redis {
		pick(r.RedisRotated)
	}
	return now.Sub(oldest)
}

// revokedCredentials is the credential the last rotation revoked, as a
// client would have used it, for the probes that prove it is refused.
func revokedCredentials(cur Credentials, rev *RevokedCredentials) (Credentials, error) {
	old := cur
	old.Postgres.Password, old.Postgres.URL, old.Postgres.PoolerURL = "", "", ""
	if rev.PostgresPassword != "" {
		old.Postgres.User, old.Postgres.Password = rev.PostgresUser, rev.PostgresPassword
		var err error
		if old.Postgres.URL, err = withLogin(cur.Postgres.URL, rev.PostgresUser, rev.PostgresPassword); err != nil {
			return Credentials{}, err
		}
		if old.Postgres.PoolerURL, err = withLogin(cur.Postgres.PoolerURL, rev.PostgresUser, rev.PostgresPassword); err != nil {
			return Credentials{}, err
		}
	}
	old.Redis.Password = rev.RedisPassword
	return old, nil
}

// withLogin is raw with its user and password replaced.
func withLogin(raw, user, password string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("the tenant's recorded URL does not parse: %w", err)
	}
	u.User = url.UserPassword(user, password)
	return u.String(), nil
}
