package move

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/move"
	"github.com/tenantstack/tenantstack/internal/output"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

func TestNewCmdMove(t *testing.T) {
	def := 5 * time.Second
	tests := []struct {
		name    string
		args    []string
		want    MoveOptions // IO, Format and Service are not compared
		wantErr string
	}{
		{name: "prepare and cutover", args: []string{"acme", "--tier", "schema", "--yes"},
			want: MoveOptions{Move: fleet.MoveOptions{Name: "acme", Tier: tenantspec.TierSchema, PauseTimeout: def}, Yes: true}},
		{name: "finalize at once, verified", args: []string{"acme", "--tier", "database", "--finalize", "--verify", "--yes"},
			want: MoveOptions{Move: fleet.MoveOptions{Name: "acme", Tier: tenantspec.TierDatabase, Finalize: true, Verify: true, PauseTimeout: def}, Yes: true}},
		{name: "retention in days", args: []string{"acme", "--tier", "shared", "--retain", "7d", "--yes"},
			want: MoveOptions{Move: fleet.MoveOptions{Name: "acme", Tier: tenantspec.TierShared, Retain: 7 * 24 * time.Hour, PauseTimeout: def}, Yes: true}},
		{name: "one phase", args: []string{"acme", "--tier", "schema", "--phase", "prepare", "--yes"},
			want: MoveOptions{Move: fleet.MoveOptions{Name: "acme", Tier: tenantspec.TierSchema, Phase: "prepare", PauseTimeout: def}, Yes: true}},
		{name: "finalize needs no tier", args: []string{"acme", "--phase", "finalize", "--yes"},
			want: MoveOptions{Move: fleet.MoveOptions{Name: "acme", Phase: "finalize", PauseTimeout: def}, Yes: true}},
		{name: "abort", args: []string{"acme", "--abort", "--yes"},
			want: MoveOptions{Move: fleet.MoveOptions{Name: "acme", Abort: true, PauseTimeout: def}, Yes: true}},
		{name: "due takes no name and no confirmation", args: []string{"--due"},
			want: MoveOptions{Move: fleet.MoveOptions{PauseTimeout: def}, Due: true}},
		{name: "pause timeout", args: []string{"acme", "--tier", "schema", "--pause-timeout", "2s", "--yes"},
			want: MoveOptions{Move: fleet.MoveOptions{Name: "acme", Tier: tenantspec.TierSchema, PauseTimeout: 2 * time.Second}, Yes: true}},

		{name: "no tier", args: []string{"acme", "--yes"}, wantErr: "say where the tenant goes with --tier"},
		{name: "unknown tier", args: []string{"acme", "--tier", "gold", "--yes"}, wantErr: `--tier: tier "gold" is unknown`},
		{name: "unknown phase", args: []string{"acme", "--tier", "schema", "--phase", "copy", "--yes"}, wantErr: `--phase "copy": use prepare, cutover or finalize`},
		{name: "abort with a tier", args: []string{"acme", "--abort", "--tier", "schema", "--yes"}, wantErr: "--abort takes no --tier"},
		{name: "finalize and retain", args: []string{"acme", "--tier", "schema", "--finalize", "--retain", "1d", "--yes"}, wantErr: "choose one"},
		{name: "finalize after prepare only", args: []string{"acme", "--tier", "schema", "--phase", "prepare", "--finalize", "--yes"}, wantErr: "cannot follow --phase prepare"},
		{name: "finalize phase with retain", args: []string{"acme", "--phase", "finalize", "--retain", "1d", "--yes"}, wantErr: "--phase finalize takes no --retain"},
		{name: "bad retention", args: []string{"acme", "--tier", "schema", "--retain", "a week", "--yes"}, wantErr: "want a positive duration"},
		{name: "zero pause timeout", args: []string{"acme", "--tier", "schema", "--pause-timeout", "0s", "--yes"}, wantErr: "--pause-timeout must be positive"},
		{name: "due with a name", args: []string{"acme", "--due"}, wantErr: "it takes no tenant name"},
		{name: "due with a tier", args: []string{"--due", "--tier", "schema"}, wantErr: "--due takes no other move flag"},
		{name: "no name", args: []string{"--tier", "schema", "--yes"}, wantErr: "tenant name"},
		{name: "bad name", args: []string{"ACME", "--tier", "schema", "--yes"}, wantErr: `use "acme" instead`},
		{name: "no confirmation off a terminal", args: []string{"acme", "--tier", "schema"}, wantErr: "pass --yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			var got *MoveOptions
			cmd := NewCmdMove(tenanttest.NewFactory(t, s, output.Table), func(o *MoveOptions) error { got = o; return nil })
			err := tenanttest.Execute(t, cmd, tt.args...)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if !tenanttest.IsUsage(err) || got != nil {
					t.Errorf("error %v: usage error %v, runF ran %v", err, tenanttest.IsUsage(err), got != nil)
				}
				return
			}
			if got == nil {
				t.Fatal("runF did not run")
			}
			g := *got
			g.IO, g.Format, g.Service = nil, "", nil
			if !reflect.DeepEqual(g, tt.want) {
				t.Errorf("options %+v, want %+v", g, tt.want)
			}
		})
	}
}

func TestParseRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "1d": 24 * time.Hour, "12h": 12 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := ParseRetention(in); err != nil || got != want {
			t.Errorf("ParseRetention(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0d", "-1d", "0s", "d", "7 days", "1w", "-5m"} {
		if got, err := ParseRetention(in); err == nil {
			t.Errorf("ParseRetention(%q) = %s; want an error", in, got)
		}
	}
}

