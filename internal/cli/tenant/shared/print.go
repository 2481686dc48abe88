package shared

import (
	"strconv"
	"time"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

// TenantHeader is the header of the one-row-per-tenant table that list,
// create, update, suspend and resume print.
var TenantHeader = []string{"NAME", "TIER", "STATUS", "SCHEMA", "CREATED"}

// TenantRow is t's row under TenantHeader.
func TenantRow(t fleet.Tenant) []string {
	return []string{t.Name, t.Tier, string(t.Status), SchemaCell(t), FormatTime(t.Created)}
}

// SchemaCell is the tenant's schema version, with its state unless it is
// current; "-" when the platform has no application schema.
func SchemaCell(t fleet.Tenant) string {
	switch t.SchemaState {
	case "":
		return "-"
	case "current":
		return strconv.FormatInt(t.SchemaVersion, 10)
	}
	return strconv.FormatInt(t.SchemaVersion, 10) + " (" + t.SchemaState + ")"
}

// PrintTenant prints one tenant: a row under TenantHeader, or the Tenant
// itself as JSON or YAML.
func PrintTenant(p output.Printer, t *fleet.Tenant) error {
	return p.Print(t, TenantHeader, [][]string{TenantRow(*t)})
}

// PrintTenants prints tenants one row each, or as a JSON or YAML list
// (empty, never null, when there are none).
func PrintTenants(p output.Printer, ts []fleet.Tenant) error {
	if ts == nil {
		ts = []fleet.Tenant{}
	}
	rows := make([][]string, 0, len(ts))
	for _, t := range ts {
		rows = append(rows, TenantRow(t))
	}
	return p.Print(ts, TenantHeader, rows)
}

// FormatTime prints t in UTC as RFC 3339, which sorts as text and parses
// everywhere, or "-" when it is unknown.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// Printer returns the printer for results on ios.Out in format.
func Printer(ios *cmdutil.IOStreams, format output.Format) output.Printer {
	return output.Printer{Out: ios.Out, Format: format, Terminal: ios.OutTerminal}
}

// OrDash returns s, or "-" when it is empty, so that table columns stay
// aligned on a terminal.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Count returns n and noun, plural unless n is 1: "1 tenant", "2 tenants".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
