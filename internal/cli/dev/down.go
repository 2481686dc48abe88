package dev

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/devplatform"
)

// DownOptions are the parsed flags and dependencies of "dev down".
type DownOptions struct {
	Deps
	Purge bool
	Yes   bool
}

// NewCmdDown returns "dev down". runF, if not nil, replaces downRun (tests).
func NewCmdDown(deps Deps, runF func(context.Context, *DownOptions) error) *cobra.Command {
	opts := &DownOptions{Deps: deps}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop the local platform, keeping its data unless --purge",
		Long: `Stop exactly the processes the local platform started, each service before
the services it needs, and wait until they have exited. A process is
signalled only if its PID still runs the program with this platform's
paths, so a recycled PID is never touched.

Data stays for the next up. --purge deletes the state directory, and with it
every database, key and Kubernetes object; it asks first on a terminal and
needs --yes otherwise.`,
		Example: `  tenantctl dev down
  tenantctl dev down --purge --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Yes && !opts.Purge {
				return cmdutil.Usagef("--yes confirms --purge; without --purge nothing is deleted")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return downRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Purge, "purge", false, "also delete the state directory and all data")
	cmd.Flags().BoolVar(&opts.Yes, "yes", false, "confirm --purge without asking")
	return cmd
}

func downRun(ctx context.Context, opts *DownOptions) error {
	pf, err := opts.Platform()
	if err != nil {
		return err
	}
	if opts.Purge && !opts.Yes {
		if err := confirmPurge(opts.IO, pf.Dir()); err != nil {
			return err
		}
	}
	return mapError(pf.Down(ctx, devplatform.DownOptions{Purge: opts.Purge}))
}

// confirmPurge asks on a terminal; elsewhere --yes is required.
func confirmPurge(ios *cmdutil.IOStreams, dir string) error {
	if !ios.InTerminal {
		return cmdutil.Usagef("--purge deletes %s and all the platform's data; add --yes to confirm", dir)
	}
	fmt.Fprintf(ios.ErrOut, "Delete %s and all the local platform's data? [y/N] ", dir)
	line, err := bufio.NewReader(ios.In).ReadString('\n')
	if err != nil {
		fmt.Fprintln(ios.ErrOut) // end the prompt's line
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return &codedError{errors.New("nothing stopped or deleted: --purge was not confirmed"), cmdutil.ErrCancelled}
}
