// Package migrate implements `tenantctl migrate plan | up | status`: the
// application's schema rolled out across the fleet in waves, from the
// directory the platform stack names (config tenantstack:migrations).
package migrate

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	engine "github.com/tenantstack/tenantstack/internal/migrate"
	"github.com/tenantstack/tenantstack/internal/output"
)

// Engine is what the migrate verbs need of the migration engine.
type Engine interface {
	Plan(ctx context.Context, o engine.PlanOptions) (*engine.Plan, error)
	Up(ctx context.Context, o engine.UpOptions) (*engine.Report, error)
	Status(ctx context.Context) (*engine.Status, error)
	SetTimeouts(lock, statement time.Duration)
}

// Options holds the dependencies and flags of the migrate verbs.
type Options struct {
	IO     *cmdutil.IOStreams
	Engine func(ctx context.Context) (Engine, error)
	Format output.Format
	// ErrTerminal says whether progress (stderr) goes to a terminal.
	ErrTerminal bool

	Verb             string
	To               int64
	Contract         bool
	Canary           string
	Parallel         int
	ContinueOnError  bool
	Yes              bool
	LockTimeout      time.Duration
	StatementTimeout time.Duration
}

// NewCmdMigrate returns the migrate command and its verbs. runF, when not
// nil, receives the parsed options instead of running them (for tests).
func NewCmdMigrate(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Roll the application's schema out across the fleet",
		Long: `The application's migrations live in one directory of versioned SQL files
(golang-migrate NNNN_name.up.sql, or goose NNNN_name.sql with -- +goose Up),
named by the platform stack (tenantctl platform up --migrations DIR). Every
target gets the same tables: the shared schema app once for the shared tier,
each schema-tier tenant's schema and each database-tier tenant's database.
Each target migrates in one transaction as its owner role, so a failure
leaves it at its previous version; a re-run resumes where a rollout stopped.
A migration marked "-- tenantstack:contract" (it removes what older code
uses) is held back until every target has applied everything before it and
--contract is given.`,
	}
	newOpts := func(verb string) *Options {
		return &Options{
			IO:          f.IO,
			Verb:        verb,
			ErrTerminal: output.IsTerminal(f.IO.ErrOut),
			Engine: func(ctx context.Context) (Engine, error) {
				svc, err := f.Fleet()
				if err != nil {
					return nil, err
				}
				return svc.Migrator(ctx)
			},
		}
	}
	for _, v := range []struct{ use, short, example string }{
		{"plan", "Show what migrate up would run on which target; changes nothing", "  tenantctl migrate plan\n  tenantctl migrate plan --contract -o json"},
		{"up", "Apply pending migrations: a canary wave, then the rest in parallel", "  tenantctl migrate up\n  tenantctl migrate up --canary 3 --parallel 8 --yes\n  tenantctl migrate up --canary acme,globex --yes\n  tenantctl migrate up --contract --yes"},
		{"status", "Show each target's version, the tenants behind, failures and drift", "  tenantctl migrate status\n  tenantctl migrate status -o json"},
	} {
		opts := newOpts(v.use)
		c := &cobra.Command{
			Use:     v.use,
			Short:   v.short,
			Example: v.example,
			Args:    cobra.NoArgs,
			RunE: func(c *cobra.Command, _ []string) error {
				opts.Format = f.Format()
				if err := opts.validate(); err != nil {
					return err
				}
				return runF(c.Context(), opts)
			},
		}
		switch v.use {
		case "plan", "up":
			c.Flags().Int64Var(&opts.To, "to", 0, "stop at this version (default: the latest)")
			c.Flags().BoolVar(&opts.Contract, "contract", false, "let contract migrations run (every target must have applied everything before them)")
		}
		if v.use == "up" {
			c.Flags().StringVar(&opts.Canary, "canary", "1", "the first wave: a number of targets, or target names separated by commas; 0 skips it")
			c.Flags().IntVar(&opts.Parallel, "parallel", 4, "targets migrated at once after the canary")
			c.Flags().BoolVar(&opts.ContinueOnError, "continue-on-error", false, "go on after a failed target (by default no new target starts)")
			c.Flags().BoolVar(&opts.Yes, "yes", false, "go on after the canary without asking")
			c.Flags().DurationVar(&opts.LockTimeout, "lock-timeout", time.Second, "how long a target's statement waits for a lock a tenant's transaction holds before the target is retried")
			c.Flags().DurationVar(&opts.StatementTimeout, "statement-timeout", 5*time.Minute, "the longest one statement may run")
		}
		cmd.AddCommand(c)
	}
	return cmd
}

// validate checks the flags; it has no side effects.
func (o *Options) validate() error {
	if o.To < 0 {
		return cmdutil.Usagef("--to %d: give a version of the migrations directory", o.To)
	}
	if o.Verb != "up" {
		return nil
	}
	if o.Parallel < 1 {
		return cmdutil.Usagef("--parallel %d: give at least 1", o.Parallel)
	}
	if o.LockTimeout <= 0 || o.StatementTimeout <= 0 {
		return cmdutil.Usagef("--lock-timeout and --statement-timeout must be positive durations, e.g. 2s or 5m")
	}
	if _, _, err := o.canary(); err != nil {
		return err
	}
	if !o.Yes && !o.IO.InTerminal {
		return cmdutil.Usagef("migrate up asks before it goes on after the canary wave, and standard input is not a terminal; pass --yes")
	}
	return nil
}

