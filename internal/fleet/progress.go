package fleet

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
)

// progressEvents returns an engine event channel that prints one line per
// resource change on w, prefixed with the tenant name so that parallel
// operations stay readable, and a function that waits until every line is
// printed. The Automation API closes the channel when the operation ends;
// call wait after it returns, so that no progress line follows the result.
func progressEvents(w io.Writer, tenant string) (ch chan events.EngineEvent, wait func()) {
	ch = make(chan events.EngineEvent)
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		for e := range ch {
			switch {
			case e.ResOutputsEvent != nil:
				m := e.ResOutputsEvent.Metadata
				if m.Op == "same" || m.Op == "read" || strings.HasPrefix(m.Type, "pulumi:") {
					continue
				}
				printf(w, "%s: %-7s %s %s (%.1fs)\n", tenant, m.Op, m.Type, urnName(m.URN), time.Since(start).Seconds())
			case e.ResOpFailedEvent != nil:
				m := e.ResOpFailedEvent.Metadata
				printf(w, "%s: failed  %s %s\n", tenant, m.Type, urnName(m.URN))
			case e.DiagnosticEvent != nil && (e.DiagnosticEvent.Severity == "error" || e.DiagnosticEvent.Severity == "warning"):
				msg := strings.TrimSpace(e.DiagnosticEvent.Message)
				if msg != "" {
					printf(w, "%s: %s: %s\n", tenant, e.DiagnosticEvent.Severity, msg)
				}
			case e.PolicyEvent != nil:
				p := e.PolicyEvent
				printf(w, "%s: policy %s/%s (%s): %s\n", tenant, p.PolicyPackName, p.PolicyName, p.EnforcementLevel, strings.TrimSpace(p.Message))
			}
		}
	}()
	return ch, func() { <-done }
}

var printMu sync.Mutex

// printf serialises lines from concurrent operations.
func printf(w io.Writer, format string, a ...any) {
	printMu.Lock()
	defer printMu.Unlock()
	fmt.Fprintf(w, format, a...)
}

func urnName(urn string) string {
	if i := strings.LastIndex(urn, "::"); i >= 0 {
		return urn[i+2:]
	}
	return urn
}
