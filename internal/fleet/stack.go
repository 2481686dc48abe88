package fleet

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/tenantstack/tenantstack/stacks/tenant/tenantprogram"
)

// state is what a tenant stack records in its outputs (see
// tenantprogram.State).
type state = tenantprogram.State

// workDir is the tenant stack's Automation API work directory. One per
// stack, so concurrent operations on different tenants share no lock.
func (s *Service) workDir(name string) string {
	return filepath.Join(s.eng.Home, "workspaces", s.Platform, "tenant-"+name)
}

func (s *Service) stackName(name string) string {
	// Tenant stacks of different platforms (environments) live side by
	// side in one backend.
	return s.Platform + "-" + name
}

// selectStack opens the tenant's stack with program; ErrNotFound if it does
// not exist (and then it leaves nothing behind).
func (s *Service) selectStack(ctx context.Context, name string) (auto.Stack, error) {
	dir := s.workDir(name)
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return auto.Stack{}, err
	}
	st, err := auto.SelectStackInlineSource(ctx, s.stackName(name), TenantProject, nil, s.wsOpts(dir)...)
	if err != nil {
		if auto.IsSelectStack404Error(err) {
			if statErr != nil {
				os.RemoveAll(dir)
			}
			return auto.Stack{}, fmt.Errorf("%w: no tenant %q on platform %q; \"tenantctl list\" shows the tenants", ErrNotFound, name, s.Platform)
		}
		return auto.Stack{}, fmt.Errorf("opening the stack of tenant %q: %w", name, err)
	}
	return st, nil
}

func (s *Service) wsOpts(dir string) []auto.LocalWorkspaceOption {
	return append(s.eng.Workspace(dir), auto.Project(workspace.Project{
		Name:    TenantProject,
		Runtime: workspace.NewProjectRuntimeInfo("go", nil),
	}))
}

