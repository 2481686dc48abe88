// Package langhost is a Pulumi language host for `runtime: go` projects.
//
// Pulumi's own Go language host is not obtainable offline, so tenantstack
// ships this one. It builds the program with `go build` and runs it with the
// environment the Pulumi Go SDK reads (pulumi.EnvMonitor and friends). It is
// only used when no official pulumi-language-go is found first: the Pulumi
// CLI prefers the host bundled next to its own executable.
package langhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	pbempty "google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// bailExitCode is what a Pulumi Go program exits with after it has already
// reported its error to the engine; the host must not report it again.
const bailExitCode = 32

// Host implements pulumirpc.LanguageRuntimeServer for Go programs.
type Host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	Version string

	mu            sync.Mutex
	engineAddress string
}

// New returns a host that talks to the engine at engineAddress (which the
// engine passes as the plugin's argument; Handshake may replace it).
func New(version, engineAddress string) *Host {
	return &Host{Version: version, engineAddress: engineAddress}
}

// Handshake records the engine address.
func (h *Host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// GetPluginInfo reports the host's version.
func (h *Host) GetPluginInfo(context.Context, *pbempty.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: h.Version}, nil
}

// GetRequiredPlugins reports none: with automatic plugin acquisition off,
// the engine loads each provider from the installed or ambient plugins the
// first time the program registers one of its resources.
func (h *Host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

// GetRequiredPackages reports none, for the same reason.
func (h *Host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// InstallDependencies does nothing: modules come from the module cache and
// the proxy configured for the go command, never from the host.
func (h *Host) InstallDependencies(_ *pulumirpc.InstallDependenciesRequest, _ pulumirpc.LanguageRuntime_InstallDependenciesServer) error {
	return nil
}

// About describes the go toolchain that builds programs.
func (h *Host) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, errors.New("the go command is not on PATH; install Go 1.26 or later")
	}
	out, err := exec.CommandContext(ctx, goBin, "env", "GOVERSION").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOVERSION: %w", err)
	}
	return &pulumirpc.AboutResponse{Executable: goBin, Version: strings.TrimSpace(string(out))}, nil
}

// GetProgramDependencies lists the program's module requirements.
func (h *Host) GetProgramDependencies(ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Path}} {{.Version}}", "all")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -m all in %s: %w", dir, err)
	}
	var deps []*pulumirpc.DependencyInfo
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, version, _ := strings.Cut(line, " ")
		if version != "" {
			deps = append(deps, &pulumirpc.DependencyInfo{Name: name, Version: version})
		}
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// Run builds the program and runs it against the engine's resource monitor.
func (h *Host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	dir, target := programTarget(req)
	tmp, err := os.MkdirTemp("", "pulumi-go-program-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "program")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}

	build := exec.CommandContext(ctx, "go", "build", "-o", bin, target)
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("building the Go program in %s failed: %v\n%s", dir, err, out)}, nil
	}

	env, err := h.programEnv(req)
	if err != nil {
		return nil, err
	}
	prog := exec.CommandContext(ctx, bin, req.GetArgs()...)
	prog.Dir = req.GetPwd()
	prog.Env = append(os.Environ(), env...)
	prog.Stdout = os.Stdout
	prog.Stderr = os.Stderr
	err = prog.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == bailExitCode:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with code %d", exitErr.ExitCode())}, nil
	}
	return &pulumirpc.RunResponse{Error: fmt.Sprintf("running the program: %v", err)}, nil
}

// programTarget returns the directory to build in and the package to build.
func programTarget(req *pulumirpc.RunRequest) (dir, target string) {
	dir = req.GetPwd()
	if info := req.GetInfo(); info != nil && info.GetProgramDirectory() != "" {
		dir = info.GetProgramDirectory()
		if ep := info.GetEntryPoint(); ep != "" && ep != "." {
			return dir, "./" + filepath.ToSlash(ep)
		}
		return dir, "."
	}
	if p := req.GetProgram(); p != "" && p != "." {
		if filepath.IsAbs(p) {
			return p, "."
		}
		return dir, "./" + filepath.ToSlash(p)
	}
	return dir, "."
}

// programEnv is the environment the Pulumi Go SDK reads in pulumi.Run.
func (h *Host) programEnv(req *pulumirpc.RunRequest) ([]string, error) {
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	keys, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	engine := h.engineAddress
	h.mu.Unlock()
	root := req.GetInfo().GetRootDirectory()
	if root == "" {
		root = req.GetPwd()
	}
	return []string{
		pulumi.EnvMonitor + "=" + req.GetMonitorAddress(),
		pulumi.EnvEngine + "=" + engine,
		pulumi.EnvProject + "=" + req.GetProject(),
		pulumi.EnvStack + "=" + req.GetStack(),
		pulumi.EnvOrganization + "=" + req.GetOrganization(),
		pulumi.EnvPulumiRootDirectory + "=" + root,
		pulumi.EnvConfig + "=" + string(config),
		pulumi.EnvConfigSecretKeys + "=" + string(keys),
		pulumi.EnvDryRun + "=" + strconv.FormatBool(req.GetDryRun()),
		pulumi.EnvParallel + "=" + strconv.Itoa(int(req.GetParallel())),
	}, nil
}
