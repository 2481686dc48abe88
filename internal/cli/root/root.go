// Package root assembles the tenantctl command tree, parses the global flags
// and maps errors to exit codes.
package root

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/audit"
	auditCmd "github.com/tenantstack/tenantstack/internal/cli/audit"
	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/dev"
	migrateCmd "github.com/tenantstack/tenantstack/internal/cli/migrate"
	platformCmd "github.com/tenantstack/tenantstack/internal/cli/platform"
	applyCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/apply"
	backupCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/backup"
	createCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/create"
	credentialsCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/credentials"
	deleteCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/delete"
	driftCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/drift"
	getCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/get"
	listCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/list"
	moveCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/move"
	purgeCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/purge"
	restoreCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/restore"
	rotateCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/rotate"
	suspendCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/suspend"
	updateCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/update"
	usageCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/usage"
	verifyCmd "github.com/tenantstack/tenantstack/internal/cli/tenant/verify"
	"github.com/tenantstack/tenantstack/internal/engine"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
	"github.com/tenantstack/tenantstack/internal/probe"
	"github.com/tenantstack/tenantstack/internal/toolchain"
	"github.com/tenantstack/tenantstack/internal/version"
)

// Main runs tenantctl with args and returns the process exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ios := cmdutil.System()
	f := cmdutil.NewFactory(ios)
	cmd := NewCmdRoot(f)
	cmd.SetArgs(args)
	start := time.Now()
	ran, err := cmd.ExecuteContextC(ctx)
	if err != nil {
		fmt.Fprintf(ios.ErrOut, "error: %v\n", err)
	}
	code := cmdutil.ExitCode(err)
	if ran != nil && audit.Mutating(ran.CommandPath()) {
		recordAudit(ctx, f, ran, args, err, code, time.Since(start))
	}
	return code
}

// recordAudit appends the command that ran to the platform's audit log. A
// log that cannot be written is a warning: the command has already run.
func recordAudit(ctx context.Context, f *cmdutil.Factory, ran *cobra.Command, args []string, runErr error, code int, took time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	r := audit.Record{Command: strings.TrimPrefix(ran.CommandPath(), "tenantctl "), Args: args, Result: "ok", ExitCode: code, Seconds: took.Seconds()}
	if runErr != nil {
		r.Result = audit.Scrub(runErr.Error())
	}
	if pos := ran.Flags().Args(); len(pos) > 0 && ran.Name() != "apply" {
		r.Tenant = pos[0]
	}
	// restore NAME --as NEW changes NEW.
	if as := ran.Flags().Lookup("as"); as != nil && as.Value.String() != "" {
		r.Tenant = as.Value.String()
	}
	if u, err := user.Current(); err == nil {
		r.User = u.Username
	}
	r.Host, _ = os.Hostname()
	svc, err := f.Fleet()
	if err == nil {
		err = svc.Audit(ctx, r)
	}
	if err != nil {
		fmt.Fprintf(f.IO.ErrOut, "warning: the audit log did not record this command: %v\n", err)
	}
}

