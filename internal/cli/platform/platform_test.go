package platform

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/fleet"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		verb    string
		config  map[string]string
		wantErr string
	}{
		{name: "up with config", args: []string{"up", "--set", "kubeconfig=/k", "--set", "tenantstack:redisAdminUrl=redis://a:b@h:1"}, verb: "up",
			config: map[string]string{"kubeconfig": "/k", "redisAdminUrl": "redis://a:b@h:1"}},
		{name: "preview", args: []string{"preview"}, verb: "preview", config: map[string]string{}},
		{name: "bad set", args: []string{"up", "--set", "novalue"}, wantErr: "KEY=VALUE"},
		{name: "empty key", args: []string{"up", "--set", "=x"}, wantErr: "KEY=VALUE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := cmdutil.NewFactory(&cmdutil.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
			var got *Options
			cmd := NewCmdPlatform(f, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(tc.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if tc.wantErr != "" {
				var usage *cmdutil.UsageError
				if !errors.As(err, &usage) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want a usage error mentioning %q", err, tc.wantErr)
				}
				if got != nil {
					t.Fatal("run was called despite bad input")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Verb != tc.verb || len(got.Config) != len(tc.config) {
				t.Fatalf("verb %q config %v, want %q %v", got.Verb, got.Config, tc.verb, tc.config)
			}
			for k, v := range tc.config {
				if got.Config[k] != v {
					t.Errorf("config[%s] = %q, want %q", k, got.Config[k], v)
				}
			}
		})
	}
}

type fakeService struct {
	calls  []string
	config fleet.PlatformConfig
}

func (f *fakeService) PlatformUp(_ context.Context, cfg fleet.PlatformConfig, _ io.Writer) (*fleet.PlatformResult, error) {
	f.calls = append(f.calls, "up")
	f.config = cfg
	return &fleet.PlatformResult{Stack: "local", Changes: map[string]int{"create": 3}, Outputs: map[string]string{"postgresAdminUrl": "[secret]"}}, nil
}
func (f *fakeService) PlatformPreview(context.Context, fleet.PlatformConfig, io.Writer) (*fleet.PlatformResult, error) {
	f.calls = append(f.calls, "preview")
	return &fleet.PlatformResult{}, nil
}
func (f *fakeService) PlatformDestroy(context.Context, io.Writer) (*fleet.PlatformResult, error) {
	f.calls = append(f.calls, "destroy")
	return &fleet.PlatformResult{}, nil
}
func (f *fakeService) PlatformOutputs(context.Context, bool) (*fleet.PlatformResult, error) {
	f.calls = append(f.calls, "outputs")
	return &fleet.PlatformResult{}, nil
}

func TestRun(t *testing.T) {
	cases := []struct {
		name       string
		verb       string
		yes, tty   bool
		input      string
		wantCalls  string
		wantOut    string
		wantErrMsg string
	}{
		{name: "up prints changes and masked outputs", verb: "up", wantCalls: "up", wantOut: "change\tcreate\t3\noutput\tpostgresAdminUrl\t[secret]\n"},
		{name: "destroy off a terminal needs --yes", verb: "destroy", wantErrMsg: "--yes"},
		{name: "destroy refused at the prompt", verb: "destroy", tty: true, input: "no\n", wantErrMsg: "nothing was destroyed"},
		{name: "destroy confirmed at the prompt", verb: "destroy", tty: true, input: "destroy\n", wantCalls: "destroy"},
		{name: "destroy with --yes", verb: "destroy", yes: true, wantCalls: "destroy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			svc := &fakeService{}
			ios := &cmdutil.IOStreams{In: strings.NewReader(tc.input), Out: &out, ErrOut: io.Discard, InTerminal: tc.tty}
			f := cmdutil.NewFactory(ios)
			o := &Options{IO: ios, Verb: tc.verb, Yes: tc.yes,
				Service: func() (Service, error) { return svc, nil },
				Printer: func() interface {
					Print(any, []string, [][]string) error
				} {
					return f.Printer()
				}}
			err := run(context.Background(), o)
			if tc.wantErrMsg != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrMsg) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErrMsg)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(svc.calls, ","); got != tc.wantCalls {
				t.Errorf("service calls = %q, want %q", got, tc.wantCalls)
			}
			if tc.wantOut != "" && out.String() != tc.wantOut {
				t.Errorf("stdout = %q, want %q", out.String(), tc.wantOut)
			}
		})
	}
}

// TestLocalEndpointsAreDefaults: --set values are written to the stack, the
// local platform's endpoints only go where the stack has none (Defaults).
func TestLocalEndpointsAreDefaults(t *testing.T) {
	svc := &fakeService{}
	ios := &cmdutil.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}
	f := cmdutil.NewFactory(ios)
	o := &Options{IO: ios, Verb: "up", Set: []string{"tenantstack:kubeconfig=/k"},
		LocalEndpoints: func(context.Context) map[string]string {
			return map[string]string{"postgresAdminUrl": "postgres://local"}
		},
		Service: func() (Service, error) { return svc, nil },
		Printer: func() interface {
			Print(any, []string, [][]string) error
		} {
			return f.Printer()
		}}
	if err := o.complete(); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if svc.config.Set["kubeconfig"] != "/k" || len(svc.config.Set) != 1 {
		t.Errorf("Set = %v, want only kubeconfig=/k", svc.config.Set)
	}
	if svc.config.Defaults["postgresAdminUrl"] != "postgres://local" {
		t.Errorf("Defaults = %v, want the local platform's endpoints", svc.config.Defaults)
	}
}
