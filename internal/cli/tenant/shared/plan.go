package shared

import (
	"fmt"
	"io"
	"strings"

	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

// PlanHeader is the header of the one-row-per-change table of a plan
// (--dry-run, diff, drift).
var PlanHeader = []string{"TENANT", "ACTION", "OP", "TYPE", "NAME", "PROPERTIES"}

// PrintPlans prints plans one row per change (one row for a tenant with
// none), or the plans themselves as JSON or YAML. Notes and errors follow
// the table on w (stderr), so that the table stays one kind of row.
func PrintPlans(p output.Printer, w io.Writer, plans []fleet.Plan) error {
	if plans == nil {
		plans = []fleet.Plan{}
	}
	var rows [][]string
	for _, pl := range plans {
		if len(pl.Changes) == 0 {
			op := "-"
			if pl.Error != "" {
				op = "error"
			}
			rows = append(rows, []string{pl.Tenant, pl.Action, op, "-", "-", "-"})
			continue
		}
		for _, c := range pl.Changes {
			rows = append(rows, []string{pl.Tenant, pl.Action, c.Op, c.Type, c.Name, OrDash(strings.Join(c.Diffs, ","))})
		}
	}
	if err := p.Print(plans, PlanHeader, rows); err != nil {
		return err
	}
	if p.Format == output.Table {
		for _, pl := range plans {
			for _, n := range pl.Notes {
				fmt.Fprintf(w, "%s: %s\n", pl.Tenant, n)
			}
			if pl.Error != "" {
				fmt.Fprintf(w, "%s: cannot be planned: %s\n", pl.Tenant, pl.Error)
			}
		}
	}
	return nil
}

// PlanSummary is one line for a plan: "acme: update (2 to change)".
func PlanSummary(pl fleet.Plan) string {
	if pl.Error != "" {
		return pl.Tenant + ": cannot be planned: " + pl.Error
	}
	var parts []string
	for _, op := range []string{"create", "update", "replace", "delete"} {
		if n := pl.Count(op); n > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", n, op))
		}
	}
	if len(parts) == 0 {
		return pl.Tenant + ": " + pl.Action + " (no resource changes)"
	}
	return pl.Tenant + ": " + pl.Action + " (" + strings.Join(parts, ", ") + ")"
}

// WritePlanMarkdown writes plans as Markdown for a pull request: a summary
// table of every tenant, then the changes of each tenant that has any.
func WritePlanMarkdown(w io.Writer, title string, plans []fleet.Plan) error {
	var b strings.Builder
	changed, failed := 0, 0
	for _, pl := range plans {
		if pl.Error != "" {
			failed++
		} else if len(pl.Changes) > 0 || pl.Action == fleet.PlanCreate || pl.Action == fleet.PlanDelete {
			changed++
		}
	}
	fmt.Fprintf(&b, "### %s\n\n", title)
	fmt.Fprintf(&b, "%s, %d with changes, %d that cannot be planned.\n\n", Count(len(plans), "tenant"), changed, failed)
	b.WriteString("| tenant | action | create | update | replace | delete |\n|---|---|---:|---:|---:|---:|\n")
	for _, pl := range plans {
		action := pl.Action
		if pl.Error != "" {
			action = "**error**"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d |\n", mdCell(pl.Tenant), action,
			pl.Count("create"), pl.Count("update"), pl.Count("replace"), pl.Count("delete"))
	}
	for _, pl := range plans {
		if pl.Error == "" && len(pl.Changes) == 0 && len(pl.Notes) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n<details><summary>%s: %s</summary>\n\n", mdCell(pl.Tenant), mdCell(PlanSummary(pl)))
		if pl.Error != "" {
			fmt.Fprintf(&b, "> %s\n\n", mdCell(pl.Error))
		}
		if len(pl.Changes) > 0 {
			b.WriteString("```diff\n")
			for _, c := range pl.Changes {
				sign := map[string]string{"create": "+", "delete": "-", "update": "~", "replace": "+-"}[c.Op]
				if sign == "" {
					sign = " "
				}
				line := fmt.Sprintf("%s %s %s", sign, c.Type, c.Name)
				if len(c.Diffs) > 0 {
					line += " [" + strings.Join(c.Diffs, ", ") + "]"
				}
				b.WriteString(line + "\n")
			}
			b.WriteString("```\n")
		}
		for _, n := range pl.Notes {
			fmt.Fprintf(&b, "- %s\n", mdCell(n))
		}
		b.WriteString("\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell keeps s on one line and out of the table's syntax.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}
