// Package toolchain finds the binaries that `make tools` builds (the Pulumi
// CLI, the Kubernetes provider, etcd, kube-apiserver, kube-controller-manager,
// kubectl) and our own (tenantctl, pulumi-resource-tenantstack,
// pulumi-language-go). The offline environment the Pulumi engine runs in is
// internal/engine's.
package toolchain

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// DirEnvVar overrides where the toolchain binaries are looked up first.
const DirEnvVar = "TENANTSTACK_TOOLS_DIR"

// DefaultDir is the directory `make tools` built into, stamped into tenantctl
// by `make build` (-ldflags -X). Empty in a plain `go build`.
var DefaultDir string

// Dirs returns the directories searched for tools, in order: $TENANTSTACK_TOOLS_DIR,
// the directory make build stamped in, and the directory holding the running
// executable (where make build puts our own binaries). PATH comes after these.
func Dirs() []string {
	var dirs []string
	if d := os.Getenv(DirEnvVar); d != "" {
		dirs = append(dirs, d)
	}
	if DefaultDir != "" {
		dirs = append(dirs, DefaultDir)
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			dirs = append(dirs, filepath.Dir(exe))
		}
	}
	return dirs
}

// Lookup returns the absolute path of the tool called name, or an error that
// says how to get it.
func Lookup(name string) (string, error) {
	for _, d := range Dirs() {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return filepath.Abs(p)
	}
	return "", fmt.Errorf("%s not found; run \"make tools\" in the tenantstack checkout (or set %s to the directory \"make tools-path\" prints)", name, DirEnvVar)
}
