package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// The actions a Plan names.
const (
	PlanCreate    = "create"
	PlanUpdate    = "update"
	PlanDelete    = "delete"
	PlanMove      = "move"
	PlanUnchanged = "unchanged"
	PlanDrift     = "drift"
)

// Change is one resource step of a preview.
type Change struct {
	// Op is Pulumi's step: create, update, replace, delete, or for a
	// drift report the change found by a refresh (update, delete).
	Op   string `json:"op"`
	Type string `json:"type"`
	Name string `json:"name"`
	// Diffs names the properties that change, where the provider says.
	Diffs []string `json:"diffs,omitempty"`
}

// Plan is what an operation would do to one tenant's stack, found by a
// Pulumi preview: nothing was changed to find it.
type Plan struct {
	Tenant  string   `json:"tenant"`
	Action  string   `json:"action"`
	Changes []Change `json:"changes"`
	// Notes say what the preview cannot show (a move's data copy).
	Notes []string `json:"notes,omitempty"`
	// Error is why this tenant could not be planned (apply plans go on
	// with the other tenants).
	Error string `json:"error,omitempty"`
}

// Count returns how many changes have op.
func (p *Plan) Count(op string) int {
	n := 0
	for _, c := range p.Changes {
		if c.Op == op {
			n++
		}
	}
	return n
}

// collectChanges returns an event channel for a preview and a function
// that, after the preview returned, gives the resource steps it planned.
// With refresh set the steps are those of a refresh: what changed outside
// Pulumi.
func collectChanges(refresh bool) (chan events.EngineEvent, func() []Change) {
	ch := make(chan events.EngineEvent)
	var mu sync.Mutex
	var out []Change
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range ch {
			var m *changeMeta
			switch {
			case !refresh && e.ResourcePreEvent != nil:
				md := e.ResourcePreEvent.Metadata
				m = &changeMeta{string(md.Op), md.Type, md.URN, md.Diffs}
			case refresh && e.ResOutputsEvent != nil:
				md := e.ResOutputsEvent.Metadata
				m = &changeMeta{string(md.Op), md.Type, md.URN, md.Diffs}
				if m.op == "refresh" {
					// A refresh step that found a difference says which
					// properties it found changed.
					m.op = "same"
					if len(md.Diffs) > 0 || len(md.DetailedDiff) > 0 {
						m.op = "update"
					}
					if md.New == nil && md.Old != nil {
						m.op = "delete"
					}
				}
			}
			if m == nil || m.op == "same" || m.op == "read" || strings.HasPrefix(m.typ, "pulumi:") {
				continue
			}
			mu.Lock()
			out = append(out, Change{Op: m.op, Type: m.typ, Name: urnName(m.urn), Diffs: m.diffs})
			mu.Unlock()
		}
	}()
	return ch, func() []Change {
		<-done
		mu.Lock()
		defer mu.Unlock()
		sort.SliceStable(out, func(i, j int) bool {
			if out[i].Type != out[j].Type {
				return out[i].Type < out[j].Type
			}
			return out[i].Name < out[j].Name
		})
		if out == nil {
			return []Change{}
		}
		return out
	}
}

type changeMeta struct {
	op, typ, urn string
	diffs        []string
}

// preview runs a preview of st with the program set for next, and returns
// its steps. The policy packs run too, so a plan shows what they refuse.
func (s *Service) preview(ctx context.Context, st auto.Stack, prev *state, next state, progress io.Writer) ([]Change, error) {
	packs, err := s.policyPacks()
	if err != nil {
		return nil, err
	}
	if err := s.setProgram(ctx, st, prev, &next); err != nil {
		return nil, err
	}
	ch, changes := collectChanges(false)
	pe, waitProgress := progressEvents(io.Discard, next.Spec.Name)
	fan := fanOut(ch, pe)
	opts := []optpreview.Option{optpreview.EventStreams(fan)}
	if len(packs) > 0 {
		opts = append(opts, optpreview.PolicyPacks(packs...))
	}
	_, err = st.Preview(ctx, opts...)
	got := changes()
	waitProgress()
	if err != nil {
		return got, fmt.Errorf("pulumi preview of tenant %q failed: %w", next.Spec.Name, err)
	}
	return got, nil
}

// fanOut returns a channel whose events go to every one of outs; it closes
// them when it is closed.
func fanOut(outs ...chan events.EngineEvent) chan events.EngineEvent {
	in := make(chan events.EngineEvent)
	go func() {
		for e := range in {
			for _, o := range outs {
				o <- e
			}
		}
		for _, o := range outs {
			close(o)
		}
	}()
	return in
}

