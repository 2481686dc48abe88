package devplatform

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/tenantstack/tenantstack/internal/toolchain"
)

// binaries are the absolute paths of the programs a platform runs.
type binaries struct {
	postgres, initdb, pgbouncer, redis string
	etcd, apiserver, controllerManager string
}

// debianTool is a program that comes from a Debian package.
type debianTool struct {
	path string
	pkg  string
}

// debianTools lists the Debian programs the platform runs; pointers into
// binaries say where each goes.
func debianTools(b *binaries) []struct {
	debianTool
	dst *string
} {
	return []struct {
		debianTool
		dst *string
	}{
		{debianTool{"/usr/lib/postgresql/15/bin/postgres", "postgresql-15"}, &b.postgres},
		{debianTool{"/usr/lib/postgresql/15/bin/initdb", "postgresql-15"}, &b.initdb},
		{debianTool{"/usr/sbin/pgbouncer", "pgbouncer"}, &b.pgbouncer},
		{debianTool{"/usr/bin/redis-server", "redis-server"}, &b.redis},
	}
}

// findBinaries resolves every program before anything starts. The
// Kubernetes programs come from "make tools"; a missing one is an error
// that says so. Missing Debian packages are installed with apt-get when we
// run as root, and otherwise named in an error with the command to run.
func (p *Platform) findBinaries(ctx context.Context) (binaries, error) {
	var b binaries
	for _, t := range []struct {
		name string
		dst  *string
	}{{"etcd", &b.etcd}, {"kube-apiserver", &b.apiserver}, {"kube-controller-manager", &b.controllerManager}} {
		path, err := p.lookupTool(t.name)
		if err != nil {
			return b, err
		}
		*t.dst = path
	}
	var missing []string
	for _, t := range debianTools(&b) {
		*t.dst = p.debianPath(t.path)
		if !isExecutable(*t.dst) && !slices.Contains(missing, t.pkg) {
			missing = append(missing, t.pkg)
		}
	}
	if len(missing) == 0 {
		return b, nil
	}
	if p.geteuid() != 0 {
		return b, fmt.Errorf("%s not installed; run: sudo apt-get install -y %s", missingWhat(missing), strings.Join(missing, " "))
	}
	if err := p.aptInstall(ctx, missing); err != nil {
		return b, err
	}
	for _, t := range debianTools(&b) {
		if !isExecutable(*t.dst) {
			return b, fmt.Errorf("%s is still missing after installing %s", *t.dst, t.pkg)
		}
	}
	return b, nil
}

func missingWhat(pkgs []string) string {
	if len(pkgs) == 1 {
		return "Debian package " + pkgs[0] + " is"
	}
	return "Debian packages " + strings.Join(pkgs, ", ") + " are"
}

// aptInstall installs pkgs, refreshing the package lists first only when a
// plain install fails (they may be stale or absent in a fresh container).
func (p *Platform) aptInstall(ctx context.Context, pkgs []string) error {
	log := p.layout.log("apt-get")
	if err := os.MkdirAll(p.layout.logs(), 0o700); err != nil {
		return err
	}
	p.progressf("installing %s with apt-get (output in %s)", strings.Join(pkgs, " "), log)
	install := append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)
	err := p.runApt(ctx, log, install...)
	if err == nil {
		return nil
	}
	p.progressf("apt-get install failed; running apt-get update and trying again")
	if err := p.runApt(ctx, log, "update"); err != nil {
		return fmt.Errorf("apt-get update failed: %w", err)
	}
	if err := p.runApt(ctx, log, install...); err != nil {
		return fmt.Errorf("apt-get install -y %s failed: %w", strings.Join(pkgs, " "), err)
	}
	return nil
}

func defaultRunApt(ctx context.Context, logPath string, args ...string) error {
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(f, "\n%sapt-get %s\n", logMark, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%v%s", err, logTail(logPath))
	}
	return nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func defaultLookupTool(name string) (string, error) { return toolchain.Lookup(name) }