// canary parses --canary: a count or names.
func (o *Options) canary() (int, []string, error) {
	s := strings.TrimSpace(o.Canary)
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			return 0, nil, cmdutil.Usagef("--canary %d: give 0 or more targets, or their names", n)
		}
		if n == 0 {
			return -1, nil, nil
		}
		return n, nil, nil
	}
	var names []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return 0, nil, cmdutil.Usagef("--canary %q: give a number of targets or their names separated by commas", o.Canary)
	}
	return 0, names, nil
}

func run(ctx context.Context, o *Options) error {
	e, err := o.Engine(ctx)
	if err != nil {
		return err
	}
	p := shared.Printer(o.IO, o.Format)
	switch o.Verb {
	case "plan":
		plan, err := e.Plan(ctx, engine.PlanOptions{To: o.To, Contract: o.Contract})
		if err != nil {
			return err
		}
		printPlanSummary(o.IO.ErrOut, plan)
		var rows [][]string
		for _, t := range plan.Targets {
			rows = append(rows, []string{t.Target, t.Tier, strconv.FormatInt(t.Current, 10), versions(t.Pending), tenants(t)})
		}
		return p.Print(plan, []string{"TARGET", "TIER", "CURRENT", "PENDING", "TENANTS"}, rows)
	case "up":
		return o.up(ctx, e, p)
	default:
		st, err := e.Status(ctx)
		if err != nil {
			return err
		}
		var rows [][]string
		for _, t := range st.Targets {
			state := "current"
			switch {
			case t.Failure != nil:
				state = "failed: " + t.Failure.Error()
			case t.Behind:
				state = "behind"
			}
			drift := "-"
			if len(t.Drift) > 0 {
				drift = strings.Join(t.Drift, "; ")
			}
			rows = append(rows, []string{t.Target, t.Tier, strconv.FormatInt(t.Version, 10), state, drift, strings.Join(t.Tenants, ",")})
		}
		fmt.Fprintf(o.IO.ErrOut, "fleet at version %d (directory %s, latest %d): %d targets, %d behind, %d failed, %d drifted\n",
			st.Fleet, st.Dir, st.Latest, len(st.Targets), st.Behind, st.Failed, st.Drifted)
		return p.Print(st, []string{"TARGET", "TIER", "VERSION", "STATE", "DRIFT", "TENANTS"}, rows)
	}
}

func (o *Options) up(ctx context.Context, e Engine, p output.Printer) error {
	n, names, _ := o.canary()
	prog := newProgress(o.IO.ErrOut, o.ErrTerminal)
	uo := engine.UpOptions{
		PlanOptions:     engine.PlanOptions{To: o.To, Contract: o.Contract},
		Canary:          n,
		CanaryNames:     names,
		Parallel:        o.Parallel,
		ContinueOnError: o.ContinueOnError,
		Progress:        prog,
	}
	if !o.Yes {
		uo.Confirm = func(canary []engine.TargetResult, rest int) (bool, error) {
			prog.pause()
			return shared.Confirm(o.IO, fmt.Sprintf("The canary wave (%d targets) passed. Migrate the other %d targets? Type \"yes\" to go on:", len(canary), rest), "yes")
		}
	}
	e.SetTimeouts(o.LockTimeout, o.StatementTimeout)
	rep, err := e.Up(ctx, uo)
	prog.finish()
	if err != nil {
		return err
	}
	printPlanSummary(o.IO.ErrOut, rep.Plan)
	var rows [][]string
	for _, r := range rep.Results {
		result := "ok"
		if r.Failure != nil {
			result = "FAILED: " + r.Failure.Error()
		}
		rows = append(rows, []string{r.Target, r.Tier, strconv.FormatInt(r.From, 10), strconv.FormatInt(r.To, 10), fmt.Sprintf("%.2f", r.Seconds), result})
	}
	if err := p.Print(rep, []string{"TARGET", "TIER", "FROM", "TO", "SECONDS", "RESULT"}, rows); err != nil {
		return err
	}
	failed := rep.Failed()
	if rep.Stopped != "" {
		fmt.Fprintln(o.IO.ErrOut, rep.Stopped)
	}
	if len(failed) > 0 {
		msgs := make([]string, len(failed))
		for i, f := range failed {
			msgs[i] = f.Failure.Error()
		}
		return fmt.Errorf("%d of %d targets failed and stay at their previous version; fix the cause and run \"tenantctl migrate up\" again to resume:\n  %s",
			len(failed), len(rep.Results), strings.Join(msgs, "\n  "))
	}
	if rep.Stopped != "" {
		return fmt.Errorf("%w: %s", cmdutil.ErrCancelled, rep.Stopped)
	}
	fmt.Fprintf(o.IO.ErrOut, "%d targets migrated to version %d in %.1fs\n", len(rep.Results), rep.Plan.Goal, rep.Seconds)
	return nil
}

func printPlanSummary(w io.Writer, plan *engine.Plan) {
	fmt.Fprintf(w, "directory %s: latest version %d; fleet at %d; goal %d; %d of %d targets have migrations pending\n",
		plan.Dir, plan.Latest, plan.Fleet, plan.Goal, plan.PendingTargets(), len(plan.Targets))
	if len(plan.Held) > 0 {
		fmt.Fprintf(w, "held back: %s (%s)\n", versions(plan.Held), plan.HeldWhy)
	}
}

func versions(v []int64) string {
	if len(v) == 0 {
		return "-"
	}
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatInt(x, 10)
	}
	return strings.Join(s, ",")
}

func tenants(t engine.TargetPlan) string {
	if len(t.Tenants) == 0 {
		return "-"
	}
	if len(t.Tenants) > 5 {
		return strings.Join(t.Tenants[:5], ",") + fmt.Sprintf(",... (%d)", len(t.Tenants))
	}
	return strings.Join(t.Tenants, ",")
}
