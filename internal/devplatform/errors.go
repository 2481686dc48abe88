package devplatform

import "errors"

// Error kinds callers map to exit codes. Errors returned by this package wrap
// at most one of them; the message is always the wrapped error's own.
var (
	// ErrInvalidInput marks bad input: a port out of range, two services on
	// one port, or a port that differs from the one the platform was created
	// with. Nothing was changed.
	ErrInvalidInput = errors.New("invalid input")
	// ErrPortInUse marks a port held by another process.
	ErrPortInUse = errors.New("port in use")
	// ErrNotRunning marks a command that needs a running platform when there
	// is none.
	ErrNotRunning = errors.New("no local platform is running")
)

// kindError gives err a kind from the list above without changing its message.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

func withKind(kind, err error) error { return &kindError{kind: kind, err: err} }
