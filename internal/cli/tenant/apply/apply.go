// Package apply implements "tenantctl apply": make the fleet match a file
// that lists every tenant.
package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

// Applier is what apply needs of the fleet. *fleet.Service implements it.
// List serves only to show, before --prune deletes anything, what it would
// delete.
type Applier interface {
	List(ctx context.Context) ([]fleet.Tenant, error)
	Apply(ctx context.Context, file fleet.FleetFile, prune bool, parallel int, progress io.Writer) (*fleet.ApplyReport, error)
	PlanApply(ctx context.Context, file fleet.FleetFile, prune bool, parallel int, progress io.Writer) ([]fleet.Plan, error)
}

// ApplyOptions are the dependencies, parsed flags and parsed fleet file of
// apply.
type ApplyOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (Applier, error)

	// File is the path given with -f ("-" for stdin); Fleet is its
	// content, read and validated as a whole before anything runs.
	File  string
	Fleet fleet.FleetFile
	// Prune deletes the tenants the file does not list. It is destructive,
	// so it asks on a terminal and requires Yes otherwise.
	Prune    bool
	Yes      bool
	Parallel int
	// DryRun previews every tenant's change: nothing is changed.
	DryRun bool
}

// defaultParallel is how many tenants apply changes at once by default:
// each is its own stack, so they do not wait on one another's lock.
const defaultParallel = 4

