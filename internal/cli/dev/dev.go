// Package dev implements "tenantctl dev": up, down, status and env of the
// local platform (PostgreSQL, PgBouncer, Redis and a Kubernetes control
// plane on 127.0.0.1, with all files under TENANTSTACK_HOME/platform).
package dev

import (
	"context"
	"errors"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/devplatform"
	"github.com/tenantstack/tenantstack/internal/output"
)

// Platform is what the dev verbs need of a local platform;
// *devplatform.Platform implements it.
type Platform interface {
	Dir() string
	Up(ctx context.Context, opts devplatform.UpOptions) (*devplatform.Status, error)
	Down(ctx context.Context, opts devplatform.DownOptions) error
	Status(ctx context.Context) (*devplatform.Status, error)
	Env(ctx context.Context) (devplatform.Env, error)
}

// Deps are what every dev verb is built from.
type Deps struct {
	IO      *cmdutil.IOStreams
	Printer func() output.Printer
	// Platform returns the platform under TENANTSTACK_HOME; it is called
	// only when a command runs, after the global flags are parsed.
	Platform func() (Platform, error)
}

// NewCmdDev returns the "dev" command with its verbs.
func NewCmdDev(f *cmdutil.Factory) *cobra.Command {
	deps := Deps{
		IO:      f.IO,
		Printer: f.Printer,
		Platform: func() (Platform, error) {
			home, err := f.HomeDir()
			if err != nil {
				return nil, err
			}
			return devplatform.New(home, f.IO.ErrOut), nil
		},
	}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the local platform: PostgreSQL, PgBouncer, Redis and Kubernetes on 127.0.0.1",
		Long: `Run the local platform that development and tests target: PostgreSQL 15,
PgBouncer (transaction pooling), Redis 7 with ACLs, and a Kubernetes control
plane (etcd, kube-apiserver, kube-controller-manager), all on 127.0.0.1, all
kept under $TENANTSTACK_HOME/platform. Ports are picked on the first up and
kept; two homes run two platforms side by side.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(
		NewCmdUp(deps, nil),
		NewCmdDown(deps, nil),
		NewCmdStatus(deps, nil),
		NewCmdEnv(deps, nil),
	)
	return cmd
}

// codedError gives err an exit code sentinel without changing its message.
type codedError struct {
	err  error
	code error
}

func (e *codedError) Error() string   { return e.err.Error() }
func (e *codedError) Unwrap() []error { return []error{e.err, e.code} }

// mapError maps devplatform's error kinds to tenantctl's exit codes.
func mapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, devplatform.ErrInvalidInput):
		return &cmdutil.UsageError{Err: err}
	case errors.Is(err, devplatform.ErrPortInUse):
		return &codedError{err, cmdutil.ErrConflict}
	case errors.Is(err, devplatform.ErrNotRunning):
		return &codedError{err, cmdutil.ErrNotFound}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &codedError{err, cmdutil.ErrCancelled}
	}
	return err
}

// printStatus writes st: a table of the services, or the whole value as
// JSON or YAML.
func printStatus(p output.Printer, st *devplatform.Status) error {
	rows := make([][]string, 0, len(st.Services))
	for _, s := range st.Services {
		pid := "-"
		if s.PID != 0 {
			pid = strconv.Itoa(s.PID)
		}
		rows = append(rows, []string{s.Name, s.State, pid, s.Address, s.Detail})
	}
	return p.Print(st, []string{"SERVICE", "STATE", "PID", "ADDRESS", "DETAIL"}, rows)
}