// PlanCreate previews the onboarding of spec. The tenant's stack, when it
// does not exist yet, is made for the preview and removed after it.
func (s *Service) PlanCreate(ctx context.Context, spec Spec, progress io.Writer) (*Plan, error) {
	if err := ValidateSpec(&spec); err != nil {
		return nil, err
	}
	if _, err := s.platform(ctx); err != nil {
		return nil, err
	}
	st, err := s.selectStack(ctx, spec.Name)
	switch {
	case errors.Is(err, ErrNotFound):
		dir := s.workDir(spec.Name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		st, err = auto.NewStackInlineSource(ctx, s.stackName(spec.Name), TenantProject, nil, s.wsOpts(dir)...)
		if err != nil {
			return nil, fmt.Errorf("making a stack to preview tenant %q: %w", spec.Name, err)
		}
		defer func() {
			// The preview recorded nothing; the empty stack goes.
			_ = st.Workspace().RemoveStack(context.WithoutCancel(ctx), st.Name())
			_ = os.RemoveAll(dir)
		}()
	case err != nil:
		return nil, err
	default:
		prev, err := readState(ctx, st)
		if err != nil {
			return nil, err
		}
		if prev != nil {
			return nil, fmt.Errorf("%w: tenant %q already exists (tier %s); preview a change with \"tenantctl update %s ... --dry-run\"",
				ErrExists, spec.Name, prev.Spec.Tier, spec.Name)
		}
	}
	changes, err := s.preview(ctx, st, nil, state{Spec: spec, Status: StatusActive}, progress)
	if err != nil {
		return nil, err
	}
	return &Plan{Tenant: spec.Name, Action: PlanCreate, Changes: changes}, nil
}

// PlanUpdate previews Update(spec).
func (s *Service) PlanUpdate(ctx context.Context, spec Spec, progress io.Writer) (*Plan, error) {
	if err := ValidateSpec(&spec); err != nil {
		return nil, err
	}
	st, cur, err := s.current(ctx, spec.Name)
	if err != nil {
		return nil, err
	}
	if spec.Tier != cur.Spec.Tier {
		return nil, fmt.Errorf("%w: update does not change the tier of %q (%s to %s): preview a move with \"tenantctl move %s --tier %s --dry-run\"",
			ErrInvalid, spec.Name, cur.Spec.Tier, spec.Tier, spec.Name, spec.Tier)
	}
	changes, err := s.preview(ctx, st, cur, state{Spec: spec, Status: cur.Status, Moving: cur.Moving, Rotation: cur.Rotation}, progress)
	if err != nil {
		return nil, err
	}
	action := PlanUpdate
	if len(changes) == 0 {
		action = PlanUnchanged
	}
	return &Plan{Tenant: spec.Name, Action: action, Changes: changes}, nil
}

// PlanDelete previews the removal of a tenant's resources.
func (s *Service) PlanDelete(ctx context.Context, name string, progress io.Writer) (*Plan, error) {
	st, _, err := s.current(ctx, name)
	if err != nil {
		return nil, err
	}
	ch, changes := collectChanges(false)
	if _, err := st.PreviewDestroy(ctx, optdestroy.EventStreams(ch)); err != nil {
		changes()
		return nil, fmt.Errorf("pulumi preview of deleting tenant %q failed: %w", name, err)
	}
	return &Plan{Tenant: name, Action: PlanDelete, Changes: changes(),
		Notes: []string{"the tenant's rows in shared tables go too (they are not Pulumi resources)"}}, nil
}

// PlanApply previews Apply(file, prune): one plan per tenant the file or
// the fleet names, in name order. A tenant that cannot be planned has its
// Error set; the others are planned all the same.
func (s *Service) PlanApply(ctx context.Context, file FleetFile, prune bool, parallel int, progress io.Writer) ([]Plan, error) {
	seen, existing, have, err := s.fleetState(ctx, file, parallel)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var plans []Plan
	add := func(name, action string, p *Plan, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			plans = append(plans, Plan{Tenant: name, Action: action, Changes: []Change{}, Error: err.Error()})
			return
		}
		plans = append(plans, *p)
	}
	var jobs []func()
	for _, spec := range file.Tenants {
		cur, ok := have[spec.Name]
		switch {
		case !ok || cur.Status == StatusIncomplete:
			jobs = append(jobs, func() { p, err := s.PlanCreate(ctx, spec, progress); add(spec.Name, PlanCreate, p, err) })
		case reflect.DeepEqual(cur.Spec, spec):
			add(spec.Name, PlanUnchanged, &Plan{Tenant: spec.Name, Action: PlanUnchanged, Changes: []Change{}}, nil)
		case cur.Spec.Tier != spec.Tier:
			add(spec.Name, PlanUpdate, nil, fmt.Errorf("%w: the fleet file puts tenant %q on the %s tier, it is on the %s tier; apply does not move tenants: run \"tenantctl move %s --tier %s\"",
				ErrInvalid, spec.Name, spec.Tier, cur.Spec.Tier, spec.Name, spec.Tier))
		default:
			jobs = append(jobs, func() { p, err := s.PlanUpdate(ctx, spec, progress); add(spec.Name, PlanUpdate, p, err) })
		}
	}
	if prune {
		for _, t := range existing {
			if !seen[t.Name] {
				jobs = append(jobs, func() { p, err := s.PlanDelete(ctx, t.Name, progress); add(t.Name, PlanDelete, p, err) })
			}
		}
	}
	run(jobs, parallel)
	sort.Slice(plans, func(i, j int) bool { return plans[i].Tenant < plans[j].Tenant })
	if plans == nil {
		plans = []Plan{}
	}
	return plans, nil
}

