package tools_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDownloadFromEmptyModuleCache runs build.sh's download step (every
// module the toolchain builds read, and the module directories it reads from
// disk) with an empty GOMODCACHE, as on a new machine. A fresh machine once
// failed here: `go list -m` printed an empty directory for a module that was
// not downloaded yet, and the build read a relative path.
//
// The module proxy is this machine's own download cache first (so the check
// costs an extraction, not a download), then the configured proxy.
func TestDownloadFromEmptyModuleCache(t *testing.T) {
	if testing.Short() {
		t.Skip("extracts the toolchain's modules into a new module cache")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	// go test caches a passing result by the files the test itself opens:
	// read what build.sh reads, so a change to any of them runs this again.
	inputs, _ := filepath.Glob("*/go.*")
	for _, f := range append(inputs, "build.sh", "kubernetes/cmd/pulumi-resource-kubernetes/embedgen.go") {
		if _, err := os.ReadFile(f); err != nil {
			t.Fatalf("reading %s: %v", f, err)
		}
	}
	goenv := func(key string) string {
		out, err := exec.Command("go", "env", key).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", key, err)
		}
		return strings.TrimSpace(string(out))
	}
	proxy := goenv("GOPROXY")
	if warm := filepath.Join(goenv("GOMODCACHE"), "cache", "download"); isDir(warm) {
		proxy = "file://" + warm + "," + proxy
	}

	modcache := filepath.Join(t.TempDir(), "mod")
	t.Cleanup(func() {
		// The module cache is read-only; go clean knows how to remove it.
		clean := exec.Command("go", "clean", "-modcache")
		clean.Env = append(os.Environ(), "GOMODCACHE="+modcache)
		if out, err := clean.CombinedOutput(); err != nil {
			t.Errorf("go clean -modcache: %v\n%s", err, out)
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "build.sh", "--download")
	cmd.Env = append(os.Environ(),
		"GOMODCACHE="+modcache,
		"GOPROXY="+proxy,
		"TENANTSTACK_TOOLS_CACHE="+t.TempDir(),
	)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build.sh --download with an empty module cache: %v\n%s", err, stderr.String())
	}

	// What the builds read from disk is there, in the new cache.
	provider, err := filepath.Glob(filepath.Join(modcache, "github.com", "pulumi", "pulumi-kubernetes", "provider", "v4@*", "cmd", "pulumi-resource-kubernetes", "schema.json"))
	if err != nil || len(provider) != 1 {
		t.Fatalf("the Kubernetes provider's schema.json in the new module cache: %v %v\n%s", provider, err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "every module the toolchain reads is in "+modcache) {
		t.Errorf("build.sh --download did not report the new module cache:\n%s", stderr.String())
	}
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
