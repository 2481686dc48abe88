package credentials

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/tenanttest"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

func TestNewCmdCredentials(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantShow bool
		wantErr  string
	}{
		{name: "name", args: []string{"acme"}},
		{name: "show secrets", args: []string{"acme", "--show-secrets"}, wantShow: true},
		{name: "no name", wantErr: "takes exactly one tenant name"},
		{name: "bad name", args: []string{"acme/../beta"}, wantErr: "'/'"},
		{name: "reserved", args: []string{"template0"}, wantErr: "is reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tenanttest.NewStreams("", false)
			var got *CredentialsOptions
			cmd := NewCmdCredentials(tenanttest.NewFactory(t, s, output.JSON), func(o *CredentialsOptions) error { got = o; return nil })
			err := tenanttest.Execute(t, cmd, tt.args...)
			tenanttest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if !tenanttest.IsUsage(err) || got != nil {
					t.Errorf("error %v: usage error %v, runF ran %v", err, tenanttest.IsUsage(err), got != nil)
				}
				return
			}
			if got == nil || got.Name != "acme" || got.ShowSecrets != tt.wantShow || got.Format != output.JSON {
				t.Fatalf("runF got %+v", got)
			}
		})
	}
}

const (
	pgPassword    = "s3cr3t/pg+x"
	pgPasswordURL = "s3cr3t%2Fpg+x"
	redisPassword = "r3d1s-secret"
)

func creds() *fleet.Credentials {
	return &fleet.Credentials{
		Tenant: "acme", Tier: "shared",
		Postgres: fleet.PostgresCredentials{
			Host: "127.0.0.1", Port: 5432, Database: "platform", Schema: "app", User: "tenant_acme", Password: pgPassword,
			URL:       "postgres://tenant_acme:" + pgPasswordURL + "@127.0.0.1:5432/platform?sslmode=disable",
			PoolerURL: "postgres://tenant_acme:" + pgPasswordURL + "@127.0.0.1:6432/platform",
		},
		Redis: fleet.RedisCredentials{
			Host: "127.0.0.1", Port: 6379, Username: "tenant-acme", Password: redisPassword,
			KeyPrefix: "t:acme:", ChannelPrefix: "t:acme:",
		},
		Kubernetes: fleet.KubernetesCredentials{Namespace: "tenant-acme", ServiceAccount: "app"},
	}
}

// contract is the shape other tools read from "credentials -o json"; it is
// written here by hand on purpose, as the specification the output must meet.
const contract = `{"tenant":"acme","tier":"shared",
"postgres":{"host":"127.0.0.1","port":5432,"database":"platform","schema":"app","user":"tenant_acme","password":"s3cr3t/pg+x",
  "url":"postgres://tenant_acme:s3cr3t%2Fpg+x@127.0.0.1:5432/platform?sslmode=disable","pooler_url":"postgres://tenant_acme:s3cr3t%2Fpg+x@127.0.0.1:6432/platform"},
"redis":{"host":"127.0.0.1","port":6379,"username":"tenant-acme","password":"r3d1s-secret","key_prefix":"t:acme:","channel_prefix":"t:acme:"},
"kubernetes":{"namespace":"tenant-acme","service_account":"app"}}`

type fakeCredentialsGetter struct {
	creds *fleet.Credentials
	err   error
	names []string
}

func (f *fakeCredentialsGetter) Credentials(_ context.Context, name string) (*fleet.Credentials, error) {
	f.names = append(f.names, name)
	return f.creds, f.err
}

func run(t *testing.T, format output.Format, terminal, show bool, svc *fakeCredentialsGetter) (*tenanttest.Streams, error) {
	t.Helper()
	s := tenanttest.NewStreams("", terminal)
	opts := &CredentialsOptions{IO: s.IOStreams, Format: format, Name: "acme", ShowSecrets: show,
		Service: func() (CredentialsGetter, error) { return svc, nil }}
	err := credentialsRun(t.Context(), opts)
	if !reflect.DeepEqual(svc.names, []string{"acme"}) {
		t.Errorf("Credentials calls %v, want one for acme", svc.names)
	}
	return s, err
}

func TestCredentialsJSONContract(t *testing.T) {
	s, err := run(t, output.JSON, false, false, &fakeCredentialsGetter{creds: creds()})
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	if err := json.Unmarshal(s.OutBuf.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, s.OutBuf.String())
	}
	if err := json.Unmarshal([]byte(contract), &want); err != nil {
		t.Fatal(err)
	}
	compareKeys(t, "", got, want)
	tenanttest.Golden(t, "credentials.json", s.OutBuf.Bytes())
	if s.ErrBuf.Len() != 0 {
		t.Errorf("stderr = %q, want nothing with -o json", s.ErrBuf.String())
	}
}

// compareKeys fails for every key missing, extra or different, with its
// path, so a renamed field is named in the failure.
func compareKeys(t *testing.T, path string, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("missing key %s%s", path, k)
			continue
		}
		wm, wIsMap := w.(map[string]any)
		gm, gIsMap := g.(map[string]any)
		switch {
		case wIsMap && gIsMap:
			compareKeys(t, path+k+".", gm, wm)
		case !reflect.DeepEqual(g, w):
			t.Errorf("key %s%s = %v (%T), want %v (%T)", path, k, g, g, w, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("extra key %s%s", path, k)
		}
	}
}