// PlanMove previews a move of a tenant to tier: the refusals a move would
// make, and the stack's preview for its prepare phase (the target's
// schema or database, owner and grants). It takes no lock and writes
// nothing.
func (s *Service) PlanMove(ctx context.Context, name string, tier tenantspec.Tier, progress io.Writer) (*Plan, error) {
	if err := validateName(name); err != nil {
		return nil, err
	}
	if _, err := tenantspec.ParseTier(string(tier)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	st, cur, err := s.current(ctx, name)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Tenant: name, Action: PlanMove, Changes: []Change{}}
	if cur.Moving != "" {
		plan.Notes = append(plan.Notes, fmt.Sprintf("a move between the %s and %s tiers is under way; \"tenantctl get %s\" shows it", cur.Spec.Tier, cur.Moving, name))
		return plan, nil
	}
	if string(tier) == cur.Spec.Tier {
		plan.Action = PlanUnchanged
		plan.Notes = append(plan.Notes, fmt.Sprintf("already on the %s tier; nothing to do", tier))
		return plan, nil
	}
	if err := refuseDatabaseMove(name, tenantspec.Tier(cur.Spec.Tier), tier); err != nil {
		return nil, err
	}
	next := *cur
	next.Moving = tier
	if plan.Changes, err = s.preview(ctx, st, cur, next, progress); err != nil {
		return nil, err
	}
	plan.Notes = append(plan.Notes,
		fmt.Sprintf("prepare: the changes above make the %s copy; the tenant's rows are copied into it and kept in step by capture triggers", tier),
		"cutover: a write pause, final catch-up, counts and checksums compared, sequences advanced, the login switched, old sessions ended",
		fmt.Sprintf("finalize (with --finalize or later): the %s copy is removed", cur.Spec.Tier),
		"Redis and Kubernetes stay as they are")
	return plan, nil
}

// Drift refreshes the named tenants' stacks in preview mode: what their
// providers read from the live services that differs from what the stacks
// recorded (a role, grant or namespace changed by hand). Nothing is
// written, the stacks' state included. With no names, every tenant.
func (s *Service) Drift(ctx context.Context, names []string, parallel int, progress io.Writer) ([]Plan, error) {
	if parallel < 1 {
		return nil, fmt.Errorf("%w: --parallel must be at least 1", ErrInvalid)
	}
	if len(names) == 0 {
		all, err := s.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range all {
			names = append(names, t.Name)
		}
	}
	plans := make([]Plan, len(names))
	var jobs []func()
	for i, name := range names {
		jobs = append(jobs, func() {
			p, err := s.drift(ctx, name)
			if err != nil {
				plans[i] = Plan{Tenant: name, Action: PlanDrift, Changes: []Change{}, Error: err.Error()}
				return
			}
			plans[i] = *p
		})
	}
	run(jobs, parallel)
	return plans, nil
}

func (s *Service) drift(ctx context.Context, name string) (*Plan, error) {
	st, cur, err := s.current(ctx, name)
	if err != nil {
		return nil, err
	}
	// The refresh runs the providers' Read only; the program still has to
	// be set for the inline workspace.
	next := *cur
	if err := s.setProgram(ctx, st, cur, &next); err != nil {
		return nil, err
	}
	ch, changes := collectChanges(true)
	if _, err := st.PreviewRefresh(ctx, optrefresh.EventStreams(ch)); err != nil {
		changes()
		return nil, fmt.Errorf("refreshing tenant %q in preview mode failed: %w", name, err)
	}
	p := &Plan{Tenant: name, Action: PlanDrift, Changes: changes()}
	return p, nil
}

// ErrDrift marks a drift report that found a change made outside
// tenantstack.
var ErrDrift = errors.New("drift")
