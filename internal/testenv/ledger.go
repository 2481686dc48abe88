package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// CopyLedger copies the named migration files of examples/ledger into dir.
// It is called from a suite under test/, two levels below the module.
func CopyLedger(t testing.TB, dir string, files ...string) {
	t.Helper()
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join("../../examples/ledger/migrations", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