// readState returns the tenant's recorded state, or nil if its stack has
// no outputs yet (a create that never finished).
func readState(ctx context.Context, st auto.Stack) (*state, error) {
	outs, err := st.Outputs(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := outs["spec"]; !ok {
		return nil, nil
	}
	var out state
	if err := decodeOutputs(outs, &out); err != nil {
		return nil, fmt.Errorf("the outputs of stack %q are not a tenant's: %w", st.Name(), err)
	}
	return &out, nil
}

// converge runs `up` on the tenant's stack so that it matches spec and
// status, reusing the passwords already recorded.
func (s *Service) converge(ctx context.Context, st auto.Stack, prev *state, spec Spec, status Status, progress io.Writer) (*Tenant, error) {
	next := state{Spec: spec, Status: status}
	if prev != nil {
		// A change during a tier move keeps the move's other copy, and
		// every change keeps the rotation's logins.
		next.Moving = prev.Moving
		next.Rotation = prev.Rotation
	}
	return s.convergeState(ctx, st, prev, next, progress)
}

// convergeState runs `up` on the tenant's stack so that it records next
// (its spec, status and move), reusing the passwords already recorded.
func (s *Service) convergeState(ctx context.Context, st auto.Stack, prev *state, next state, progress io.Writer, extra ...optup.Option) (*Tenant, error) {
	if err := s.setProgram(ctx, st, prev, &next); err != nil {
		return nil, err
	}
	spec, status := next.Spec, next.Status
	events, wait := progressEvents(progress, spec.Name)
	packs, err := s.policyPacks()
	if err != nil {
		return nil, err
	}
	opts := append([]optup.Option{optup.EventStreams(events)}, extra...)
	if len(packs) > 0 {
		opts = append(opts, optup.PolicyPacks(packs...))
	}
	_, err = st.Up(ctx, opts...)
	wait()
	if err != nil {
		return nil, s.explainUpError(spec.Name, err)
	}
	t := &Tenant{Spec: spec, Status: status, Created: next.Created, Updated: time.Now().UTC().Truncate(time.Second)}
	return t, nil
}

// setProgram gives st the tenant program that records next, with the
// passwords prev recorded (new ones for a new tenant).
func (s *Service) setProgram(ctx context.Context, st auto.Stack, prev *state, next *state) error {
	plat, err := s.platform(ctx)
	if err != nil {
		return err
	}
	next.Created = time.Now().UTC().Truncate(time.Second)
	// A rotation passes the new passwords in next; everything else keeps
	// the recorded ones.
	pgPass, redisPass := next.Credentials.Postgres.Password, next.Credentials.Redis.Password
	if prev != nil {
		next.Created = prev.Created
		pgPass = orDefault(pgPass, prev.Credentials.Postgres.Password)
		redisPass = orDefault(redisPass, prev.Credentials.Redis.Password)
	}
	if pgPass == "" {
		if pgPass, err = newPassword(); err != nil {
			return err
		}
	}
	if redisPass == "" {
		if redisPass, err = newPassword(); err != nil {
			return err
		}
	}
	// Only the passwords are chosen here; the rest of the credentials are
	// the component's outputs (see credentialsOutput).
	next.Credentials = Credentials{
		Postgres: PostgresCredentials{Password: pgPass},
		Redis:    RedisCredentials{Password: redisPass},
	}
	st.Workspace().SetProgram(tenantProgram(*next, plat))
	return nil
}

func (s *Service) explainUpError(name string, err error) error {
	if auto.IsConcurrentUpdateError(err) {
		return fmt.Errorf("another operation on tenant %q is running; wait for it, or if it was killed run the same command again: %w", name, err)
	}
	return fmt.Errorf("pulumi up of tenant %q failed; fix the cause and run the same command again to complete it: %w", name, err)
}

// Create onboards a tenant. Running it again after an interruption completes it.
func (s *Service) Create(ctx context.Context, spec Spec, progress io.Writer) (*Tenant, error) {
	if err := ValidateSpec(&spec); err != nil {
		return nil, err
	}
	if _, err := s.platform(ctx); err != nil {
		return nil, err
	}
	// A new tenant (the common case) costs one failed select and one
	// create; only a stack that already exists is read and recovered.
	st, err := s.selectStack(ctx, spec.Name)
	switch {
	case errors.Is(err, ErrNotFound):
		dir := s.workDir(spec.Name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		st, err = auto.NewStackInlineSource(ctx, s.stackName(spec.Name), TenantProject, nil, s.wsOpts(dir)...)
		if auto.IsCreateStack409Error(err) {
			return nil, fmt.Errorf("%w: tenant %q is being created by another tenantctl right now", ErrExists, spec.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("creating the stack of tenant %q: %w", spec.Name, err)
		}
	case err != nil:
		return nil, err
	default:
		prev, err := readState(ctx, st)
		if err != nil {
			return nil, err
		}
		if prev != nil {
			// A create whose schema migration failed is completed by
			// running it again.
			if t, err := s.completeSchema(ctx, spec.Name, progress); t != nil || err != nil {
				return t, err
			}
			return nil, fmt.Errorf("%w: tenant %q already exists (tier %s); use \"tenantctl get %s\" to see it or \"tenantctl update %s\" to change it",
				ErrExists, spec.Name, prev.Spec.Tier, spec.Name, spec.Name)
		}
		if err := s.recover(ctx, st, progress); err != nil {
			return nil, err
		}
	}
	t, err := s.converge(ctx, st, nil, spec, StatusActive, progress)
	if err != nil {
		return nil, err
	}
	if err := s.bringToFleet(ctx, spec.Name, progress); err != nil {
		return nil, err
	}
	return t, s.addSchemaVersions(ctx, t)
}

// completeSchema brings an existing tenant whose schema is behind the
// fleet's version or whose last migration failed; nil, nil when there is
// nothing to complete.
func (s *Service) completeSchema(ctx context.Context, name string, progress io.Writer) (*Tenant, error) {
	plat, err := s.platform(ctx)
	if err != nil || plat.Migrations == "" {
		return nil, err
	}
	versions, err := s.schemaVersions(ctx, plat)
	if err != nil {
		return nil, err
	}
	if v, ok := versions[name]; !ok || v.State == "current" {
		return nil, nil
	}
	if err := s.bringToFleet(ctx, name, progress); err != nil {
		return nil, err
	}
	return s.Get(ctx, name)
}

// Get returns one tenant.
func (s *Service) Get(ctx context.Context, name string) (*Tenant, error) {
	if err := validateName(name); err != nil {
		return nil, err
	}
	st, err := s.selectStack(ctx, name)
	if err != nil {
		return nil, err
	}
	cur, err := readState(ctx, st)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return &Tenant{Spec: Spec{Name: name}, Status: StatusIncomplete}, nil
	}
	t := &Tenant{Spec: cur.Spec, Status: cur.Status, Created: cur.Created, Moving: cur.Moving, Rotation: rotationInfo(cur.Rotation, cur.Credentials)}
	if sum, err := st.Info(ctx); err == nil {
		if sum.ResourceCount != nil {
			t.Resources = *sum.ResourceCount
		}
		if u, err := time.Parse(time.RFC3339, sum.LastUpdate); err == nil {
			t.Updated = u.UTC()
		}
	}
	if err := s.addSchemaVersions(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// addSchemaVersions fills in the tenants' schema versions, when the
// platform has an application schema.
func (s *Service) addSchemaVersions(ctx context.Context, tenants ...*Tenant) error {
	plat, err := s.platform(ctx)
	if err != nil || plat.Migrations == "" {
		return err
	}
	versions, err := s.schemaVersions(ctx, plat)
	if err != nil {
		return fmt.Errorf("reading the tenants' schema versions: %w", err)
	}
	for _, t := range tenants {
		if v, ok := versions[t.Name]; ok {
			t.SchemaVersion, t.SchemaState = v.Version, v.State
		}
	}
	return nil
}

// current opens an existing, completely created tenant.
func (s *Service) current(ctx context.Context, name string) (auto.Stack, *state, error) {
	if err := validateName(name); err != nil {
		return auto.Stack{}, nil, err
	}
	st, err := s.selectStack(ctx, name)
	if err != nil {
		return auto.Stack{}, nil, err
	}
	cur, err := readState(ctx, st)
	if err != nil {
		return auto.Stack{}, nil, err
	}
	if cur == nil {
		return auto.Stack{}, nil, fmt.Errorf("%w: the creation of tenant %q did not finish; run \"tenantctl create %s --tier TIER\" again to complete it",
			ErrInvalid, name, name)
	}
	return st, cur, nil
}

// Update changes quotas, flags and workload; a tier change is refused.
func (s *Service) Update(ctx context.Context, spec Spec, progress io.Writer) (*Tenant, error) {
	if err := ValidateSpec(&spec); err != nil {
		return nil, err
	}
	st, cur, err := s.current(ctx, spec.Name)
	if err != nil {
		return nil, err
	}
	if spec.Tier != cur.Spec.Tier {
		return nil, fmt.Errorf("%w: update does not change the tier of %q (%s to %s): move the live tenant with \"tenantctl move %s --tier %s\"",
			ErrInvalid, spec.Name, cur.Spec.Tier, spec.Tier, spec.Name, spec.Tier)
	}
	if err := s.recover(ctx, st, progress); err != nil {
		return nil, err
	}
	if reflect.DeepEqual(spec, cur.Spec) {
		// Nothing asked to change (--reconcile): read every resource back
		// first, so that what was changed by hand (tenantctl drift) is put
		// back too.
		return s.convergeState(ctx, st, cur, state{Spec: spec, Status: cur.Status, Moving: cur.Moving, Rotation: cur.Rotation}, progress, optup.Refresh())
	}
	return s.converge(ctx, st, cur, spec, cur.Status, progress)
}

// Suspend disables the tenant's logins, ends its sessions and scales its
// workload to zero, keeping its data.
func (s *Service) Suspend(ctx context.Context, name string, progress io.Writer) (*Tenant, error) {
	return s.setStatus(ctx, name, StatusSuspended, progress)
}

// Resume undoes Suspend, and cancels the purge of a tenant deleted with
// a retention period (delete --retain).
func (s *Service) Resume(ctx context.Context, name string, progress io.Writer) (*Tenant, error) {
	t, err := s.setStatus(ctx, name, StatusActive, progress)
	if err != nil {
		return nil, err
	}
	cancelled, err := s.cancelRetention(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("tenant %q is active again, but its pending purge could not be cancelled; run resume again: %w", name, err)
	}
	if cancelled {
		printf(progress, "%s: the pending purge is cancelled (its archive is kept)\n", name)
	}
	return t, nil
}

func (s *Service) setStatus(ctx context.Context, name string, status Status, progress io.Writer) (*Tenant, error) {
	st, cur, err := s.current(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := s.recover(ctx, st, progress); err != nil {
		return nil, err
	}
	t, err := s.converge(ctx, st, cur, cur.Spec, status, progress)
	if err != nil {
		return nil, err
	}
	if status == StatusSuspended {
		// Disabling a login does not end sessions already open.
		plat, err := s.platform(ctx)
		if err != nil {
			return nil, err
		}
		if err := endSessions(ctx, plat, cur.Credentials); err != nil {
			return nil, fmt.Errorf("tenant %q is suspended but its open sessions could not all be ended; run suspend again: %w", name, err)
		}
	}
	return t, nil
}

// Credentials returns the tenant's own logins.
func (s *Service) Credentials(ctx context.Context, name string) (*Credentials, error) {
	_, cur, err := s.current(ctx, name)
	if err != nil {
		return nil, err
	}
	return &cur.Credentials, nil
}

// destroy removes every resource of the tenant's stack, then the stack.
func (s *Service) destroy(ctx context.Context, st auto.Stack, name string, progress io.Writer) error {
	if err := s.recover(ctx, st, progress); err != nil {
		return err
	}
	events, wait := progressEvents(progress, name)
	_, err := st.Destroy(ctx, optdestroy.EventStreams(events))
	wait()
	if err != nil {
		return fmt.Errorf("destroying tenant %q failed; run the same delete again to finish it: %w", name, err)
	}
	if err := st.Workspace().RemoveStack(ctx, st.Name()); err != nil {
		return fmt.Errorf("removing the stack of tenant %q: %w", name, err)
	}
	return os.RemoveAll(s.workDir(name))
}

func newPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
