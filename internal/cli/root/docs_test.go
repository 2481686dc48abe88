package root

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestDocsAreCurrent fails when the committed reference (docs/cli,
// docs/man) differs from what the commands say; `make docs` rewrites it.
func TestDocsAreCurrent(t *testing.T) {
	md, man := t.TempDir(), t.TempDir()
	if err := GenDocs(md, man); err != nil {
		t.Fatal(err)
	}
	for gen, committed := range map[string]string{md: "../../../docs/cli", man: "../../../docs/man"} {
		want, err := os.ReadDir(gen)
		if err != nil {
			t.Fatal(err)
		}
		have, err := os.ReadDir(committed)
		if err != nil {
			t.Fatalf("%v; run make docs", err)
		}
		names := func(es []os.DirEntry) []string {
			var out []string
			for _, e := range es {
				out = append(out, e.Name())
			}
			return out
		}
		if !slices.Equal(names(want), names(have)) {
			t.Fatalf("%s holds %v, the commands make %v; run make docs", committed, names(have), names(want))
		}
		for _, e := range want {
			a, _ := os.ReadFile(filepath.Join(gen, e.Name()))
			b, _ := os.ReadFile(filepath.Join(committed, e.Name()))
			if !bytes.Equal(a, b) {
				t.Errorf("%s/%s is out of date; run make docs", committed, e.Name())
			}
		}
	}
}