// NewCmdApply returns the apply command. runF, when not nil, receives the
// parsed options instead of applyRun (for tests).
func NewCmdApply(f *cmdutil.Factory, runF func(*ApplyOptions) error) *cobra.Command {
	opts := &ApplyOptions{
		IO: f.IO,
		Service: func() (Applier, error) {
			s, err := f.Fleet()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Create and update tenants to match a fleet file",
		Long: `Make the fleet match a YAML or JSON file listing tenants:

  tenants:
    - name: acme
      tier: schema
      quota: {cpu: "2", memory: 4Gi, pods: 20}
      flags: {beta: "true"}
      workload: {image: nginx:1.27, replicas: 2, host: acme.example.com}

Tenants in the file are created or updated; with --prune, tenants not in the
file are deleted with all their data (asked on a terminal, --yes otherwise).
The whole file is checked before anything changes: every name valid and
unique, every tier known, every quota well formed.

Prints one NAME ACTION DETAIL row per tenant; fails if any tenant failed.`,
		Example: `  tenantctl apply -f tenants.yaml
  tenantctl apply -f tenants.json --parallel 8
  tenantctl apply -f tenants.yaml --prune --yes
  generate-fleet | tenantctl apply -f -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("%q takes no arguments; give the fleet file with -f FILE", cmd.CommandPath())
			}
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.File != "" && opts.Prune && !opts.Yes && !opts.DryRun && !opts.IO.InTerminal {
				return cmdutil.Usagef("refusing to --prune without confirmation: stdin is not a terminal; pass --yes to delete every tenant %s does not list, with all its data", opts.File)
			}
			if err := loadFleet(opts); err != nil {
				return err
			}
			if opts.Prune && len(opts.Fleet.Tenants) == 0 {
				return cmdutil.Usagef("%s lists no tenants, so --prune would delete every tenant; list the tenants to keep, or use \"tenantctl delete NAME\"", opts.File)
			}
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return applyRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "filename", "f", "", "fleet file, YAML or JSON (- for stdin)")
	fl.BoolVar(&opts.Prune, "prune", false, "delete the tenants the file does not list, with all their data")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "prune without asking (required with --prune when stdin is not a terminal)")
	fl.IntVar(&opts.Parallel, "parallel", defaultParallel, "how many tenants to change at once")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "show what would change for each tenant (Pulumi previews); change nothing (see also tenantctl diff)")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	return cmd
}

// loadFleet checks -f and --parallel, then reads and validates the fleet
// file into opts.Fleet, as apply and diff take it.
func loadFleet(opts *ApplyOptions) error {
	if opts.File == "" {
		return cmdutil.Usagef("no fleet file; give one with -f FILE (YAML or JSON), or -f - for stdin")
	}
	if opts.Parallel < 1 {
		return cmdutil.Usagef("--parallel is %d; use at least 1", opts.Parallel)
	}
	ff, err := readFleetFile(opts.IO.In, opts.File)
	if err != nil {
		return err
	}
	if err := validateFleet(ff, opts.File); err != nil {
		return err
	}
	opts.Fleet = ff
	return nil
}

// readFleetFile reads and decodes path ("-" for in). Unknown keys are
// refused so a misspelt field is not silently ignored. JSON is decoded as
// JSON (by extension or a leading '{'), anything else as YAML.
func readFleetFile(in io.Reader, path string) (fleet.FleetFile, error) {
	var (
		b   []byte
		err error
	)
	if path == "-" {
		b, err = io.ReadAll(in)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return fleet.FleetFile{}, cmdutil.Usagef("reading the fleet file: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return fleet.FleetFile{}, cmdutil.Usagef("fleet file %s is empty; it needs a \"tenants:\" list", path)
	}
	var ff fleet.FleetFile
	if strings.EqualFold(filepath.Ext(path), ".json") || bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		err = dec.Decode(&ff)
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		err = dec.Decode(&ff)
	}
	if err != nil {
		return fleet.FleetFile{}, cmdutil.Usagef("fleet file %s does not parse: %v; nothing was changed", path, err)
	}
	return ff, nil
}

// validateFleet checks every entry of ff and that names are unique, and
// reports every problem at once, each with its place in the file.
func validateFleet(ff fleet.FleetFile, path string) error {
	var errs []error
	first := map[string]int{}
	for i, s := range ff.Tenants {
		where := fmt.Sprintf("tenants[%d]", i)
		if s.Name != "" {
			where += fmt.Sprintf(" (%q)", s.Name)
		}
		if err := shared.ValidateSpec(s); err != nil {
			for _, e := range unjoin(err) {
				errs = append(errs, fmt.Errorf("%s: %w", where, e))
			}
		}
		if j, dup := first[s.Name]; dup && s.Name != "" {
			errs = append(errs, fmt.Errorf("%s: the name is already used by tenants[%d]; each tenant appears once", where, j))
		} else {
			first[s.Name] = i
		}
	}
	if len(errs) == 0 {
		return nil
	}
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = "  " + e.Error()
	}
	return &cmdutil.UsageError{Err: fmt.Errorf("fleet file %s has %s; fix them and apply again (nothing was changed):\n%s",
		path, shared.Count(len(errs), "problem"), strings.Join(lines, "\n"))}
}

// unjoin splits an errors.Join result into its errors.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func applyRun(ctx context.Context, opts *ApplyOptions) error {
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	if opts.DryRun {
		plans, err := svc.PlanApply(ctx, opts.Fleet, opts.Prune, opts.Parallel, opts.IO.ErrOut)
		if err != nil {
			return err
		}
		fmt.Fprintln(opts.IO.ErrOut, "Dry run, nothing was changed.")
		if err := shared.PrintPlans(shared.Printer(opts.IO, opts.Format), opts.IO.ErrOut, plans); err != nil {
			return err
		}
		return planErrors(plans)
	}
	if opts.Prune && !opts.Yes {
		if err := confirmPrune(ctx, svc, opts); err != nil {
			return err
		}
	}
	r, err := svc.Apply(ctx, opts.Fleet, opts.Prune, opts.Parallel, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	if err := printReport(shared.Printer(opts.IO, opts.Format), r); err != nil {
		return err
	}
	if len(r.Failed) > 0 {
		names := slices.Sorted(maps.Keys(r.Failed))
		return fmt.Errorf("apply failed for %s (%s), the others are done; fix what the report says for each and run \"tenantctl apply -f %s\" again",
			shared.Count(len(names), "tenant"), strings.Join(names, ", "), opts.File)
	}
	return nil
}

// confirmPrune shows which tenants --prune would delete and asks. When it
// would delete none there is nothing to ask.
func confirmPrune(ctx context.Context, svc Applier, opts *ApplyOptions) error {
	current, err := svc.List(ctx)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, s := range opts.Fleet.Tenants {
		keep[s.Name] = true
	}
	var doomed []string
	for _, t := range current {
		if !keep[t.Name] {
			doomed = append(doomed, t.Name)
		}
	}
	if len(doomed) == 0 {
		return nil
	}
	prompt := fmt.Sprintf("--prune will delete %s that %s does not list, with all their data: %s. Type \"yes\" to confirm:",
		shared.Count(len(doomed), "tenant"), opts.File, strings.Join(doomed, ", "))
	ok, err := shared.Confirm(opts.IO, prompt, "yes")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("apply %w: pruning was not confirmed; nothing was changed (run without --prune to only create and update)", cmdutil.ErrCancelled)
	}
	return nil
}

// printReport prints r, or in the table format one NAME ACTION DETAIL row
// per tenant: created, updated, deleted, unchanged, then failed with the
// reason.
func printReport(p output.Printer, r *fleet.ApplyReport) error {
	var rows [][]string
	for _, g := range []struct {
		action string
		names  []string
	}{{"created", r.Created}, {"updated", r.Updated}, {"deleted", r.Deleted}, {"unchanged", r.Unchanged}} {
		for _, n := range slices.Sorted(slices.Values(g.names)) {
			rows = append(rows, []string{n, g.action, "-"})
		}
	}
	for _, n := range slices.Sorted(maps.Keys(r.Failed)) {
		rows = append(rows, []string{n, "failed", shared.OrDash(oneLine(r.Failed[n]))})
	}
	out := *r // lists print as [] in JSON, never null
	for _, l := range []*[]string{&out.Created, &out.Updated, &out.Deleted, &out.Unchanged} {
		if *l == nil {
			*l = []string{}
		}
	}
	return p.Print(out, []string{"NAME", "ACTION", "DETAIL"}, rows)
}

// oneLine keeps a multi-line failure in its table cell.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// planErrors fails when a tenant could not be planned.
func planErrors(plans []fleet.Plan) error {
	var names []string
	for _, p := range plans {
		if p.Error != "" {
			names = append(names, p.Tenant)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("%s could not be planned (%s); the report says why for each", shared.Count(len(names), "tenant"), strings.Join(names, ", "))
}
