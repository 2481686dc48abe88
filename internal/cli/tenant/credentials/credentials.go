// Package credentials implements "tenantctl credentials": the tenant's own
// logins for PostgreSQL, Redis and Kubernetes.
package credentials

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

// CredentialsGetter is what credentials needs of the fleet. *fleet.Service
// implements it.
type CredentialsGetter interface {
	Credentials(ctx context.Context, name string) (*fleet.Credentials, error)
}

// CredentialsOptions are the dependencies and parsed flags of credentials.
type CredentialsOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (CredentialsGetter, error)

	Name string
	// ShowSecrets prints passwords in the table format too.
	ShowSecrets bool
}

// mask stands for a hidden password. Its length says nothing about the
// password's, and it needs no escaping inside a URL.
const mask = "REDACTED"

// NewCmdCredentials returns the credentials command. runF, when not nil,
// receives the parsed options instead of credentialsRun (for tests).
func NewCmdCredentials(f *cmdutil.Factory, runF func(*CredentialsOptions) error) *cobra.Command {
	opts := &CredentialsOptions{
		IO: f.IO,
		Service: func() (CredentialsGetter, error) {
			s, err := f.Fleet()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
	cmd := &cobra.Command{
		Use:     "credentials NAME",
		Aliases: []string{"creds"},
		Short:   "Print a tenant's logins for PostgreSQL, Redis and Kubernetes",
		Long: `Print the tenant's own credentials: its PostgreSQL login (direct and through
PgBouncer), its Redis ACL user with its key and channel prefix, and its
Kubernetes namespace and service account.

The table shows one FIELD VALUE pair per line, named after the JSON keys,
with passwords masked unless --show-secrets is given. -o json and -o yaml
print everything, passwords included: that is what they are for. Keep the
output out of logs.`,
		Example: `  tenantctl credentials acme
  tenantctl credentials acme -o json > acme.json
  DATABASE_URL=$(tenantctl credentials acme -o json | jq -r .postgres.pooler_url)`,
		Args:              shared.ExactlyOneName,
		ValidArgsFunction: shared.CompleteName(shared.FleetLister(f)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return credentialsRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.ShowSecrets, "show-secrets", false, "show passwords in the table output")
	return cmd
}

func credentialsRun(ctx context.Context, opts *CredentialsOptions) error {
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	c, err := svc.Credentials(ctx, opts.Name)
	if err != nil {
		return err
	}
	if err := shared.Printer(opts.IO, opts.Format).Print(c, []string{"FIELD", "VALUE"}, rows(c, opts.ShowSecrets)); err != nil {
		return err
	}
	if opts.Format == output.Table && !opts.ShowSecrets {
		fmt.Fprintln(opts.IO.ErrOut, "Passwords are masked; pass --show-secrets, or use -o json, to see them.")
	}
	return nil
}

// rows lists c as FIELD VALUE rows named after its JSON keys. Unless show
// is set, passwords are masked, including inside the URLs.
func rows(c *fleet.Credentials, show bool) [][]string {
	secret, inURL := func(s string) string { return s }, func(s string) string { return s }
	if !show {
		secret, inURL = func(string) string { return mask }, redactURL
	}
	pg, rd, k := c.Postgres, c.Redis, c.Kubernetes
	return [][]string{
		{"tenant", c.Tenant},
		{"tier", c.Tier},
		{"postgres.host", pg.Host},
		{"postgres.port", strconv.Itoa(pg.Port)},
		{"postgres.database", pg.Database},
		{"postgres.schema", pg.Schema},
		{"postgres.user", pg.User},
		{"postgres.password", secret(pg.Password)},
		{"postgres.url", inURL(pg.URL)},
		{"postgres.pooler_url", inURL(pg.PoolerURL)},
		{"redis.host", rd.Host},
		{"redis.port", strconv.Itoa(rd.Port)},
		{"redis.username", rd.Username},
		{"redis.password", secret(rd.Password)},
		{"redis.key_prefix", rd.KeyPrefix},
		{"redis.channel_prefix", rd.ChannelPrefix},
		{"kubernetes.namespace", k.Namespace},
		{"kubernetes.service_account", k.ServiceAccount},
	}
}

// redactURL masks the password of a connection URL. Anything that is not
// a URL with a scheme (a keyword DSN such as "host=h password=p", say) is
// masked whole rather than risk printing a password in it.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return mask
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), mask)
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", mask)
		u.RawQuery = q.Encode()
	}
	return u.String()
}
