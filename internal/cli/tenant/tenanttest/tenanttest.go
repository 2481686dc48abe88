// Package tenanttest has the helpers the tenant verbs' tests share: buffer
// streams, a factory whose fleet service must not be reached, running a
// command with arguments, and golden files refreshed with -update. Only
// tests import it.
package tenanttest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the output of this run")

// Streams are buffer-backed IOStreams with the buffers at hand.
type Streams struct {
	*cmdutil.IOStreams
	InBuf  *bytes.Buffer
	OutBuf *bytes.Buffer
	ErrBuf *bytes.Buffer
}

// NewStreams returns streams reading in; terminal sets both InTerminal and
// OutTerminal.
func NewStreams(in string, terminal bool) *Streams {
	s := &Streams{InBuf: bytes.NewBufferString(in), OutBuf: &bytes.Buffer{}, ErrBuf: &bytes.Buffer{}}
	s.IOStreams = &cmdutil.IOStreams{In: s.InBuf, Out: s.OutBuf, ErrOut: s.ErrBuf, InTerminal: terminal, OutTerminal: terminal}
	return s
}

// errFleetUsed is what the factory's Fleet returns: parsing must never
// reach the service.
var errFleetUsed = errors.New("test factory: the fleet service was requested")

// NewFactory returns a factory over s printing format, whose Fleet fails
// the test if anything asks for it.
func NewFactory(t *testing.T, s *Streams, format output.Format) *cmdutil.Factory {
	t.Helper()
	return &cmdutil.Factory{
		IO:      s.IOStreams,
		Format:  func() output.Format { return format },
		HomeDir: func() (string, error) { return t.TempDir(), nil },
		Fleet: func() (*fleet.Service, error) {
			t.Errorf("the fleet service was requested while parsing")
			return nil, errFleetUsed
		},
	}
}

// Execute runs cmd with args the way root does: flag errors become usage
// errors and cobra's own printing is silenced.
func Execute(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cmdutil.UsageError{Err: err} })
	return cmd.ExecuteContext(context.Background())
}

// IsUsage reports whether err is a usage error.
func IsUsage(err error) bool {
	var u *cmdutil.UsageError
	return errors.As(err, &u)
}

// CheckErr fails the test unless err matches want: "" for no error,
// otherwise a substring of its message.
func CheckErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
}

// Golden compares got with testdata/<name>, or rewrites the file with -update.
func Golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (rerun with -update if the change is intended)\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// Created is the creation time of the tenants Tenant returns.
var Created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Tenant returns an active tenant named name in tier with every field set,
// so printed output shows every field.
func Tenant(name, tier string) *fleet.Tenant {
	return &fleet.Tenant{
		Spec: fleet.Spec{
			Name: name, Tier: tier, ConnectionLimit: 20,
			Quota:    fleet.Quota{CPU: "2", Memory: "4Gi", Pods: 20, Services: 10, PVCs: 5, Storage: "20Gi"},
			Flags:    map[string]string{"beta": "true", "alpha": "1"},
			Workload: &fleet.Workload{Image: "nginx:1.27", Replicas: 2, Host: name + ".example.com", Port: 8080},
		},
		Status:    fleet.StatusActive,
		Created:   Created,
		Updated:   Created.Add(time.Hour),
		Resources: 17,
	}
}
