package restore

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tenantstack/tenantstack/internal/backup"
	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

func TestNewCmdRestore(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass")
	os.WriteFile(pass, []byte("a long enough passphrase\n"), 0o600)
	bucket := "file://" + filepath.Join(dir, "archives")
	tests := []struct {
		name     string
		terminal bool
		args     []string
		want     fleet.RestoreOptions
		wantErr  string
	}{
		{name: "newest archive", args: []string{"acme", "--from", bucket, "--key-file", pass, "--yes"},
			want: fleet.RestoreOptions{Name: "acme", From: bucket, Key: fleet.BackupKey{PassphraseFile: pass}}},
		{name: "into a new schema tenant", args: []string{"acme", "--from", bucket, "--identity", pass, "--as", "acme2", "--tier", "schema", "--yes"},
			want: fleet.RestoreOptions{Name: "acme", From: bucket, As: "acme2", Tier: tenantspec.TierSchema, Key: fleet.BackupKey{IdentityFile: pass}}},
		{name: "one archive", terminal: true, args: []string{"acme", "--from", bucket, "--key-file", pass, "--archive", "acme/acme-1.tsbackup"},
			want: fleet.RestoreOptions{Name: "acme", From: bucket, Archive: "acme/acme-1.tsbackup", Key: fleet.BackupKey{PassphraseFile: pass}}},
		{name: "another tenant's archive", args: []string{"acme", "--from", bucket, "--key-file", pass, "--archive", "globex/globex-1.tsbackup", "--yes"}, wantErr: `not an archive of tenant "acme"`},
		{name: "no key", args: []string{"acme", "--from", bucket, "--yes"}, wantErr: "--key-file FILE (a passphrase) or --identity"},
		{name: "two keys", args: []string{"acme", "--from", bucket, "--key-file", pass, "--identity", pass, "--yes"}, wantErr: "give one"},
		{name: "no source", args: []string{"acme", "--key-file", pass, "--yes"}, wantErr: "--from is required"},
		{name: "bad tier", args: []string{"acme", "--from", bucket, "--key-file", pass, "--tier", "gold", "--yes"}, wantErr: "--tier"},
		{name: "as itself", args: []string{"acme", "--from", bucket, "--key-file", pass, "--as", "acme", "--yes"}, wantErr: "leave --as out"},
		{name: "bad as", args: []string{"acme", "--from", bucket, "--key-file", pass, "--as", "Bad_Name", "--yes"}, wantErr: "--as"},
		{name: "no terminal no yes", args: []string{"acme", "--from", bucket, "--key-file", pass}, wantErr: "pass --yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", tt.terminal)
			var got *RestoreOptions
			cmd := NewCmdRestore(tenanttest.NewFactory(t, s, output.Table), func(o *RestoreOptions) error { got = o; return nil })
			err := tenanttest.Execute(t, cmd, tt.args...)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if cmdutil.ExitCode(err) != cmdutil.ExitUsage || got != nil {
					t.Errorf("error %v: exit code %d, runF ran %v", err, cmdutil.ExitCode(err), got != nil)
				}
				return
			}
			r := got.Restore
			if r.Name != tt.want.Name || r.From != tt.want.From || r.As != tt.want.As || r.Tier != tt.want.Tier || r.Archive != tt.want.Archive ||
				r.Key.PassphraseFile != tt.want.Key.PassphraseFile || r.Key.IdentityFile != tt.want.Key.IdentityFile {
				t.Errorf("got %+v, want %+v", r, tt.want)
			}
		})
	}
}

type fakeRestorer struct{ called bool }

func (f *fakeRestorer) Restore(_ context.Context, o fleet.RestoreOptions, _ io.Writer) (*fleet.RestoreReport, error) {
	f.called = true
	return &fleet.RestoreReport{RestoreResult: &backup.RestoreResult{Tenant: o.Name, Key: "acme/k.tsbackup", ArchiveTier: "shared",
		Tables: []backup.TableResult{{Table: "accounts", Rows: 5, Removed: 7, Verified: true}}, RedisKeys: 2}}, nil
}

func TestRestoreConfirmation(t *testing.T) {
	for _, tc := range []struct {
		in     string
		called bool
	}{{"acme\n", true}, {"y\n", false}, {"", false}} {
		s := tenanttest.NewStreams(tc.in, true)
		s.OutTerminal = false
		svc := &fakeRestorer{}
		opts := &RestoreOptions{IO: s.IOStreams, Format: output.Table, Service: func() (Restorer, error) { return svc, nil },
			Restore: fleet.RestoreOptions{Name: "acme", From: "s3://b"}}
		err := restoreRun(t.Context(), opts)
		if svc.called != tc.called || (err == nil) != tc.called {
			t.Fatalf("typed %q: called %v, err %v", tc.in, svc.called, err)
		}
		if !tc.called && cmdutil.ExitCode(err) != cmdutil.ExitCancelled {
			t.Errorf("refusal exit code %d", cmdutil.ExitCode(err))
		}
		if tc.called {
			want := "table accounts\t5\t7\tyes\nredis keys\t2\t0\t-\nkubernetes objects\t0\t0\t-\n"
			if s.OutBuf.String() != want {
				t.Errorf("stdout %q, want %q", s.OutBuf.String(), want)
			}
		}
	}
}
