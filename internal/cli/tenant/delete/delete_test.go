package delete

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

func TestNewCmdDelete(t *testing.T) {
	abs, err := filepath.Abs("backup/acme")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		terminal bool
		args     []string
		want     DeleteOptions // Name, ExportDir, Yes
		wantErr  string
	}{
		{name: "terminal asks later", terminal: true, args: []string{"acme"}, want: DeleteOptions{Name: "acme"}},
		{name: "yes", args: []string{"acme", "--yes"}, want: DeleteOptions{Name: "acme", Yes: true}},
		{name: "short yes", args: []string{"acme", "-y"}, want: DeleteOptions{Name: "acme", Yes: true}},
		{name: "export is made absolute", args: []string{"acme", "--yes", "--export", "backup/acme"}, want: DeleteOptions{Name: "acme", Yes: true, ExportDir: abs}},
		{
			name: "no terminal and no yes", args: []string{"acme"},
			wantErr: `refusing to delete tenant "acme" without confirmation: stdin is not a terminal; pass --yes to delete it and all its data`,
		},
		{name: "bad name before anything", terminal: true, args: []string{"acme;rm"}, wantErr: "';'"},
		{name: "reserved name", args: []string{"default", "--yes"}, wantErr: "is reserved"},
		{name: "two names", args: []string{"acme", "beta", "--yes"}, wantErr: "got 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", tt.terminal)
			var got *DeleteOptions
			cmd := NewCmdDelete(tenanttest.NewFactory(t, s, output.Table), func(o *DeleteOptions) error { got = o; return nil })
			err := tenanttest.Execute(t, cmd, tt.args...)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if cmdutil.ExitCode(err) != cmdutil.ExitUsage || got != nil {
					t.Errorf("error %v: exit code %d, runF ran %v", err, cmdutil.ExitCode(err), got != nil)
				}
				return
			}
			if got == nil {
				t.Fatal("runF did not run")
			}
			if got.Name != tt.want.Name || got.ExportDir != tt.want.ExportDir || got.Yes != tt.want.Yes {
				t.Errorf("got name %q export %q yes %v, want %q %q %v", got.Name, got.ExportDir, got.Yes, tt.want.Name, tt.want.ExportDir, tt.want.Yes)
			}
		})
	}
}

type deleteCall struct {
	name, exportDir, to string
	retain              time.Duration
}

type fakeDeleter struct {
	calls  []deleteCall
	report *fleet.DeleteReport
	err    error
}

func (f *fakeDeleter) Delete(_ context.Context, name, exportDir string, progress io.Writer) (*fleet.DeleteReport, error) {
	f.calls = append(f.calls, deleteCall{name: name, exportDir: exportDir})
	fmt.Fprintln(progress, "deleting")
	return f.report, f.err
}

func (f *fakeDeleter) DeleteRetained(_ context.Context, name, to string, key fleet.BackupKey, retain time.Duration, _ io.Writer) (*fleet.RetainReport, error) {
	f.calls = append(f.calls, deleteCall{name: name, to: to, retain: retain})
	return &fleet.RetainReport{Retention: fleet.Retention{Tenant: name, ArchiveURL: to, ArchiveKey: name + "/x.tsbackup",
		PurgeAfter: time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)}}, f.err
}

