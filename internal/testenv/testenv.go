// Package testenv gives integration tests the local platform they run
// against. `make test` starts a platform on its own ports, writes
// `tenantctl dev env -o json` to a file and exports its path as
// TENANTSTACK_DEV_ENV; tests read the admin endpoints from there.
package testenv

import (
	"encoding/json"
	"os"
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
