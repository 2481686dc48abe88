// Package output prints command results: an aligned table on a terminal,
// tab-separated values otherwise, or JSON or YAML when asked. Results go to
// stdout; progress and status go to stderr and never through this package.
package output

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"
	"gopkg.in/yaml.v3"
)

// Format is one of the values of the global -o flag.
type Format string

// The formats tenantctl prints.
const (
	Table Format = "table"
	JSON  Format = "json"
	YAML  Format = "yaml"
	CSV   Format = "csv"
	// Prometheus is exposition text; only commands that export metrics
	// (usage) print it.
	Prometheus Format = "prometheus"
)

// ParseFormat checks the value of -o.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case Table, JSON, YAML, CSV, Prometheus:
		return f, nil
	}
	return "", fmt.Errorf("unknown output format %q; use one of table, json, yaml, csv (or prometheus for usage)", s)
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	// A character device is not enough: /dev/null is one too.
	return ok && term.IsTerminal(int(f.Fd()))
}

// Printer writes results in one format.
type Printer struct {
	Out      io.Writer
	Format   Format
	Terminal bool // aligned columns with a header; otherwise tab-separated rows
}

// Print writes v as JSON or YAML, or, for the table format, the given
// header and rows (which the caller made from v).
func (p Printer) Print(v any, header []string, rows [][]string) error {
	switch p.Format {
	case JSON:
		enc := json.NewEncoder(p.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case YAML:
		// Round-trip through JSON so YAML keys follow the json tags.
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		var generic any
		if err := yaml.Unmarshal(b, &generic); err != nil {
			return err
		}
		enc := yaml.NewEncoder(p.Out)
		enc.SetIndent(2)
		if err := enc.Encode(generic); err != nil {
			return err
		}
		return enc.Close()
	case CSV:
		w := csv.NewWriter(p.Out)
		if err := w.Write(header); err != nil {
			return err
		}
		if err := w.WriteAll(rows); err != nil {
			return err
		}
		w.Flush()
		return w.Error()
	case Prometheus:
		return fmt.Errorf("-o prometheus is for \"tenantctl usage\"; use table, json, yaml or csv here")
	}
	return p.Table(header, rows)
}

// Table writes rows, aligned under header on a terminal, and as
// tab-separated values without a header otherwise, for scripts.
func (p Printer) Table(header []string, rows [][]string) error {
	if !p.Terminal {
		for _, r := range rows {
			if _, err := fmt.Fprintln(p.Out, strings.Join(r, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(p.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}
