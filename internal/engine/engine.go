// Package engine prepares the Pulumi engine for tenantctl: the offline
// environment (no update check, no plugin downloads), the state backend and
// secrets passphrase under TENANTSTACK_HOME, the plugins registered from the
// toolchain, and Automation API workspaces over them.
package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/tenantstack/tenantstack/internal/home"
	"github.com/tenantstack/tenantstack/internal/toolchain"
)

// Engine is the Pulumi configuration shared by every stack tenantctl runs.
type Engine struct {
	// Home is TENANTSTACK_HOME.
	Home string
	// BackendURL is where stack state lives: file://$TENANTSTACK_HOME/state
	// unless --backend names another Pulumi backend.
	BackendURL string
	// Env is the environment every Pulumi command runs with.
	Env map[string]string
	// Command is the Pulumi CLI the Automation API drives.
	Command auto.PulumiCommand
	// Repaired lists the torn state sidecars New removed (see filestate.go).
	Repaired []string
	// SecretsProvider encrypts the secrets of stacks this engine creates:
	// "passphrase" (the default, keyed by TENANTSTACK_HOME/passphrase), or a
	// KMS such as awskms://alias/x, gcpkms://projects/..., azurekeyvault://...
	// or hashivault://key, or "default" for Pulumi Cloud's own. Set it with
	// SetSecretsProvider.
	SecretsProvider string
}

// SetSecretsProvider checks and sets the secrets provider of new stacks.
func (e *Engine) SetSecretsProvider(p string) error {
	if err := ValidateSecretsProvider(p); err != nil {
		return err
	}
	if p != "" {
		e.SecretsProvider = p
	}
	return nil
}

// ValidateSecretsProvider accepts the secrets providers Pulumi knows.
func ValidateSecretsProvider(p string) error {
	switch {
	case p == "", p == "passphrase", p == "default":
		return nil
	}
	for _, scheme := range []string{"awskms://", "azurekeyvault://", "gcpkms://", "hashivault://"} {
		if strings.HasPrefix(p, scheme) && len(p) > len(scheme) {
			return nil
		}
	}
	return fmt.Errorf("secrets provider %q is not one Pulumi knows: use passphrase, default (Pulumi Cloud), or a key URL awskms://..., azurekeyvault://..., gcpkms://... or hashivault://...", p)
}

// New returns the engine for the given home, creating its directories and
// passphrase on first use. backendURL may be empty for the default.
func New(homeDir, backendURL string) (*Engine, error) {
	stateDir := filepath.Join(homeDir, "state")
	pulumiHome := filepath.Join(homeDir, "pulumi")
	for _, d := range []string{stateDir, pulumiHome} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	if backendURL == "" {
		backendURL = "file://" + stateDir
	}
	pass, err := home.Passphrase(homeDir)
	if err != nil {
		return nil, fmt.Errorf("reading the secrets passphrase: %w", err)
	}
	pulumiPath, err := toolchain.Lookup("pulumi")
	if err != nil {
		return nil, err
	}
	env := map[string]string{
		"PULUMI_HOME":                                 pulumiHome,
		"PULUMI_BACKEND_URL":                          pulumiBackendURL(backendURL),
		"PULUMI_CONFIG_PASSPHRASE":                    pass,
		"PULUMI_SKIP_UPDATE_CHECK":                    "true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		"PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK":    "true",
		// Resource plugins are registered in PULUMI_HOME (registerPlugins);
		// PATH is for the language host only.
		"PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
		// Our language host is found on PATH; resource plugins are
		// registered in PULUMI_HOME and found there first.
		"PATH": searchPath(filepath.Dir(pulumiPath)),
	}
	if err := registerPlugins(pulumiHome); err != nil {
		return nil, err
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: cliRoot(pulumiPath), SkipVersionCheck: true})
	if err != nil {
		return nil, fmt.Errorf("using the Pulumi CLI at %s: %w", pulumiPath, err)
	}
	var repaired []string
	if dir, ok := FileBackendDir(backendURL); ok {
		if repaired, err = sweepSidecars(dir); err != nil {
			return nil, fmt.Errorf("checking the state in %s: %w", dir, err)
		}
	}
	return &Engine{Home: homeDir, BackendURL: backendURL, Env: env, Command: cmd, Repaired: repaired, SecretsProvider: "passphrase"}, nil
}

// cliRoot returns the directory whose bin/ holds pulumi, as the Automation
// API wants it.
func cliRoot(pulumiPath string) string {
	dir := filepath.Dir(pulumiPath)
	if filepath.Base(dir) == "bin" {
		return filepath.Dir(dir)
	}
	return ""
}

// searchPath puts the toolchain directories before the inherited PATH, so
// the engine finds our plugins first.
func searchPath(extra ...string) string {
	var parts []string
	seen := map[string]bool{}
	for _, d := range append(append(toolchain.Dirs(), extra...), filepath.SplitList(os.Getenv("PATH"))...) {
		if d != "" && !seen[d] {
			seen[d] = true
			parts = append(parts, d)
		}
	}
	return strings.Join(parts, string(os.PathListSeparator))
}

// Workspace returns an Automation API option set for a stack of project in
// its own work directory, so that stacks never share a workspace lock.
func (e *Engine) Workspace(workDir string) []auto.LocalWorkspaceOption {
	return []auto.LocalWorkspaceOption{
		auto.WorkDir(workDir),
		auto.PulumiHome(e.Env["PULUMI_HOME"]),
		auto.EnvVars(e.Env),
		auto.Pulumi(e.Command),
		auto.SecretsProvider(e.SecretsProvider),
	}
}
