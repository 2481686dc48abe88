package tenant_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/root"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
)

// newRoot returns the real tenantctl command over buffer streams, with a
// fleet service that counts how often it is asked for and never exists.
func newRoot(t *testing.T, stdin string, terminal bool) (*tenanttest.Streams, func(args ...string) error, *int) {
	t.Helper()
	s := tenanttest.NewStreams(stdin, terminal)
	f := cmdutil.NewFactory(s.IOStreams)
	f.HomeDir = func() (string, error) { return t.TempDir(), nil }
	cmd := root.NewCmdRoot(f)
	calls := 0
	f.Fleet = func() (*fleet.Service, error) { // replaces root's, which the verbs call lazily
		calls++
		return nil, errors.New("test: no fleet here")
	}
	return s, func(args ...string) error {
		cmd.SetArgs(args)
		return cmd.Execute()
	}, &calls
}

func TestVerbsAreRegistered(t *testing.T) {
	s, run, _ := newRoot(t, "", false)
	if err := run("--help"); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"apply", "create", "credentials", "delete", "get", "list", "resume", "rotate", "usage", "suspend", "update", "verify", "completion"} {
		if !strings.Contains(s.OutBuf.String(), "\n  "+verb+" ") {
			t.Errorf("help does not list %q:\n%s", verb, s.OutBuf.String())
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	tests := []struct {
		name, shell, want string
	}{
		{name: "bash", shell: "bash", want: "__start_tenantctl"},
		{name: "zsh", shell: "zsh", want: "#compdef tenantctl"},
		{name: "fish", shell: "fish", want: "complete -c tenantctl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, run, calls := newRoot(t, "", false)
			if err := run("completion", tt.shell); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(s.OutBuf.String(), tt.want) {
				t.Errorf("the %s script does not contain %q", tt.shell, tt.want)
			}
			if *calls != 0 {
				t.Errorf("completion asked for the fleet %d times", *calls)
			}
		})
	}
}

// TestNameCompletionFailsSilently drives cobra's hidden __complete command,
// as the shell does: verbs taking a tenant name ask the fleet for names,
// and when it fails they offer nothing, print no error, and still keep the
// shell from completing file names.
func TestNameCompletionFailsSilently(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantCalls int
	}{
		{name: "get", args: []string{"get", ""}, wantCalls: 1},
		{name: "update", args: []string{"update", "ac"}, wantCalls: 1},
		{name: "suspend", args: []string{"suspend", ""}, wantCalls: 1},
		{name: "resume", args: []string{"resume", ""}, wantCalls: 1},
		{name: "delete", args: []string{"delete", ""}, wantCalls: 1},
		{name: "credentials", args: []string{"credentials", ""}, wantCalls: 1},
		{name: "verify", args: []string{"verify", ""}, wantCalls: 1},
		{name: "verify --against", args: []string{"verify", "acme", "--against", ""}, wantCalls: 1},
		{name: "second argument", args: []string{"get", "acme", ""}},
		{name: "create takes a new name", args: []string{"create", ""}},
		{name: "create --tier", args: []string{"create", "acme", "--tier", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, run, calls := newRoot(t, "", false)
			if err := run(append([]string{"__complete"}, tt.args...)...); err != nil {
				t.Fatal(err)
			}
			if *calls != tt.wantCalls {
				t.Errorf("fleet asked %d times, want %d", *calls, tt.wantCalls)
			}
			want := ":4\n" // ShellCompDirectiveNoFileComp, no names
			if tt.name == "create --tier" {
				want = "shared\nschema\ndatabase\n:4\n"
			}
			if s.OutBuf.String() != want {
				t.Errorf("stdout = %q, want %q", s.OutBuf.String(), want)
			}
			if strings.Contains(s.ErrBuf.String(), "no fleet here") {
				t.Errorf("the fleet error reached the user: %q", s.ErrBuf.String())
			}
		})
	}
}

// TestBadInputChangesNothing runs the real command tree with bad input for
// every verb: each must fail as a usage error (exit 2) without asking for
// the fleet service, which is where every side effect starts.
func TestBadInputChangesNothing(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		stdin string
	}{
		{name: "create bad name", args: []string{"create", "Acme"}},
		{name: "create glob", args: []string{"create", "ac*"}},
		{name: "create reserved", args: []string{"create", "kube-public"}},
		{name: "create bad tier", args: []string{"create", "acme", "--tier", "gold"}},
		{name: "create bad quota", args: []string{"create", "acme", "--quota", "cpu"}},
		{name: "create bad flag", args: []string{"create", "acme", "--flag", "x"}},
		{name: "create replicas not a number", args: []string{"create", "acme", "--image", "a", "--replicas", "two"}},
		{name: "create unknown flag", args: []string{"create", "acme", "--color"}},
		{name: "get two names", args: []string{"get", "acme", "beta"}},
		{name: "list with a name", args: []string{"list", "acme"}},
		{name: "update nothing", args: []string{"update", "acme"}},
		{name: "update bad tier", args: []string{"update", "acme", "--tier", "x"}},
		{name: "suspend quote", args: []string{"suspend", `'acme'`}},
		{name: "resume empty", args: []string{"resume", ""}},
		{name: "delete without yes off a terminal", args: []string{"delete", "acme"}},
		{name: "delete bad name", args: []string{"delete", "ac me", "--yes"}},
		{name: "credentials reserved", args: []string{"credentials", "app"}},
		{name: "verify against itself", args: []string{"verify", "acme", "--against", "acme"}},
		{name: "apply invalid file", args: []string{"apply", "-f", "-"}, stdin: "tenants:\n  - {name: Acme, tier: shared}\n"},
		{name: "apply prune off a terminal", args: []string{"apply", "-f", "-", "--prune"}, stdin: "tenants:\n  - {name: acme, tier: shared}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, run, calls := newRoot(t, tt.stdin, false)
			err := run(tt.args...)
			if got := cmdutil.ExitCode(err); got != cmdutil.ExitUsage {
				t.Errorf("exit code %d (%v), want %d", got, err, cmdutil.ExitUsage)
			}
			if *calls != 0 {
				t.Errorf("the fleet service was asked for %d times", *calls)
			}
			if s.OutBuf.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", s.OutBuf.String())
			}
		})
	}
}
