// Package cmdutil holds what every tenantctl verb shares: the output streams,
// the global flags, and the errors that map to exit codes.
package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/home"
	"github.com/tenantstack/tenantstack/internal/migrate"
	"github.com/tenantstack/tenantstack/internal/output"
)

// IOStreams are the streams a command reads and writes. Tests substitute
// buffers.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer // results only
	ErrOut io.Writer // progress, status and errors
	// InTerminal and OutTerminal report whether In and Out are terminals.
	InTerminal, OutTerminal bool
}

// System returns the process's own streams.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTerminal:  output.IsTerminal(os.Stdin),
		OutTerminal: output.IsTerminal(os.Stdout),
	}
}

// Factory carries the dependencies and global flag values that verbs need.
// Global flags are parsed before a verb runs, so verbs read them through
// the functions here rather than copying them at construction time.
type Factory struct {
	IO *IOStreams
	// Format is the value of the global -o flag.
	Format func() output.Format
	// HomeDir returns TENANTSTACK_HOME, resolved.
	HomeDir func() (string, error)
	// Fleet returns the tenant service for the backend chosen with the
	// global --backend flag. It is created on first use, so verbs that do
	// not need Pulumi (dev, version, completion) never touch it.
	Fleet func() (*fleet.Service, error)
}

// NewFactory returns a Factory over the given streams with the default
// home resolution; root wires Format to its flag.
func NewFactory(io *IOStreams) *Factory {
	return &Factory{
		IO:      io,
		Format:  func() output.Format { return output.Table },
		HomeDir: home.Dir,
	}
}

// Printer returns a printer for command results in the chosen format.
func (f *Factory) Printer() output.Printer {
	return output.Printer{Out: f.IO.Out, Format: f.Format(), Terminal: f.IO.OutTerminal}
}

// Exit codes, documented in the README. Every error maps to one in root.
const (
	ExitOK        = 0
	ExitError     = 1 // the operation failed
	ExitUsage     = 2 // bad flags, arguments or input; nothing was changed
	ExitNotFound  = 3 // the named tenant or platform does not exist
	ExitConflict  = 4 // it already exists, or another operation holds it
	ExitCancelled = 5 // refused at a prompt, or --timeout reached
	ExitIsolation = 6 // verify found one tenant's data reachable by another
	ExitDrift     = 7 // drift found a change made outside tenantstack
)

// UsageError reports bad input. Nothing was changed.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// ErrNotFound marks an error about something that does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict marks an error about something that already exists or is
// locked by another operation.
var ErrConflict = errors.New("conflict")

// ErrCancelled marks an operation the user declined or that timed out.
var ErrCancelled = errors.New("cancelled")

// ExitCode maps err to the process exit code.
func ExitCode(err error) int {
	var usage *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &usage), errors.Is(err, fleet.ErrInvalid), errors.Is(err, migrate.ErrRefused):
		return ExitUsage
	case errors.Is(err, ErrNotFound), errors.Is(err, fleet.ErrNotFound), errors.Is(err, fleet.ErrNoPlatform):
		return ExitNotFound
	case errors.Is(err, ErrConflict), errors.Is(err, fleet.ErrExists), errors.Is(err, migrate.ErrBusy):
		return ExitConflict
	case errors.Is(err, ErrCancelled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return ExitCancelled
	case errors.Is(err, fleet.ErrIsolation):
		return ExitIsolation
	case errors.Is(err, fleet.ErrDrift):
		return ExitDrift
	}
	return ExitError
}