// NewCmdRoot returns the tenantctl command with every verb attached.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	var (
		format   string
		backend  string
		platform string
		timeout  time.Duration
		cancel   context.CancelFunc = func() {}
	)
	cmd := &cobra.Command{
		Use:   "tenantctl",
		Short: "Onboard and operate the tenants of a tenantstack platform",
		Long: `tenantctl onboards, changes, suspends and offboards the tenants of a
tenantstack platform, one small Pulumi stack per tenant, and runs a local
platform of real services for development and tests.

All state lives under TENANTSTACK_HOME (default ~/.tenantstack).`,
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			ff, err := output.ParseFormat(format)
			if err != nil {
				return &cmdutil.UsageError{Err: err}
			}
			f.Format = func() output.Format { return ff }
			if timeout < 0 {
				return cmdutil.Usagef("--timeout must not be negative")
			}
			if timeout > 0 {
				var ctx context.Context
				ctx, cancel = context.WithTimeout(c.Context(), timeout)
				c.SetContext(ctx)
			}
			return nil
		},
		PersistentPostRun: func(*cobra.Command, []string) { cancel() },
	}
	cmd.SetIn(f.IO.In)
	cmd.SetOut(f.IO.Out)
	cmd.SetErr(f.IO.ErrOut)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &cmdutil.UsageError{Err: err}
	})
	cmd.PersistentFlags().StringVarP(&format, "output", "o", "table", "output format: table, json, yaml or csv (usage also prometheus)")
	cmd.PersistentFlags().DurationVar(&timeout, "timeout", 0, "give up after this long, e.g. 5m (0: no limit)")
	cmd.PersistentFlags().StringVar(&backend, "backend", os.Getenv("TENANTSTACK_BACKEND"),
		"Pulumi backend URL for stack state (default file://$TENANTSTACK_HOME/state; env TENANTSTACK_BACKEND)")
	cmd.PersistentFlags().StringVar(&platform, "platform", envOr("TENANTSTACK_PLATFORM", "local"),
		"the platform stack (environment) tenants belong to (env TENANTSTACK_PLATFORM)")
	var secretsProvider string
	cmd.PersistentFlags().StringVar(&secretsProvider, "secrets-provider", os.Getenv("TENANTSTACK_SECRETS_PROVIDER"),
		"how new stacks encrypt their secrets: passphrase (default), default (Pulumi Cloud), or a KMS key URL such as awskms://alias/tenantstack (env TENANTSTACK_SECRETS_PROVIDER)")
	var noPolicy bool
	cmd.PersistentFlags().BoolVar(&noPolicy, "no-policy", os.Getenv("TENANTSTACK_NO_POLICY") == "1",
		"run ups and previews without the guardrails policy pack (refused by default when it is missing; env TENANTSTACK_NO_POLICY=1)")
	var svc *fleet.Service
	f.Fleet = func() (*fleet.Service, error) {
		if svc != nil {
			return svc, nil
		}
		dir, err := f.HomeDir()
		if err != nil {
			return nil, err
		}
		eng, err := engine.New(dir, backend)
		if err != nil {
			return nil, err
		}
		if err := eng.SetSecretsProvider(secretsProvider); err != nil {
			return nil, &cmdutil.UsageError{Err: fmt.Errorf("--secrets-provider: %w", err)}
		}
		for _, p := range eng.Repaired {
			fmt.Fprintf(f.IO.ErrOut, "warning: removed %s, a state sidecar torn by a killed process\n", p)
		}
		// Every tenant and platform up runs with the guardrails policy
		// pack when it is built (make build puts it beside tenantctl).
		var packs []string
		pack, lookErr := toolchain.Lookup(guardrailsPack)
		if lookErr == nil && !noPolicy {
			packs = append(packs, pack)
		}
		svc = fleet.NewService(eng, platform, packs...)
		svc.PolicyMissing, svc.NoPolicy = lookErr, noPolicy
		if noPolicy {
			fmt.Fprintln(f.IO.ErrOut, "warning: --no-policy: changes run without the guardrails policy pack")
		}
		svc.Prober = func(ctx context.Context, p *fleet.Platform, self fleet.Credentials, others []fleet.Credentials) ([]fleet.Probe, error) {
			return probe.Run(ctx, probe.Admin{PostgresURL: p.PostgresAdminURL, RedisURL: p.RedisAdminURL, Kubeconfig: p.Kubeconfig, PlatformDatabase: p.Database}, self, others)
		}
		return svc, nil
	}
	cmd.SetVersionTemplate("tenantctl {{.Version}}\n")

	for _, add := range verbs {
		cmd.AddCommand(add(f))
	}
	cmd.AddCommand(newCmdVersion(f))
	return cmd
}

// verbs lists the constructors of the top-level verbs, in help order.
var verbs = []func(*cmdutil.Factory) *cobra.Command{
	func(f *cmdutil.Factory) *cobra.Command { return createCmd.NewCmdCreate(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return listCmd.NewCmdList(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return getCmd.NewCmdGet(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return updateCmd.NewCmdUpdate(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return suspendCmd.NewCmdSuspend(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return suspendCmd.NewCmdResume(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return moveCmd.NewCmdMove(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return rotateCmd.NewCmdRotate(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return deleteCmd.NewCmdDelete(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return backupCmd.NewCmdBackup(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return backupCmd.NewCmdBackups(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return restoreCmd.NewCmdRestore(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return purgeCmd.NewCmdPurge(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return credentialsCmd.NewCmdCredentials(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return verifyCmd.NewCmdVerify(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return usageCmd.NewCmdUsage(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return applyCmd.NewCmdApply(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return applyCmd.NewCmdDiff(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return driftCmd.NewCmdDrift(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return platformCmd.NewCmdPlatform(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return migrateCmd.NewCmdMigrate(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return auditCmd.NewCmdAudit(f, nil) },
	dev.NewCmdDev,
}

func newCmdVersion(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the tenantctl version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v := struct {
				Version         string `json:"version"`
				ProviderVersion string `json:"provider_version"`
			}{version.Version, version.ProviderVersion}
			return f.Printer().Print(v, []string{"VERSION", "PROVIDER"}, [][]string{{v.Version, v.ProviderVersion}})
		},
	}
}

// guardrailsPack is the policy pack binary built from policies/guardrails.
const guardrailsPack = "pulumi-analyzer-policy-tenantstack-guardrails"

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
