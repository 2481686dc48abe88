package backup

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenantstack/tenantstack/internal/backup"
	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

func keyFile(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "pass")
	if err := os.WriteFile(p, []byte("a long enough passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, p
}

func TestNewCmdBackup(t *testing.T) {
	dir, pass := keyFile(t)
	bucket := "file://" + filepath.Join(dir, "archives")
	tests := []struct {
		name    string
		args    []string
		want    BackupOptions
		wantErr string
	}{
		{name: "one tenant", args: []string{"acme", "--to", bucket, "--key-file", pass},
			want: BackupOptions{Name: "acme", To: bucket, Parallel: 1, Key: fleet.BackupKey{PassphraseFile: pass}}},
		{name: "recipients", args: []string{"acme", "--to", "s3://b", "--recipient", "age1a", "--recipient", "age1b"},
			want: BackupOptions{Name: "acme", To: "s3://b", Parallel: 1, Key: fleet.BackupKey{Recipients: []string{"age1a", "age1b"}}}},
		{name: "all in parallel", args: []string{"--all", "--parallel", "4", "--to", "gs://b", "--recipient", "age1a"},
			want: BackupOptions{All: true, To: "gs://b", Parallel: 4, Key: fleet.BackupKey{Recipients: []string{"age1a"}}}},
		{name: "all and a name", args: []string{"acme", "--all", "--to", bucket, "--key-file", pass}, wantErr: "takes no tenant name"},
		{name: "no name", args: []string{"--to", bucket, "--key-file", pass}, wantErr: "tenant name"},
		{name: "no destination", args: []string{"acme", "--key-file", pass}, wantErr: "--to is required"},
		{name: "bad scheme", args: []string{"acme", "--to", "/var/backups", "--key-file", pass}, wantErr: "bucket URL"},
		{name: "no key", args: []string{"acme", "--to", bucket}, wantErr: "always encrypted"},
		{name: "two keys", args: []string{"acme", "--to", bucket, "--key-file", pass, "--recipient", "age1a"}, wantErr: "give one"},
		{name: "not an age key", args: []string{"acme", "--to", bucket, "--recipient", "ssh-ed25519 AAAA"}, wantErr: "not an age public key"},
		{name: "missing key file", args: []string{"acme", "--to", bucket, "--key-file", filepath.Join(dir, "nope")}, wantErr: "not a readable file"},
		{name: "key beside the archives", args: []string{"acme", "--to", "file://" + dir, "--key-file", pass}, wantErr: "keep the key away"},
		{name: "parallel without all", args: []string{"acme", "--parallel", "2", "--to", bucket, "--key-file", pass}, wantErr: "goes with --all"},
		{name: "parallel zero", args: []string{"--all", "--parallel", "0", "--to", bucket, "--key-file", pass}, wantErr: "at least 1"},
		{name: "bad name", args: []string{"Acme!", "--to", bucket, "--key-file", pass}, wantErr: "'A'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			var got *BackupOptions
			cmd := NewCmdBackup(tenanttest.NewFactory(t, s, output.Table), func(o *BackupOptions) error { got = o; return nil })
			err := tenanttest.Execute(t, cmd, tt.args...)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if cmdutil.ExitCode(err) != cmdutil.ExitUsage || got != nil {
					t.Errorf("error %v: exit code %d, runF ran %v", err, cmdutil.ExitCode(err), got != nil)
				}
				return
			}
			if got.Name != tt.want.Name || got.To != tt.want.To || got.All != tt.want.All || got.Parallel != tt.want.Parallel ||
				got.Key.PassphraseFile != tt.want.Key.PassphraseFile || len(got.Key.Recipients) != len(tt.want.Key.Recipients) {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

type fakeBackuper struct {
	calls []string
}

func (f *fakeBackuper) Backup(_ context.Context, name, to string, _ fleet.BackupKey, _ io.Writer) (*backup.Result, error) {
	f.calls = append(f.calls, "backup "+name+" "+to)
	return &backup.Result{Tenant: name, Key: name + "/" + name + "-t.tsbackup", Bytes: 2048, Rows: 12, Redis: 3, Objects: []string{"ConfigMap/a"}, Version: 4, Duration: 1500 * time.Millisecond}, nil
}

func (f *fakeBackuper) BackupAll(_ context.Context, to string, _ fleet.BackupKey, parallel int, _ io.Writer) (*fleet.FleetBackupReport, error) {
	f.calls = append(f.calls, "all "+to)
	r, _ := f.Backup(context.Background(), "acme", to, fleet.BackupKey{}, nil)
	return &fleet.FleetBackupReport{Archives: []*backup.Result{r}}, nil
}

func (f *fakeBackuper) Backups(_ context.Context, name, in string) ([]backup.Entry, error) {
	return []backup.Entry{{Key: name + "/a.tsbackup", Tier: "shared", SchemaVersion: 3, Bytes: 10, Created: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}}, nil
}

func TestBackupRunPrints(t *testing.T) {
	s := tenanttest.NewStreams("", false)
	svc := &fakeBackuper{}
	opts := &BackupOptions{IO: s.IOStreams, Format: output.Table, Service: func() (Backuper, error) { return svc, nil }, Name: "acme", To: "s3://b"}
	if err := backupRun(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	if want := "acme\tacme/acme-t.tsbackup\t2.0 KiB\t12\t3\t1\t4\t1.5\n"; s.OutBuf.String() != want {
		t.Errorf("stdout %q, want %q", s.OutBuf.String(), want)
	}
	s = tenanttest.NewStreams("", false)
	bo := &BackupsOptions{IO: s.IOStreams, Format: output.Table, Service: func() (Backuper, error) { return svc, nil }, Name: "acme", In: "s3://b"}
	if err := backupsRun(t.Context(), bo); err != nil {
		t.Fatal(err)
	}
	if want := "acme/a.tsbackup\tshared\t3\t10 B\t2026-12-03T10:00:00Z\n"; s.OutBuf.String() != want {
		t.Errorf("backups stdout %q, want %q", s.OutBuf.String(), want)
	}
}

func TestNewCmdBackups(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"acme", "--in", "file:///var/backups"}, ""},
		{[]string{"acme"}, "--in is required"},
		{[]string{"acme", "--in", "file://rel/dir"}, "absolute path"},
	} {
		s := tenanttest.NewStreams("", false)
		cmd := NewCmdBackups(tenanttest.NewFactory(t, s, output.Table), func(*BackupsOptions) error { return nil })
		tenanttest.CheckErr(t, tenanttest.Execute(t, cmd, tc.args...), tc.wantErr)
	}
}
