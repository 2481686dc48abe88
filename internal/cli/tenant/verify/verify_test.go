package verify

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

func TestNewCmdVerify(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantAgainst []string
		wantErr     string
	}{
		{name: "every other tenant", args: []string{"acme"}},
		{name: "against some, sorted and once each", args: []string{"acme", "--against", "gamma", "--against", "beta", "--against", "gamma"}, wantAgainst: []string{"beta", "gamma"}},
		{name: "against itself", args: []string{"acme", "--against", "acme"}, wantErr: "--against acme names the tenant being verified"},
		{name: "against a bad name", args: []string{"acme", "--against", "Beta"}, wantErr: `--against: tenant id "Beta"`},
		{name: "against a glob", args: []string{"acme", "--against", "b*"}, wantErr: "'*'"},
		{name: "bad name", args: []string{"acme!"}, wantErr: "'!'"},
		{name: "no name", wantErr: "takes exactly one tenant name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			var got *VerifyOptions
			cmd := NewCmdVerify(tenanttest.NewFactory(t, s, output.Table), func(o *VerifyOptions) error { got = o; return nil })
			err := tenanttest.Execute(t, cmd, tt.args...)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if !tenanttest.IsUsage(err) || got != nil {
					t.Errorf("error %v: usage error %v, runF ran %v", err, tenanttest.IsUsage(err), got != nil)
				}
				return
			}
			if got == nil || got.Name != "acme" || !reflect.DeepEqual(got.Against, tt.wantAgainst) {
				t.Fatalf("runF got %+v, want acme against %v", got, tt.wantAgainst)
			}
		})
	}
}

type fakeVerifier struct {
	report  *fleet.VerifyReport
	err     error
	names   []string
	against [][]string
}

func (f *fakeVerifier) Verify(_ context.Context, name string, against []string) (*fleet.VerifyReport, error) {
	f.names = append(f.names, name)
	f.against = append(f.against, against)
	return f.report, f.err
}

func TestVerifyRun(t *testing.T) {
	probes := []fleet.Probe{
		{Layer: "postgres", Name: "read other tenant's rows", Target: "beta", Passed: true},
		{Layer: "redis", Name: "KEYS *", Target: "", Passed: true, Detail: "NOPERM"},
	}
	passed := &fleet.VerifyReport{Tenant: "acme", Against: []string{"beta"}, Passed: true, Probes: probes}
	failed := &fleet.VerifyReport{Tenant: "acme", Against: []string{"beta"}, Probes: append(probes[:1:1],
		fleet.Probe{Layer: "kubernetes", Name: "list secrets", Target: "beta", Detail: "listed 2 secrets in tenant-beta"})}
	tests := []struct {
		name       string
		format     output.Format
		terminal   bool
		against    []string
		svc        *fakeVerifier
		wantOut    string
		wantErr    string
		wantExit   int
		wantStderr string
	}{
		{
			name: "passed, for scripts", format: output.Table, svc: &fakeVerifier{report: passed},
			wantOut:    "postgres\tread other tenant's rows\tbeta\tpass\t-\nredis\tKEYS *\t-\tpass\tNOPERM\n",
			wantStderr: "Isolation verified: 2 probes passed against 1 other tenant.\n",
		},
		{
			name: "passed, on a terminal", format: output.Table, terminal: true, against: []string{"beta"}, svc: &fakeVerifier{report: passed},
			wantOut: "LAYER     NAME                      TARGET  RESULT  DETAIL\n" +
				"postgres  read other tenant's rows  beta    pass    -\n" +
				"redis     KEYS *                    -       pass    NOPERM\n",
		},
		{name: "passed, json", format: output.JSON, svc: &fakeVerifier{report: passed}, wantOut: "golden:passed.json"},
		{
			name: "failed", format: output.Table, svc: &fakeVerifier{report: failed},
			wantOut: "postgres\tread other tenant's rows\tbeta\tpass\t-\nkubernetes\tlist secrets\tbeta\tFAIL\tlisted 2 secrets in tenant-beta\n",
			wantErr: `isolation check failed: 1 of 2 probes of tenant "acme" failed (kubernetes: list secrets -> beta)`, wantExit: cmdutil.ExitIsolation,
			wantStderr: "-",
		},
		{name: "failed, json still printed", format: output.JSON, svc: &fakeVerifier{report: failed}, wantOut: "golden:failed.json", wantErr: "isolation check failed", wantExit: cmdutil.ExitIsolation},
		{
			name: "not found", format: output.Table, against: []string{"zeta"},
			svc:     &fakeVerifier{err: fmt.Errorf("tenant \"zeta\" does not exist: %w", fleet.ErrNotFound)},
			wantErr: "does not exist", wantExit: cmdutil.ExitNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", tt.terminal)
			opts := &VerifyOptions{IO: s.IOStreams, Format: tt.format, Name: "acme", Against: tt.against,
				Service: func() (Verifier, error) { return tt.svc, nil }}
			err := verifyRun(t.Context(), opts)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if got := cmdutil.ExitCode(err); got != tt.wantExit {
				t.Errorf("exit code %d, want %d", got, tt.wantExit)
			}
			if tt.wantExit == cmdutil.ExitIsolation && !errors.Is(err, fleet.ErrIsolation) {
				t.Errorf("error %v does not wrap fleet.ErrIsolation", err)
			}
			if !reflect.DeepEqual(tt.svc.names, []string{"acme"}) || !reflect.DeepEqual(tt.svc.against, [][]string{tt.against}) {
				t.Errorf("Verify calls %v against %v, want acme against %v", tt.svc.names, tt.svc.against, tt.against)
			}
			if golden, ok := strings.CutPrefix(tt.wantOut, "golden:"); ok {
				tenanttest.Golden(t, golden, s.OutBuf.Bytes())
			} else if s.OutBuf.String() != tt.wantOut {
				t.Errorf("stdout = %q, want %q", s.OutBuf.String(), tt.wantOut)
			}
			switch tt.wantStderr {
			case "":
			case "-":
				if s.ErrBuf.Len() != 0 {
					t.Errorf("stderr = %q, want nothing", s.ErrBuf.String())
				}
			default:
				if s.ErrBuf.String() != tt.wantStderr {
					t.Errorf("stderr = %q, want %q", s.ErrBuf.String(), tt.wantStderr)
				}
			}
		})
	}
}