func TestDeleteRetainFlags(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass")
	if err := os.WriteFile(pass, []byte("a long enough passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bucket := "file://" + filepath.Join(dir, "archives")
	for _, tc := range []struct {
		name    string
		args    []string
		retain  time.Duration
		wantErr string
	}{
		{"retain 30d", []string{"acme", "--yes", "--retain", "30d", "--to", bucket, "--key-file", pass}, 30 * 24 * time.Hour, ""},
		{"retain with a recipient", []string{"acme", "--yes", "--retain", "12h", "--to", "s3://b", "--recipient", "age1abc"}, 12 * time.Hour, ""},
		{"bad duration", []string{"acme", "--yes", "--retain", "a month", "--to", bucket, "--key-file", pass}, 0, "positive duration"},
		{"no destination", []string{"acme", "--yes", "--retain", "30d", "--key-file", pass}, 0, "--to is required"},
		{"no key", []string{"acme", "--yes", "--retain", "30d", "--to", bucket}, 0, "always encrypted"},
		{"key beside the archives", []string{"acme", "--yes", "--retain", "30d", "--to", "file://" + dir, "--key-file", pass}, 0, "keep the key away"},
		{"relative file url", []string{"acme", "--yes", "--retain", "30d", "--to", "file://archives", "--key-file", pass}, 0, "absolute path"},
		{"unknown scheme", []string{"acme", "--yes", "--retain", "30d", "--to", "ftp://x/y", "--key-file", pass}, 0, "bucket URL"},
		{"with export", []string{"acme", "--yes", "--retain", "30d", "--to", bucket, "--key-file", pass, "--export", dir}, 0, "choose one"},
		{"to without retain", []string{"acme", "--yes", "--to", bucket}, 0, "go with --retain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			var got *DeleteOptions
			cmd := NewCmdDelete(tenanttest.NewFactory(t, s, output.Table), func(o *DeleteOptions) error { got = o; return nil })
			err := tenanttest.Execute(t, cmd, tc.args...)
			tenanttest.CheckErr(t, err, tc.wantErr)
			if err != nil {
				if cmdutil.ExitCode(err) != cmdutil.ExitUsage || got != nil {
					t.Errorf("error %v: exit code %d, runF ran %v", err, cmdutil.ExitCode(err), got != nil)
				}
				return
			}
			if got.Retain != tc.retain {
				t.Errorf("retain %v, want %v", got.Retain, tc.retain)
			}
		})
	}
}

func TestDeleteRetainRun(t *testing.T) {
	s := tenanttest.NewStreams("", false)
	svc := &fakeDeleter{}
	opts := &DeleteOptions{IO: s.IOStreams, Format: output.Table, Service: func() (Deleter, error) { return svc, nil },
		Name: "acme", Yes: true, Retain: time.Hour, To: "s3://b"}
	if err := deleteRun(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	if len(svc.calls) != 1 || svc.calls[0] != (deleteCall{name: "acme", to: "s3://b", retain: time.Hour}) {
		t.Fatalf("calls %+v", svc.calls)
	}
	if want := "acme\tsuspended\ts3://b acme/x.tsbackup\t2027-01-02T03:04:05Z\n"; s.OutBuf.String() != want {
		t.Errorf("stdout %q, want %q", s.OutBuf.String(), want)
	}
}

const prompt = `Delete tenant "acme" and all its data? Type the tenant name to confirm: `

// TestDeleteConfirmation runs the command from its arguments to the fake
// service, so it covers the whole decision: ask, refuse or proceed.
func TestDeleteConfirmation(t *testing.T) {
	tests := []struct {
		name       string
		terminal   bool
		in         string
		args       []string
		wantCalled bool
		wantPrompt bool
		wantExit   int
	}{
		{name: "terminal, name typed", terminal: true, in: "acme\n", args: []string{"acme"}, wantCalled: true, wantPrompt: true},
		{name: "terminal, y typed", terminal: true, in: "y\n", args: []string{"acme"}, wantPrompt: true, wantExit: cmdutil.ExitCancelled},
		{name: "terminal, other name typed", terminal: true, in: "beta\n", args: []string{"acme"}, wantPrompt: true, wantExit: cmdutil.ExitCancelled},
		{name: "terminal, end of input", terminal: true, in: "", args: []string{"acme"}, wantPrompt: true, wantExit: cmdutil.ExitCancelled},
		{name: "terminal with yes does not ask", terminal: true, in: "nope\n", args: []string{"acme", "--yes"}, wantCalled: true},
		{name: "no terminal, no yes", in: "acme\n", args: []string{"acme"}, wantExit: cmdutil.ExitUsage},
		{name: "no terminal with yes", args: []string{"acme", "--yes"}, wantCalled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams(tt.in, tt.terminal)
			svc := &fakeDeleter{report: &fleet.DeleteReport{Tenant: "acme", Removed: []string{"role tenant_acme"}}}
			cmd := NewCmdDelete(tenanttest.NewFactory(t, s, output.Table), func(o *DeleteOptions) error {
				o.Service = func() (Deleter, error) { return svc, nil }
				return deleteRun(t.Context(), o)
			})
			err := tenanttest.Execute(t, cmd, tt.args...)
			if got := cmdutil.ExitCode(err); got != tt.wantExit {
				t.Fatalf("exit code %d (%v), want %d", got, err, tt.wantExit)
			}
			if tt.wantExit == cmdutil.ExitCancelled && !errors.Is(err, cmdutil.ErrCancelled) {
				t.Errorf("error %v does not wrap ErrCancelled", err)
			}
			if called := len(svc.calls) > 0; called != tt.wantCalled {
				t.Errorf("Delete called %v, want %v", svc.calls, tt.wantCalled)
			}
			gotPrompt := len(s.ErrBuf.String()) >= len(prompt) && s.ErrBuf.String()[:len(prompt)] == prompt
			if gotPrompt != tt.wantPrompt {
				t.Errorf("stderr %q: prompt shown %v, want %v", s.ErrBuf.String(), gotPrompt, tt.wantPrompt)
			}
			if !tt.wantCalled && s.OutBuf.Len() != 0 {
				t.Errorf("stdout = %q after a refusal", s.OutBuf.String())
			}
		})
	}
}

func TestDeleteRun(t *testing.T) {
	tests := []struct {
		name       string
		format     output.Format
		terminal   bool
		exportDir  string
		svc        *fakeDeleter
		wantOut    string
		wantErr    string
		wantExit   int
		wantStderr string
	}{
		{
			name: "table for scripts", format: output.Table, exportDir: "/backups/acme",
			svc:        &fakeDeleter{report: &fleet.DeleteReport{Tenant: "acme", ExportedTo: "/backups/acme", Removed: []string{"role tenant_acme", "namespace tenant-acme"}}},
			wantOut:    "exported\t/backups/acme\nremoved\trole tenant_acme\nremoved\tnamespace tenant-acme\n",
			wantStderr: "deleting\nTenant \"acme\" is deleted; nothing of it is left.\n",
		},
		{
			name: "table on a terminal", format: output.Table, terminal: true,
			svc:     &fakeDeleter{report: &fleet.DeleteReport{Tenant: "acme", Removed: []string{"role tenant_acme"}}},
			wantOut: "STATE    RESOURCE\nremoved  role tenant_acme\n",
		},
		{
			name: "json lists are never null", format: output.JSON,
			svc:     &fakeDeleter{report: &fleet.DeleteReport{Tenant: "acme"}},
			wantOut: "{\n  \"tenant\": \"acme\",\n  \"removed\": [],\n  \"leftovers\": []\n}\n",
		},
		{
			name: "leftovers fail", format: output.Table,
			svc:      &fakeDeleter{report: &fleet.DeleteReport{Tenant: "acme", Removed: []string{"role tenant_acme"}, Leftovers: []string{"redis user tenant-acme", "3 keys t:acme:*"}}},
			wantOut:  "removed\trole tenant_acme\nleftover\tredis user tenant-acme\nleftover\t3 keys t:acme:*\n",
			wantErr:  `tenant "acme" was deleted, but not all of it is gone (2 resources left: redis user tenant-acme, 3 keys t:acme:*); run "tenantctl delete acme" again, or remove them by hand`,
			wantExit: cmdutil.ExitError,
		},
		{
			name: "not found", format: output.Table,
			svc:     &fakeDeleter{err: fmt.Errorf("tenant \"acme\" does not exist: %w", fleet.ErrNotFound)},
			wantErr: "does not exist", wantExit: cmdutil.ExitNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", tt.terminal)
			opts := &DeleteOptions{IO: s.IOStreams, Format: tt.format, Name: "acme", ExportDir: tt.exportDir, Yes: true,
				Service: func() (Deleter, error) { return tt.svc, nil }}
			err := deleteRun(t.Context(), opts)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if got := cmdutil.ExitCode(err); got != tt.wantExit {
				t.Errorf("exit code %d, want %d", got, tt.wantExit)
			}
			if want := []deleteCall{{name: "acme", exportDir: tt.exportDir}}; !reflect.DeepEqual(tt.svc.calls, want) {
				t.Errorf("Delete calls %v, want %v", tt.svc.calls, want)
			}
			if s.OutBuf.String() != tt.wantOut {
				t.Errorf("stdout = %q, want %q", s.OutBuf.String(), tt.wantOut)
			}
			if tt.wantStderr != "" && s.ErrBuf.String() != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", s.ErrBuf.String(), tt.wantStderr)
			}
		})
	}
}
