// Package suspend implements "tenantctl suspend" and "tenantctl resume":
// take a tenant offline keeping its data, and bring it back.
package suspend

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

// SuspendResumer is what suspend and resume need of the fleet.
// *fleet.Service implements it.
type SuspendResumer interface {
	Suspend(ctx context.Context, name string, progress io.Writer) (*fleet.Tenant, error)
	Resume(ctx context.Context, name string, progress io.Writer) (*fleet.Tenant, error)
}

// SuspendOptions are the dependencies and arguments of suspend and resume.
type SuspendOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (SuspendResumer, error)

	Name string
	// Resume is set for "resume" and clear for "suspend".
	Resume bool
}

// NewCmdSuspend returns the suspend command. runF, when not nil, receives
// the parsed options instead of suspendRun (for tests).
func NewCmdSuspend(f *cmdutil.Factory, runF func(*SuspendOptions) error) *cobra.Command {
	return newCmd(f, runF, false, &cobra.Command{
		Use:   "suspend NAME",
		Short: "Take a tenant offline, keeping its data",
		Long: `Suspend a tenant: disable its PostgreSQL and Redis logins, end its open
sessions and scale its workload to zero. Its data and configuration stay;
"tenantctl resume NAME" brings it back.`,
		Example: `  tenantctl suspend acme`,
	})
}

// NewCmdResume returns the resume command. runF, when not nil, receives the
// parsed options instead of suspendRun (for tests).
func NewCmdResume(f *cmdutil.Factory, runF func(*SuspendOptions) error) *cobra.Command {
	return newCmd(f, runF, true, &cobra.Command{
		Use:     "resume NAME",
		Short:   "Bring a suspended tenant back online",
		Long:    `Resume a suspended tenant: enable its logins and scale its workload back up.`,
		Example: `  tenantctl resume acme`,
	})
}

func newCmd(f *cmdutil.Factory, runF func(*SuspendOptions) error, resume bool, cmd *cobra.Command) *cobra.Command {
	opts := &SuspendOptions{
		IO:     f.IO,
		Resume: resume,
		Service: func() (SuspendResumer, error) {
			s, err := f.Fleet()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
	cmd.Args = shared.ExactlyOneName
	cmd.ValidArgsFunction = shared.CompleteName(shared.FleetLister(f))
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		opts.Name = args[0]
		opts.Format = f.Format()
		if runF != nil {
			return runF(opts)
		}
		return suspendRun(cmd.Context(), opts)
	}
	return cmd
}

func suspendRun(ctx context.Context, opts *SuspendOptions) error {
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	op := svc.Suspend
	if opts.Resume {
		op = svc.Resume
	}
	t, err := op(ctx, opts.Name, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	if err := shared.PrintTenant(shared.Printer(opts.IO, opts.Format), t); err != nil {
		return err
	}
	if opts.Resume {
		fmt.Fprintf(opts.IO.ErrOut, "Tenant %q is active again.\n", t.Name)
	} else {
		fmt.Fprintf(opts.IO.ErrOut, "Tenant %q is suspended; \"tenantctl resume %s\" brings it back.\n", t.Name, t.Name)
	}
	return nil
}
