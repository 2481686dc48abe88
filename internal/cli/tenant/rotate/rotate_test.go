package rotate

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
	"github.com/tenantstack/tenantstack/internal/output"
)

func TestNewCmdRotate(t *testing.T) {
	def := 5 * time.Minute
	tests := []struct {
		name    string
		args    []string
		want    RotateOptions // IO, Format and Service are not compared
		wantErr string
	}{
		{name: "both, default grace, no confirmation needed", args: []string{"acme"},
			want: RotateOptions{Rotate: fleet.RotateOptions{Name: "acme", Grace: def}}},
		{name: "redis only with a grace", args: []string{"acme", "--redis", "--grace", "10m"},
			want: RotateOptions{Rotate: fleet.RotateOptions{Name: "acme", Redis: true, Grace: 10 * time.Minute}}},
		{name: "no revoke", args: []string{"acme", "--postgres", "--no-revoke"},
			want: RotateOptions{Rotate: fleet.RotateOptions{Name: "acme", Postgres: true, NoRevoke: true, Grace: def}}},
		{name: "grace 0 with yes", args: []string{"acme", "--grace", "0", "--yes"},
			want: RotateOptions{Rotate: fleet.RotateOptions{Name: "acme"}, Yes: true}},
		{name: "finish", args: []string{"acme", "--finish", "--yes"},
			want: RotateOptions{Rotate: fleet.RotateOptions{Name: "acme", Finish: true, Grace: def}, Yes: true}},
		{name: "all older than 30 days", args: []string{"--all", "--older-than", "30d", "--yes"},
			want: RotateOptions{Rotate: fleet.RotateOptions{Grace: def}, All: true, OlderThan: 30 * 24 * time.Hour, Yes: true}},
		{name: "all without revoking needs no yes", args: []string{"--all", "--older-than", "12h", "--no-revoke"},
			want: RotateOptions{Rotate: fleet.RotateOptions{Grace: def, NoRevoke: true}, All: true, OlderThan: 12 * time.Hour}},

		{name: "grace 0 off a terminal", args: []string{"acme", "--grace", "0"}, wantErr: "pass --yes"},
		{name: "finish off a terminal", args: []string{"acme", "--finish"}, wantErr: "pass --yes"},
		{name: "all off a terminal", args: []string{"--all", "--older-than", "30d"}, wantErr: "pass --yes"},
		{name: "grace and no revoke", args: []string{"acme", "--grace", "1m", "--no-revoke"}, wantErr: "choose one"},
		{name: "bad grace", args: []string{"acme", "--grace", "soon"}, wantErr: `--grace: "soon" is not a duration`},
		{name: "negative grace", args: []string{"acme", "--grace", "-1m"}, wantErr: "--grace"},
		{name: "finish with a grace", args: []string{"acme", "--finish", "--grace", "1m", "--yes"}, wantErr: "--finish revokes"},
		{name: "finish with redis", args: []string{"acme", "--finish", "--redis", "--yes"}, wantErr: "--finish revokes"},
		{name: "all without age", args: []string{"--all", "--yes"}, wantErr: "--all needs --older-than"},
		{name: "all with a name", args: []string{"acme", "--all", "--older-than", "1d"}, wantErr: "takes no tenant name"},
		{name: "age without all", args: []string{"acme", "--older-than", "1d"}, wantErr: "--older-than goes with --all"},
		{name: "zero age", args: []string{"--all", "--older-than", "0d", "--yes"}, wantErr: "--older-than"},
		{name: "no name", args: nil, wantErr: "tenant name"},
		{name: "bad name", args: []string{"ACME"}, wantErr: `use "acme" instead`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			var got *RotateOptions
			cmd := NewCmdRotate(tenanttest.NewFactory(t, s, output.Table), func(o *RotateOptions) error { got = o; return nil })
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

type fakeRotator struct {
	rotations []fleet.RotateOptions
	due       []fleet.RotateDueOptions
	rep       *fleet.RotateReport
	dueRep    *fleet.RotateDueReport
	err       error
}

func (f *fakeRotator) Rotate(_ context.Context, o fleet.RotateOptions, _ io.Writer) (*fleet.RotateReport, error) {
	f.rotations = append(f.rotations, o)
	return f.rep, f.err
}

func (f *fakeRotator) RotateDue(_ context.Context, o fleet.RotateDueOptions, _ io.Writer) (*fleet.RotateDueReport, error) {
	f.due = append(f.due, o)
	return f.dueRep, f.err
}

var at = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func revoked() *fleet.RotateReport {
	return &fleet.RotateReport{Tenant: "acme", Phase: fleet.RotationRevoked, Postgres: true, Redis: true,
		OldUser: "tenant_acme", NewUser: "tenant_acme-2", Switched: at, Revoked: at.Add(5 * time.Minute), OldSessions: 2}
}

func TestRotateRunPrints(t *testing.T) {
	s := tenanttest.NewStreams("", false)
	f := &fakeRotator{rep: revoked()}
	opts := &RotateOptions{IO: s.IOStreams, Format: output.Table, Service: func() (Rotator, error) { return f, nil },
		Rotate: fleet.RotateOptions{Name: "acme", Grace: time.Minute}}
	if err := rotateRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	want := "acme\trevoked\tpostgres,redis\ttenant_acme\ttenant_acme-2\t2026-12-03T12:00:00Z\t2026-12-03T12:05:00Z\t2\n"
	if got := s.OutBuf.String(); got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if !strings.Contains(s.ErrBuf.String(), "the old credential is refused") {
		t.Errorf("stderr %q does not say the old credential is refused", s.ErrBuf.String())
	}
	if s.ErrBuf.Len() > 0 && strings.Contains(s.OutBuf.String()+s.ErrBuf.String(), "password") {
		t.Errorf("output mentions a password")
	}
}

func TestRotateRunConfirms(t *testing.T) {
	for _, tc := range []struct {
		name, typed string
		wantRotated bool
	}{
		{"yes typed", "yes\n", true},
		{"anything else", "y\n", false},
		{"end of input", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tenanttest.NewStreams(tc.typed, true)
			f := &fakeRotator{rep: revoked()}
			err := rotateRun(context.Background(), &RotateOptions{IO: s.IOStreams, Format: output.JSON, Service: func() (Rotator, error) { return f, nil },
				Rotate: fleet.RotateOptions{Name: "acme", Finish: true}})
			if !strings.Contains(s.ErrBuf.String(), `revoke the old credential of tenant "acme"`) {
				t.Errorf("prompt %q", s.ErrBuf.String())
			}
			if got := len(f.rotations) == 1; got != tc.wantRotated {
				t.Fatalf("rotated %v, want %v (err %v)", got, tc.wantRotated, err)
			}
			if !tc.wantRotated && !errors.Is(err, cmdutil.ErrCancelled) {
				t.Fatalf("err %v, want a cancellation", err)
			}
		})
	}
}

func TestRotateAllReportsFailures(t *testing.T) {
	s := tenanttest.NewStreams("", false)
	f := &fakeRotator{dueRep: &fleet.RotateDueReport{Rotated: []*fleet.RotateReport{revoked()},
		Skipped: map[string]string{"beta": "status suspended"}, Failed: map[string]string{"gamma": "pulumi up failed"}}}
	err := rotateRun(context.Background(), &RotateOptions{IO: s.IOStreams, Format: output.Table, Yes: true, All: true, OlderThan: time.Hour,
		Service: func() (Rotator, error) { return f, nil }, Rotate: fleet.RotateOptions{Grace: time.Minute}})
	if err == nil || !strings.Contains(err.Error(), "1 rotation failed") {
		t.Fatalf("err %v, want one failure reported", err)
	}
	if len(f.due) != 1 || f.due[0].OlderThan != time.Hour || f.due[0].Grace != time.Minute {
		t.Fatalf("RotateDue got %+v", f.due)
	}
	for _, want := range []string{"beta: skipped (status suspended)", "gamma: failed: pulumi up failed"} {
		if !strings.Contains(s.ErrBuf.String(), want) {
			t.Errorf("stderr %q lacks %q", s.ErrBuf.String(), want)
		}
	}
	if !strings.HasPrefix(s.OutBuf.String(), "acme\trevoked") {
		t.Errorf("stdout %q", s.OutBuf.String())
	}
}
