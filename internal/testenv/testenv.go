// Package testenv gives integration tests the local platform they run
// against. `make test` starts a platform on its own ports, writes
// `tenantctl dev env -o json` to a file and exports its path as
// TENANTSTACK_DEV_ENV; tests read the admin endpoints from there.
package testenv

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/devplatform"
)

// EnvVar names the file holding `tenantctl dev env -o json` of the platform
// under test.
const EnvVar = "TENANTSTACK_DEV_ENV"

// Platform returns the admin endpoints of the platform under test. It fails
// the test, saying how to start one, when there is none: integration tests
// never pass by skipping.
func Platform(t testing.TB) devplatform.Env {
	t.Helper()
	path := os.Getenv(EnvVar)
	if path == "" {
		t.Fatalf("%s is not set: run the integration tests with \"make test\", or start a platform with "+
			"\"tenantctl dev up\" and run: tenantctl dev env -o json > /tmp/env.json; export %s=/tmp/env.json", EnvVar, EnvVar)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s=%s: %v", EnvVar, path, err)
	}
	var env devplatform.Env
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s=%s is not the JSON of \"tenantctl dev env -o json\": %v", EnvVar, path, err)
	}
	return env
}

// TenantctlPath is the built tenantctl (make build) for a suite under
// test/<suite>, whose working directory is its own.
func TenantctlPath(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs("../../bin/tenantctl")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is missing; run make build", p)
	}
	return p
}

// Tenantctl runs the built tenantctl and returns stdout, stderr and the
// exit code.
func Tenantctl(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(TenantctlPath(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("running tenantctl %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// MustTenantctl runs the built tenantctl, fails the test unless it exits 0,
// and returns stdout.
func MustTenantctl(t testing.TB, args ...string) string {
	t.Helper()
	out, errOut, code := Tenantctl(t, args...)
	if code != 0 {
		t.Fatalf("tenantctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}
