//go:build integration

package policies

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// PackEnvVar names a prebuilt pack binary to test instead of building one.
const PackEnvVar = "TENANTSTACK_POLICY_PACK"

const packBinary = "pulumi-analyzer-policy-tenantstack-guardrails"

// packPath is the pack binary under test, set by TestMain.
var packPath string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if p := os.Getenv(PackEnvVar); p != "" {
		packPath = p
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "guardrails-pack-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	packPath = filepath.Join(dir, packBinary)
	build := exec.Command("go", "build", "-o", packPath, "./policies/guardrails/cmd/"+packBinary)
	build.Dir = filepath.Join("..", "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building the policy pack: %v (or set %s to a built one)\n", err, PackEnvVar)
		return 1
	}
	return m.Run()
}