func TestCredentialsRun(t *testing.T) {
	masked := "tenant\tacme\ntier\tshared\n" +
		"postgres.host\t127.0.0.1\npostgres.port\t5432\npostgres.database\tplatform\npostgres.schema\tapp\npostgres.user\ttenant_acme\n" +
		"postgres.password\tREDACTED\n" +
		"postgres.url\tpostgres://tenant_acme:REDACTED@127.0.0.1:5432/platform?sslmode=disable\n" +
		"postgres.pooler_url\tpostgres://tenant_acme:REDACTED@127.0.0.1:6432/platform\n" +
		"redis.host\t127.0.0.1\nredis.port\t6379\nredis.username\ttenant-acme\nredis.password\tREDACTED\n" +
		"redis.key_prefix\tt:acme:\nredis.channel_prefix\tt:acme:\n" +
		"kubernetes.namespace\ttenant-acme\nkubernetes.service_account\tapp\n"
	shown := strings.NewReplacer("postgres.password\tREDACTED", "postgres.password\t"+pgPassword,
		"redis.password\tREDACTED", "redis.password\t"+redisPassword,
		":REDACTED@", ":"+pgPasswordURL+"@").Replace(masked)
	oddURL := creds()
	oddURL.Postgres.URL = "postgres://host/db?user=tenant_acme&password=" + pgPasswordURL
	oddURL.Postgres.PoolerURL = "::not a url " + pgPassword
	keywordDSN := creds()
	keywordDSN.Postgres.URL = "host=127.0.0.1 user=tenant_acme password=" + pgPassword
	keywordDSN.Postgres.PoolerURL = "postgres:tenant_acme:" + pgPassword + "@127.0.0.1" // opaque
	tests := []struct {
		name        string
		format      output.Format
		show        bool
		creds       *fleet.Credentials
		wantOut     string // exact, unless empty
		wantContain []string
		wantStderr  string
		secretsOut  bool // whether the passwords may appear on stdout
	}{
		{name: "table masks passwords", format: output.Table, creds: creds(), wantOut: masked,
			wantStderr: "Passwords are masked; pass --show-secrets, or use -o json, to see them.\n"},
		{name: "table shows passwords when asked", format: output.Table, show: true, creds: creds(), wantOut: shown, secretsOut: true},
		{name: "yaml includes passwords", format: output.YAML, creds: creds(), wantContain: []string{"password: " + pgPassword, "password: " + redisPassword, "pooler_url:"}, secretsOut: true},
		{
			name: "password in a query and an unparsable URL are masked", format: output.Table, creds: oddURL,
			wantContain: []string{"postgres.url\tpostgres://host/db?password=REDACTED&user=tenant_acme\n", "postgres.pooler_url\tREDACTED\n"},
		},
		{
			name: "keyword DSN and opaque URL are masked whole", format: output.Table, creds: keywordDSN,
			wantContain: []string{"postgres.url\tREDACTED\n", "postgres.pooler_url\tREDACTED\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := run(t, tt.format, false, tt.show, &fakeCredentialsGetter{creds: tt.creds})
			if err != nil {
				t.Fatal(err)
			}
			out := s.OutBuf.String()
			if tt.wantOut != "" && out != tt.wantOut {
				t.Errorf("stdout = %q, want %q", out, tt.wantOut)
			}
			for _, w := range tt.wantContain {
				if !strings.Contains(out, w) {
					t.Errorf("stdout %q does not contain %q", out, w)
				}
			}
			leaked := strings.Contains(out, pgPassword) || strings.Contains(out, pgPasswordURL) || strings.Contains(out, redisPassword)
			if leaked != tt.secretsOut {
				t.Errorf("passwords on stdout: %v, want %v\n%s", leaked, tt.secretsOut, out)
			}
			if strings.Contains(s.ErrBuf.String(), pgPassword) || strings.Contains(s.ErrBuf.String(), redisPassword) {
				t.Errorf("a password reached stderr: %q", s.ErrBuf.String())
			}
			if tt.wantStderr != "" && s.ErrBuf.String() != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", s.ErrBuf.String(), tt.wantStderr)
			}
		})
	}
}

func TestCredentialsErrors(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantExit int
	}{
		{name: "not found", err: fmt.Errorf("tenant \"acme\" does not exist: %w", fleet.ErrNotFound), wantExit: cmdutil.ExitNotFound},
		{name: "no platform", err: fmt.Errorf("platform is down: %w", fleet.ErrNoPlatform), wantExit: cmdutil.ExitNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := run(t, output.JSON, false, false, &fakeCredentialsGetter{err: tt.err})
			if got := cmdutil.ExitCode(err); got != tt.wantExit {
				t.Errorf("exit code %d (%v), want %d", got, err, tt.wantExit)
			}
			if s.OutBuf.Len() != 0 {
				t.Errorf("stdout = %q after an error", s.OutBuf.String())
			}
		})
	}
}
