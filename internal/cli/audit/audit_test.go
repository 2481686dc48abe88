package audit

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tenantstack/tenantstack/internal/audit"
	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/output"
)

type fakeReader struct {
	tenant string
	since  time.Time
	recs   []audit.Record
}

func (f *fakeReader) AuditLog(_ context.Context, tenant string, since time.Time) ([]audit.Record, error) {
	f.tenant, f.since = tenant, since
	return f.recs, nil
}

func TestSince(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     {},
		"24h":                  now.Add(-24 * time.Hour),
		"2026-12-01T00:00:00Z": time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
	} {
		o := &Options{Since: in, Now: func() time.Time { return now }}
		if err := o.validate(); err != nil || !o.since.Equal(want) {
			t.Errorf("--since %q = %v, %v; want %v", in, o.since, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "-1h"} {
		var usage *cmdutil.UsageError
		if err := (&Options{Since: bad, Now: time.Now}).validate(); !errors.As(err, &usage) {
			t.Errorf("--since %q: %v, want a usage error", bad, err)
		}
	}
}

func TestRunPrintsRecords(t *testing.T) {
	at := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	fr := &fakeReader{recs: []audit.Record{{At: at, User: "ops", Host: "h1", Command: "create", Tenant: "acme", ExitCode: 2, Seconds: 0.31, Result: "tier \"gold\" is unknown\nmore"}}}
	var out, errOut bytes.Buffer
	o := &Options{IO: &cmdutil.IOStreams{Out: &out, ErrOut: &errOut}, Format: output.Table, Tenant: "acme",
		Service: func() (Reader, error) { return fr, nil }}
	if err := run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	want := "2026-12-02T12:00:00Z\tops@h1\tcreate\tacme\t2\t0.3s\ttier \"gold\" is unknown\n"
	if out.String() != want || fr.tenant != "acme" {
		t.Fatalf("stdout %q (want %q), tenant %q", out.String(), want, fr.tenant)
	}
	fr.recs = nil
	out.Reset()
	if err := run(context.Background(), o); err != nil || out.Len() != 0 || !strings.Contains(errOut.String(), "No audit records") {
		t.Fatalf("empty: %v %q %q", err, out.String(), errOut.String())
	}
}
