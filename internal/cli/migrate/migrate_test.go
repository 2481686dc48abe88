package migrate

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	engine "github.com/tenantstack/tenantstack/internal/migrate"
	"github.com/tenantstack/tenantstack/internal/output"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		wantErr string
	}{
		{"plan needs nothing", Options{Verb: "plan"}, ""},
		{"up on a terminal asks", Options{Verb: "up", Canary: "1", Parallel: 4, LockTimeout: time.Second, StatementTimeout: time.Minute, IO: &cmdutil.IOStreams{InTerminal: true}}, ""},
		{"up off a terminal needs --yes", Options{Verb: "up", Canary: "1", Parallel: 4, LockTimeout: time.Second, StatementTimeout: time.Minute, IO: &cmdutil.IOStreams{}}, "pass --yes"},
		{"parallel", Options{Verb: "up", Canary: "1", Parallel: 0, Yes: true, LockTimeout: time.Second, StatementTimeout: time.Minute}, "--parallel 0"},
		{"canary names", Options{Verb: "up", Canary: "acme, globex", Parallel: 1, Yes: true, LockTimeout: time.Second, StatementTimeout: time.Minute}, ""},
		{"negative canary", Options{Verb: "up", Canary: "-2", Parallel: 1, Yes: true, LockTimeout: time.Second, StatementTimeout: time.Minute}, "--canary -2"},
		{"empty canary", Options{Verb: "up", Canary: " , ", Parallel: 1, Yes: true, LockTimeout: time.Second, StatementTimeout: time.Minute}, "--canary"},
		{"timeouts", Options{Verb: "up", Canary: "1", Parallel: 1, Yes: true}, "--lock-timeout"},
		{"negative --to", Options{Verb: "plan", To: -1}, "--to -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("validate: %v", err)
				}
				return
			}
			var usage *cmdutil.UsageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("validate = %v, want a usage error saying %q", err, tt.wantErr)
			}
		})
	}
	n, names, _ := (&Options{Canary: "0"}).canary()
	if n != -1 || names != nil {
		t.Fatalf("--canary 0 = %d %v, want no canary wave (-1)", n, names)
	}
	_, names, _ = (&Options{Canary: "acme,globex"}).canary()
	if strings.Join(names, "|") != "acme|globex" {
		t.Fatalf("--canary acme,globex = %v", names)
	}
}

type fakeEngine struct {
	up      engine.UpOptions
	report  *engine.Report
	lock    time.Duration
	stmt    time.Duration
	planErr error
}

func (f *fakeEngine) Plan(context.Context, engine.PlanOptions) (*engine.Plan, error) {
	return &engine.Plan{Dir: "m", Latest: 2, Goal: 2, Held: []int64{}, Targets: []engine.TargetPlan{
		{Target: "app", Tier: "shared", Current: 1, Pending: []int64{2}, Tenants: []string{"acme"}}}}, f.planErr
}

func (f *fakeEngine) Up(_ context.Context, o engine.UpOptions) (*engine.Report, error) {
	f.up = o
	return f.report, nil
}

func (f *fakeEngine) Status(context.Context) (*engine.Status, error) { return &engine.Status{}, nil }

func (f *fakeEngine) SetTimeouts(lock, stmt time.Duration) { f.lock, f.stmt = lock, stmt }

func TestUpReportsFailuresAndPassesOptions(t *testing.T) {
	fail := &engine.Failure{Target: "globex", File: "0002_b.up.sql", Line: 1, SQLState: "23514", Message: "violated"}
	fe := &fakeEngine{report: &engine.Report{
		Plan: &engine.Plan{Dir: "m", Latest: 2, Goal: 2, Held: []int64{}},
		Results: []engine.TargetResult{
			{Target: "acme", Tier: "schema", From: 1, To: 2},
			{Target: "globex", Tier: "schema", From: 1, To: 1, Failure: fail},
		},
		Stopped: "a target failed; 3 targets were not started",
	}}
	var out, errOut bytes.Buffer
	o := &Options{IO: &cmdutil.IOStreams{Out: &out, ErrOut: &errOut}, Verb: "up", Canary: "acme", Parallel: 3, Yes: true,
		LockTimeout: 2 * time.Second, StatementTimeout: time.Minute, Format: output.Table,
		Engine: func(context.Context) (Engine, error) { return fe, nil }}
	err := run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 targets failed") || !strings.Contains(err.Error(), "target globex: 0002_b.up.sql:1: violated (SQLSTATE 23514)") {
		t.Fatalf("run = %v", err)
	}
	if strings.Join(fe.up.CanaryNames, ",") != "acme" || fe.up.Parallel != 3 || fe.up.Confirm != nil || fe.lock != 2*time.Second || fe.stmt != time.Minute {
		t.Fatalf("options passed: %+v lock %v stmt %v", fe.up, fe.lock, fe.stmt)
	}
	if !strings.Contains(out.String(), "globex\tschema\t1\t1\t0.00\tFAILED: target globex") || !strings.Contains(errOut.String(), "3 targets were not started") {
		t.Fatalf("stdout %q stderr %q", out.String(), errOut.String())
	}
}

func TestPlanPrintsPending(t *testing.T) {
	var out, errOut bytes.Buffer
	o := &Options{IO: &cmdutil.IOStreams{Out: &out, ErrOut: &errOut}, Verb: "plan", Format: output.Table,
		Engine: func(context.Context) (Engine, error) { return &fakeEngine{}, nil }}
	if err := run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if out.String() != "app\tshared\t1\t2\tacme\n" || !strings.Contains(errOut.String(), "1 of 1 targets have migrations pending") {
		t.Fatalf("stdout %q stderr %q", out.String(), errOut.String())
	}
}
