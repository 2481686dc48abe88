package shared

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
)

// Confirm writes prompt to ios.ErrOut, reads one line from ios.In and
// reports whether it equals want, ignoring surrounding spaces. Anything
// else, including end of input, is a refusal: refusing is the default.
func Confirm(ios *cmdutil.IOStreams, prompt, want string) (bool, error) {
	if _, err := fmt.Fprint(ios.ErrOut, prompt+" "); err != nil {
		return false, err
	}
	line, err := bufio.NewReader(ios.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("reading the confirmation: %w", err)
	}
	return strings.TrimSpace(line) == want, nil
}
