package purge

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

type fakePurger struct{ calls int }

func (f *fakePurger) Purge(context.Context, io.Writer) (*fleet.PurgeResult, error) {
	f.calls++
	return &fleet.PurgeResult{
		Purged:  []fleet.PurgeReport{{Tenant: "acme", Evidence: `{}`, SHA256: "abc"}},
		Pending: []fleet.Retention{{Tenant: "globex", PurgeAfter: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}, nil
}

func TestPurge(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
		in       string
		args     []string
		calls    int
		exit     int
	}{
		{"cron", false, "", []string{"--yes"}, 1, 0},
		{"no terminal, no yes", false, "", nil, 0, cmdutil.ExitUsage},
		{"terminal, confirmed", true, "purge\n", nil, 1, 0},
		{"terminal, refused", true, "y\n", nil, 0, cmdutil.ExitCancelled},
		{"an argument", false, "", []string{"acme", "--yes"}, 0, cmdutil.ExitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tenanttest.NewStreams(tc.in, tc.terminal)
			s.OutTerminal = false // tab-separated, as a pipe gets it
			svc := &fakePurger{}
			cmd := NewCmdPurge(tenanttest.NewFactory(t, s, output.Table), func(o *PurgeOptions) error {
				o.Service = func() (Purger, error) { return svc, nil }
				return purgeRun(t.Context(), o)
			})
			err := tenanttest.Execute(t, cmd, tc.args...)
			if cmdutil.ExitCode(err) != tc.exit || svc.calls != tc.calls {
				t.Fatalf("exit %d (%v), calls %d; want %d, %d", cmdutil.ExitCode(err), err, svc.calls, tc.exit, tc.calls)
			}
			if tc.calls == 1 {
				want := "acme\tpurged\tabc\nglobex\tretained until 2027-01-01T00:00:00Z\t-\n"
				if s.OutBuf.String() != want {
					t.Errorf("stdout %q, want %q", s.OutBuf.String(), want)
				}
			}
		})
	}
}