// fakeMover records the moves it is asked for and answers with rep, err.
type fakeMover struct {
	moves   []fleet.MoveOptions
	due     int
	rep     *fleet.MoveReport
	err     error
	planned []fleet.MoveOptions
}

func (f *fakeMover) Move(_ context.Context, o fleet.MoveOptions, _ io.Writer) (*fleet.MoveReport, error) {
	f.moves = append(f.moves, o)
	return f.rep, f.err
}

func (f *fakeMover) FinalizeDue(context.Context, io.Writer) ([]*fleet.MoveReport, error) {
	f.due++
	return nil, f.err
}

func report() *fleet.MoveReport {
	return &fleet.MoveReport{
		Tenant: "acme", From: tenantspec.TierShared, To: tenantspec.TierSchema, Phase: "switched",
		Prepare: &move.PrepareReport{Tables: 2, Rows: 600, Replayed: 4},
		Cutover: &move.CutoverReport{Pause: 31 * time.Millisecond, RowsCompared: 604},
		Ended:   3,
		Timings: map[string]float64{fleet.PhaseCutover: 0.2, fleet.PhasePrepare: 0.4, "stack": 1.5},
	}
}

func TestMoveRunConfirms(t *testing.T) {
	tests := []struct {
		name, typed string
		opts        fleet.MoveOptions
		wantPrompt  string
		wantMoved   bool
	}{
		{name: "the name typed", typed: "acme\n", opts: fleet.MoveOptions{Name: "acme", Tier: tenantspec.TierSchema}, wantPrompt: `Move tenant "acme" to the schema tier?`, wantMoved: true},
		{name: "another name typed", typed: "acne\n", opts: fleet.MoveOptions{Name: "acme", Tier: tenantspec.TierSchema}, wantPrompt: `Move tenant "acme" to the schema tier?`},
		{name: "abort asks what it removes", typed: "\n", opts: fleet.MoveOptions{Name: "acme", Abort: true}, wantPrompt: `Abort the move of tenant "acme" and remove its new copy?`},
		{name: "finalize asks what it removes", typed: "acme\n", opts: fleet.MoveOptions{Name: "acme", Phase: fleet.PhaseFinalize}, wantPrompt: `Remove the old copy of tenant "acme" for good?`, wantMoved: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams(tt.typed, true)
			f := &fakeMover{rep: report()}
			err := moveRun(context.Background(), &MoveOptions{IO: s.IOStreams, Format: output.JSON, Service: func() (Mover, error) { return f, nil }, Move: tt.opts})
			if !strings.Contains(s.ErrBuf.String(), tt.wantPrompt) {
				t.Errorf("prompt %q, want it to ask %q", s.ErrBuf.String(), tt.wantPrompt)
			}
			if moved := len(f.moves) == 1; moved != tt.wantMoved {
				t.Fatalf("moved %v, want %v (err %v)", moved, tt.wantMoved, err)
			}
			if !tt.wantMoved {
				if !errors.Is(err, cmdutil.ErrCancelled) || !strings.Contains(err.Error(), "nothing was changed") {
					t.Errorf("err %v, want a cancellation that says nothing changed", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(f.moves[0], tt.opts) {
				t.Errorf("moved %+v (err %v), want %+v", f.moves[0], err, tt.opts)
			}
		})
	}
}

func TestMoveRunPrints(t *testing.T) {
	t.Run("one row per phase, in order", func(t *testing.T) {
		s := tenanttest.NewStreams("", false)
		f := &fakeMover{rep: report()}
		if err := moveRun(context.Background(), &MoveOptions{IO: s.IOStreams, Format: output.Table, Yes: true, Service: func() (Mover, error) { return f, nil }, Move: fleet.MoveOptions{Name: "acme", Tier: tenantspec.TierSchema}}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(s.OutBuf.String()), "\n")
		if len(lines) != 3 { // off a terminal: no header
			t.Fatalf("output %q: want three phases", s.OutBuf.String())
		}
		for i, want := range []string{"prepare", "cutover", "stack"} {
			if f := strings.Split(lines[i], "\t"); len(f) < 6 || f[3] != want {
				t.Errorf("row %d is %q; want phase %s", i, lines[i], want)
			}
		}
		if !strings.Contains(lines[1], "writes paused 31ms, 604 rows compared, 3 sessions ended") {
			t.Errorf("cutover row %q does not say the pause, the rows compared and the sessions ended", lines[2])
		}
	})
	t.Run("a failure after the switch still reports it", func(t *testing.T) {
		s := tenanttest.NewStreams("", false)
		f := &fakeMover{rep: report(), err: errors.New("stack update failed")}
		err := moveRun(context.Background(), &MoveOptions{IO: s.IOStreams, Format: output.JSON, Yes: true, Service: func() (Mover, error) { return f, nil }, Move: fleet.MoveOptions{Name: "acme", Tier: tenantspec.TierSchema}})
		if err == nil || !strings.Contains(s.OutBuf.String(), `"pauseNanos": 31000000`) {
			t.Errorf("err %v, output %q: want the error and the cutover's report", err, s.OutBuf.String())
		}
	})
	t.Run("a failure before it prints nothing", func(t *testing.T) {
		s := tenanttest.NewStreams("", false)
		r := report()
		r.Cutover = nil
		f := &fakeMover{rep: r, err: errors.New("copy failed")}
		err := moveRun(context.Background(), &MoveOptions{IO: s.IOStreams, Format: output.JSON, Yes: true, Service: func() (Mover, error) { return f, nil }, Move: fleet.MoveOptions{Name: "acme", Tier: tenantspec.TierSchema}})
		if err == nil || s.OutBuf.Len() != 0 {
			t.Errorf("err %v, output %q: want the error alone", err, s.OutBuf.String())
		}
	})
}
