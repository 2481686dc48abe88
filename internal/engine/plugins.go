package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tenantstack/tenantstack/internal/toolchain"
	"github.com/tenantstack/tenantstack/internal/version"
)

// KubernetesProviderVersion is the Kubernetes provider `make tools` builds.
const KubernetesProviderVersion = "4.25.0"

// plugins are the resource plugins every stack may use, by name and version.
var plugins = []struct{ name, version string }{
	{"kubernetes", KubernetesProviderVersion},
	{"tenantstack", version.ProviderVersion},
}

// registerPlugins links the toolchain's resource plugins into pulumiHome's
// plugin cache, laid out as `pulumi plugin install --file` would, without
// copying (the Kubernetes provider is 300 MB) and without any download. A
// plugin that cannot be found is left for the engine to report, with our
// hint, if a program asks for it.
func registerPlugins(pulumiHome string) error {
	for _, p := range plugins {
		bin := "pulumi-resource-" + p.name
		src, err := toolchain.Lookup(bin)
		if err != nil {
			continue
		}
		dir := filepath.Join(pulumiHome, "plugins", fmt.Sprintf("resource-%s-v%s", p.name, p.version))
		dst := filepath.Join(dir, bin)
		if cur, err := os.Readlink(dst); err == nil && cur == src {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		// Link aside, then rename over: concurrent tenantctl processes
		// never see a missing or half-made plugin.
		tmp := dst + ".new-" + fmt.Sprint(os.Getpid())
		if err := os.Symlink(src, tmp); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if err := os.Rename(tmp, dst); err != nil {
			return fmt.Errorf("registering plugin %s: %w", bin, err)
		}
	}
	return nil
}
