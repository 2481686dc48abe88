package devplatform

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLogTailShowsTheLastStartOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "svc.log")
	var b strings.Builder
	b.WriteString(logMark + "first start\nold failure\n")
	b.WriteString("\n" + logMark + "second start\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	got := logTail(path)
	if !strings.HasPrefix(got, "; last lines of "+path+":\n    line 6\n") || !strings.HasSuffix(got, "line 20") {
		t.Errorf("logTail =\n%s", got)
	}
	if strings.Contains(got, "old failure") || strings.Contains(got, "line 5\n") {
		t.Errorf("logTail shows lines from before the last start:\n%s", got)
	}
	if got := logTail(filepath.Join(t.TempDir(), "missing.log")); got != "" {
		t.Errorf("logTail of a missing file = %q", got)
	}
}
