// Package move implements "tenantctl move": move a live tenant between
// isolation tiers in phases (prepare, cutover, finalize), or abort a move.
package move

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// Mover is what move needs of the fleet. *fleet.Service implements it.
type Mover interface {
	Move(ctx context.Context, o fleet.MoveOptions, progress io.Writer) (*fleet.MoveReport, error)
	FinalizeDue(ctx context.Context, progress io.Writer) ([]*fleet.MoveReport, error)
	PlanMove(ctx context.Context, name string, tier tenantspec.Tier, progress io.Writer) (*fleet.Plan, error)
}

// MoveOptions are the dependencies and parsed flags of move.
type MoveOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (Mover, error)

	Move fleet.MoveOptions
	// Due finalizes every move whose retention has passed.
	Due bool
	Yes bool
	// DryRun previews the move: its refusals and the stack changes of its
	// prepare phase. Nothing is changed.
	DryRun bool
}

// NewCmdMove returns the move command. runF, when not nil, receives the
// parsed options instead of moveRun (for tests).
func NewCmdMove(f *cmdutil.Factory, runF func(*MoveOptions) error) *cobra.Command {
	opts := &MoveOptions{
		IO: f.IO,
		Service: func() (Mover, error) {
			s, err := f.Fleet()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
	var tier, retain string
	cmd := &cobra.Command{
		Use:   "move NAME --tier shared|schema",
		Short: "Move a live tenant to another isolation tier",
		Long: `Move a tenant between the shared, schema and database tiers while its
application runs, in three phases:

  prepare   make the new tier's schema or database at the fleet's schema
            version, copy the tenant's rows from one snapshot, and keep the
            copy in step with every write (triggers on the old tier's tables)
  cutover   pause the tenant's writes (new ones wait; typically well under a
            second), replay the last changes, compare row counts and
            checksums of every table on both sides, advance the sequences,
            point the tenant's login at the new tier (grants, search_path,
            registry), resume, and end the old sessions (PgBouncer's pooled
            ones after their transaction; direct ones when idle)
  finalize  remove the old tier's copy

Without --phase, prepare and cutover run; finalize runs with --finalize, or
later with "--phase finalize", or when --retain has passed ("move --due",
from cron). Until then "--abort" (before the cutover) or a move back to the
old tier (after it) leaves the tenant as it was, with nothing lost.

The tenant's password, user and URL do not change. Moves to or from the
database tier are refused for now: their URL's database changes, and
sessions PgBouncer keeps on the old one outlive the switch. A write that was waiting when the tenant switched fails once
with SQLSTATE 40001 (serialization_failure), which the application retries
like any. Redis and Kubernetes are the tenant's on every tier and stay.

Every phase can be interrupted and run again. A move during a migration
rollout, or a second move of the same tenant, is refused.`,
		Example: `  tenantctl move acme --tier schema
  tenantctl move acme --tier schema --phase prepare
  tenantctl move acme --tier schema --phase cutover --verify
  tenantctl move acme --phase finalize
  tenantctl move acme --tier shared --retain 7d --yes
  tenantctl move acme --abort
  tenantctl move --due`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.Due {
				if len(args) > 0 {
					return cmdutil.Usagef("--due finalizes every move that is due; it takes no tenant name")
				}
				return nil
			}
			return shared.ExactlyOneName(cmd, args)
		},
		ValidArgsFunction: shared.CompleteName(shared.FleetLister(f)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !opts.Due {
				opts.Move.Name = args[0]
			}
			if tier != "" {
				t, err := tenantspec.ParseTier(tier)
				if err != nil {
					return cmdutil.Usagef("--tier: %v", err)
				}
				opts.Move.Tier = t
			}
			if err := check(opts, retain); err != nil {
				return err
			}
			if opts.DryRun && (opts.Due || opts.Move.Abort || opts.Move.Phase != "" || opts.Move.Tier == "") {
				return cmdutil.Usagef("--dry-run previews a move to a tier: give --tier, and no --due, --abort or --phase")
			}
			if !opts.Yes && !opts.DryRun && !opts.IO.InTerminal && !opts.Due {
				return cmdutil.Usagef("refusing to move tenant %q without confirmation: stdin is not a terminal; pass --yes", opts.Move.Name)
			}
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return moveRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&tier, "tier", "", "the tier to move to: shared or schema (the database tier is not available yet)")
	fl.StringVar(&opts.Move.Phase, "phase", "", "run one phase only: prepare, cutover or finalize")
	fl.BoolVar(&opts.Move.Finalize, "finalize", false, "remove the old tier's copy right after the cutover")
	fl.BoolVar(&opts.Move.Abort, "abort", false, "undo a move that has not switched yet")
	fl.StringVar(&retain, "retain", "", "keep the old tier's copy this long after the cutover (e.g. 7d, 12h), then \"move --due\" removes it")
	fl.BoolVar(&opts.Move.Verify, "verify", false, "run the isolation probes on the new tier after the cutover")
	fl.DurationVar(&opts.Move.PauseTimeout, "pause-timeout", 5*time.Second, "how long the cutover waits for the tenant's running transactions before giving up (writes resume)")
	fl.BoolVar(&opts.Due, "due", false, "finalize every move whose --retain has passed (safe from cron)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "move without asking (required when stdin is not a terminal)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "show what the move would do (its refusals, and a Pulumi preview of the new tier's resources); change nothing")
	_ = cmd.RegisterFlagCompletionFunc("tier", cobra.FixedCompletions([]string{"shared", "schema", "database"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("phase", cobra.FixedCompletions([]string{"prepare", "cutover", "finalize"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// check refuses flag combinations that say two things at once.
func check(opts *MoveOptions, retain string) error {
	o := &opts.Move
	if retain != "" {
		d, err := ParseRetention(retain)
		if err != nil {
			return cmdutil.Usagef("--retain %q: %v", retain, err)
		}
		o.Retain = d
	}
	switch {
	case opts.Due && (o.Tier != "" || o.Phase != "" || o.Abort || o.Finalize || o.Retain > 0):
		return cmdutil.Usagef("--due takes no other move flag")
	case opts.Due:
		return nil
	case o.Abort && (o.Tier != "" || o.Phase != "" || o.Finalize || o.Retain > 0 || o.Verify):
		return cmdutil.Usagef("--abort takes no --tier, --phase, --finalize, --retain or --verify: it undoes the move under way")
	case o.Abort:
		return nil
	case o.Phase != "" && o.Phase != fleet.PhasePrepare && o.Phase != fleet.PhaseCutover && o.Phase != fleet.PhaseFinalize:
		return cmdutil.Usagef("--phase %q: use prepare, cutover or finalize", o.Phase)
	case o.Phase == fleet.PhaseFinalize:
		if o.Retain > 0 || o.Verify {
			return cmdutil.Usagef("--phase finalize takes no --retain or --verify")
		}
		return nil
	case o.Tier == "":
		return cmdutil.Usagef("say where the tenant goes with --tier shared|schema|database (or --abort, or --phase finalize)")
	case o.Finalize && o.Retain > 0:
		return cmdutil.Usagef("--finalize removes the old copy at once; --retain keeps it: choose one")
	case o.Finalize && o.Phase == fleet.PhasePrepare:
		return cmdutil.Usagef("--finalize needs the cutover; it cannot follow --phase prepare")
	case o.PauseTimeout <= 0:
		return cmdutil.Usagef("--pause-timeout must be positive")
	}
	return nil
}

// ParseRetention reads a duration as Go writes it (90m, 12h) or in days (7d).
func ParseRetention(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if n, err = strconv.Atoi(days); err == nil {
			d = time.Duration(n) * 24 * time.Hour
		}
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("want a positive duration such as 7d, 12h or 90m")
	}
	return d, nil
}

func moveRun(ctx context.Context, opts *MoveOptions) error {
	o := opts.Move
	if opts.DryRun {
		svc, err := opts.Service()
		if err != nil {
			return err
		}
		pl, err := svc.PlanMove(ctx, o.Name, o.Tier, opts.IO.ErrOut)
		if err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "Dry run, nothing was changed. %s\n", shared.PlanSummary(*pl))
		return shared.PrintPlans(shared.Printer(opts.IO, opts.Format), opts.IO.ErrOut, []fleet.Plan{*pl})
	}
	if !opts.Yes && !opts.Due {
		what := fmt.Sprintf("Move tenant %q to the %s tier?", o.Name, o.Tier)
		switch {
		case o.Abort:
			what = fmt.Sprintf("Abort the move of tenant %q and remove its new copy?", o.Name)
		case o.Phase == fleet.PhaseFinalize:
			what = fmt.Sprintf("Remove the old copy of tenant %q for good?", o.Name)
		}
		ok, err := shared.Confirm(opts.IO, what+" Type the tenant name to confirm:", o.Name)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("move %w: what was typed is not %q; nothing was changed", cmdutil.ErrCancelled, o.Name)
		}
	}
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	p := shared.Printer(opts.IO, opts.Format)
	if opts.Due {
		reps, err := svc.FinalizeDue(ctx, opts.IO.ErrOut)
		if perr := printReports(p, reps); err == nil {
			err = perr
		}
		return err
	}
	r, err := svc.Move(ctx, o, opts.IO.ErrOut)
	if r != nil && (err == nil || r.Cutover != nil) {
		if perr := printReports(p, []*fleet.MoveReport{r}); err == nil {
			err = perr
		}
	}
	return err
}

// printReports prints the reports, or in the table format one row per
// phase that ran.
func printReports(p output.Printer, reps []*fleet.MoveReport) error {
	var rows [][]string
	for _, r := range reps {
		phases := make([]string, 0, len(r.Timings))
		for k := range r.Timings {
			phases = append(phases, k)
		}
		order := map[string]int{fleet.PhasePrepare: 0, fleet.PhaseCutover: 1, "stack": 2, fleet.PhaseFinalize: 3}
		sort.Slice(phases, func(i, j int) bool { return order[phases[i]] < order[phases[j]] })
		for _, ph := range phases {
			detail := ""
			switch {
			case ph == fleet.PhasePrepare && r.Prepare != nil:
				detail = fmt.Sprintf("%d rows copied, %d changes replayed", r.Prepare.Rows, r.Prepare.Replayed)
			case ph == fleet.PhaseCutover && r.Cutover != nil:
				detail = fmt.Sprintf("writes paused %s, %d rows compared, %d sessions ended", r.Cutover.Pause.Round(time.Millisecond), r.Cutover.RowsCompared, r.Ended)
			case ph == "stack":
				detail = "the tenant's stack describes the " + string(r.To) + " tier"
			case ph == fleet.PhaseFinalize:
				detail = "the " + string(r.From) + " copy is removed"
			}
			rows = append(rows, []string{r.Tenant, string(r.From), string(r.To), ph, strconv.FormatFloat(r.Timings[ph], 'f', 1, 64), detail})
		}
		if len(phases) == 0 {
			rows = append(rows, []string{r.Tenant, string(r.From), string(r.To), r.Phase, "0.0", strings.Join(r.Messages, "; ")})
		}
	}
	var v any = reps
	if len(reps) == 1 {
		v = reps[0]
	}
	return p.Print(v, []string{"TENANT", "FROM", "TO", "PHASE", "SECONDS", "DETAIL"}, rows)
}
