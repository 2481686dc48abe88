package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
)

// Role manages a PostgreSQL role (tenantstack:postgres:Role). Its id is the
// role name.
type Role struct{}

// RoleArgs are the inputs of a Role; the outputs echo them.
type RoleArgs struct {
	Name            string   `pulumi:"name"`
	Login           bool     `pulumi:"login,optional"`
	Password        string   `pulumi:"password,optional" provider:"secret"`
	ConnectionLimit *int     `pulumi:"connectionLimit,optional"`
	Superuser       bool     `pulumi:"superuser,optional"`
	CreateDB        bool     `pulumi:"createDb,optional"`
	CreateRole      bool     `pulumi:"createRole,optional"`
	Replication     bool     `pulumi:"replication,optional"`
	BypassRLS       bool     `pulumi:"bypassRls,optional"`
	Inherit         *bool    `pulumi:"inherit,optional"`
	MemberOf        []string `pulumi:"memberOf,optional"`
	SearchPath      []string `pulumi:"searchPath,optional"`
	// Settings are the role's own session defaults (ALTER ROLE ... SET),
	// such as a plan's statement_timeout or work_mem.
	Settings        map[string]string `pulumi:"settings,optional"`
	AllowPrivileged bool              `pulumi:"allowPrivileged,optional"`
}

// RoleState is the recorded state of a Role.
type RoleState struct {
	RoleArgs
}

// passwordChangedByHand stands in state for a password that no longer
// matches the one Pulumi set, so the next update sets it again.
const passwordChangedByHand = "(changed outside Pulumi)"

// Annotate sets the token and documents the resource.
func (*Role) Annotate(a infer.Annotator) {
	a.SetToken("postgres", "Role")
	a.Describe(&Role{}, "A PostgreSQL role. Renaming replaces it; every other attribute is changed in place with ALTER ROLE.")
}

// Annotate documents the inputs.
func (r *RoleArgs) Annotate(a infer.Annotator) {
	a.Describe(&r.Name, "Role name. "+identifierRule+". Changing it replaces the role.")
	a.Describe(&r.Login, "Whether the role can log in.")
	a.Describe(&r.Password, "Password; stored on the server as a SCRAM-SHA-256 verifier computed by the provider. Empty means no password.")
	a.Describe(&r.ConnectionLimit, "Maximum concurrent connections; -1 means no limit.")
	a.SetDefault(&r.ConnectionLimit, -1)
	a.Describe(&r.Superuser, "SUPERUSER; refused unless allowPrivileged.")
	a.Describe(&r.CreateDB, "CREATEDB.")
	a.Describe(&r.CreateRole, "CREATEROLE; refused unless allowPrivileged.")
	a.Describe(&r.Replication, "REPLICATION; refused unless allowPrivileged.")
	a.Describe(&r.BypassRLS, "BYPASSRLS; refused unless allowPrivileged.")
	a.Describe(&r.Inherit, "INHERIT: whether the role uses the privileges of the roles it is a member of.")
	a.SetDefault(&r.Inherit, true)
	a.Describe(&r.MemberOf, "Roles this role is a member of; memberships not listed are revoked.")
	a.Describe(&r.SearchPath, "Schemas the role's sessions resolve unqualified names in (ALTER ROLE ... SET search_path), "+
		"so the same SQL works on every tier; empty leaves the server's default.")
	a.Describe(&r.Settings, "Session defaults of the role's new sessions (ALTER ROLE ... SET name = 'value'), such as statement_timeout, "+
		"idle_in_transaction_session_timeout, work_mem or temp_file_limit; settings not listed are reset. search_path is its own input. "+
		"Sessions already open keep the values they started with.")
	a.Describe(&r.AllowPrivileged, "Platform-only: permits SUPERUSER, BYPASSRLS, CREATEROLE, REPLICATION and membership in pg_* roles.")
}

// Check validates the inputs without contacting the server.
func (*Role) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[RoleArgs], error) {
	args, fails, err := infer.DefaultCheck[RoleArgs](ctx, req.NewInputs)
	if err != nil || len(fails) > 0 {
		return infer.CheckResponse[RoleArgs]{Inputs: args, Failures: fails}, err
	}
	f := newFailures(req.NewInputs)
	f.add("name", checkRoleName("name", args.Name))
	f.add("password", checkPassword(args.Password))
	if n := intOr(args.ConnectionLimit, -1); n < -1 {
		f.add("connectionLimit", fmt.Sprintf("connectionLimit %d is invalid; use -1 for no limit or a number >= 0", n))
	}
	for i, m := range args.MemberOf {
		what := fmt.Sprintf("memberOf[%d]", i)
		reason := checkIdentifier(what, m)
		if reason == "" && strings.HasPrefix(strings.ToLower(m), "pg_") && !args.AllowPrivileged {
			reason = fmt.Sprintf("%s %q is a predefined role with cluster-wide powers; joining it requires allowPrivileged: true (platform roles only)", what, m)
		}
		if reason == "" && strings.EqualFold(m, args.Name) {
			reason = fmt.Sprintf("%s: a role cannot be a member of itself", what)
		}
		f.add("memberOf", reason)
	}
	for i, sch := range args.SearchPath {
		f.add("searchPath", checkIdentifier(fmt.Sprintf("searchPath[%d]", i), sch))
	}
	for _, k := range slices.Sorted(maps.Keys(args.Settings)) {
		f.add("settings", checkSetting(k, args.Settings[k]))
	}
	if !args.AllowPrivileged {
		for _, flag := range []struct {
			prop, attr string
			set        bool
			why        string
		}{
			{"superuser", "SUPERUSER", args.Superuser, "bypasses every privilege check and row-level security"},
			{"bypassRls", "BYPASSRLS", args.BypassRLS, "ignores row-level security, the isolation of shared tables"},
			{"createRole", "CREATEROLE", args.CreateRole, "can create roles and grant itself their memberships"},
			{"replication", "REPLICATION", args.Replication, "can stream every database's changes"},
		} {
			if flag.set {
				f.add(flag.prop, fmt.Sprintf("%s is refused unless allowPrivileged is true: a role with %s %s; it is for platform roles only, never tenants",
					flag.prop, flag.attr, flag.why))
			}
		}
	}
	return infer.CheckResponse[RoleArgs]{Inputs: args, Failures: f.list}, nil
}

// Diff replaces on a rename and updates everything else in place.
func (*Role) Diff(_ context.Context, req infer.DiffRequest[RoleArgs, RoleState]) (infer.DiffResponse, error) {
	return diffRole(req.State.RoleArgs, req.Inputs), nil
}

func diffRole(old, new RoleArgs) p.DiffResponse {
	c := newChanges()
	c.replace("name", old.Name != new.Name)
	c.update("login", old.Login != new.Login)
	c.update("password", old.Password != new.Password)
	c.update("connectionLimit", intOr(old.ConnectionLimit, -1) != intOr(new.ConnectionLimit, -1))
	c.update("superuser", old.Superuser != new.Superuser)
	c.update("createDb", old.CreateDB != new.CreateDB)
	c.update("createRole", old.CreateRole != new.CreateRole)
	c.update("replication", old.Replication != new.Replication)
	c.update("bypassRls", old.BypassRLS != new.BypassRLS)
	c.update("inherit", boolOr(old.Inherit, true) != boolOr(new.Inherit, true))
	c.update("memberOf", !sameSet(old.MemberOf, new.MemberOf))
	c.update("searchPath", !slices.Equal(old.SearchPath, new.SearchPath))
	c.update("settings", !maps.Equal(old.Settings, new.Settings))
	c.update("allowPrivileged", old.AllowPrivileged != new.AllowPrivileged)
	return c.response()
}

// roleOptions renders the attribute list of CREATE/ALTER ROLE. Only fixed
// keywords and integers appear here; the password is added separately.
func roleOptions(a RoleArgs) string {
	kw := func(on bool, yes, no string) string {
		if on {
			return yes
		}
		return no
	}
	return strings.Join([]string{
		kw(a.Login, "LOGIN", "NOLOGIN"),
		kw(a.Superuser, "SUPERUSER", "NOSUPERUSER"),
		kw(a.CreateDB, "CREATEDB", "NOCREATEDB"),
		kw(a.CreateRole, "CREATEROLE", "NOCREATEROLE"),
		kw(a.Replication, "REPLICATION", "NOREPLICATION"),
		kw(a.BypassRLS, "BYPASSRLS", "NOBYPASSRLS"),
		kw(boolOr(a.Inherit, true), "INHERIT", "NOINHERIT"),
		fmt.Sprintf("CONNECTION LIMIT %d", intOr(a.ConnectionLimit, -1)),
	}, " ")
}

// passwordClause renders PASSWORD with a client-side SCRAM verifier, or
// PASSWORD NULL for no password.
func passwordClause(password string) (string, error) {
	if password == "" {
		return "PASSWORD NULL", nil
	}
	v, err := scramVerifier(password)
	if err != nil {
		return "", err
	}
	return "PASSWORD " + sqlLiteral(v), nil
}

func ident(parts ...string) string { return pgx.Identifier(parts).Sanitize() }

// Create creates the role and its memberships in one transaction.
func (*Role) Create(ctx context.Context, req infer.CreateRequest[RoleArgs]) (infer.CreateResponse[RoleState], error) {
	a := req.Inputs
	resp := infer.CreateResponse[RoleState]{ID: a.Name, Output: RoleState{a}}
	if req.DryRun {
		return resp, nil
	}
	cfg := infer.GetConfig[Config](ctx)
	err := cfg.withTx(ctx, "", func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1)`, a.Name).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("role %q already exists; adopt it with \"pulumi import tenantstack:postgres:Role <resource-name> %s\" or choose another name", a.Name, a.Name)
		}
		pw, err := passwordClause(a.Password)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE ROLE "+ident(a.Name)+" WITH "+roleOptions(a)+" "+pw); err != nil {
			return fmt.Errorf("creating role %q: %w", a.Name, err)
		}
		if err := syncMemberships(ctx, tx, a.Name, a.MemberOf); err != nil {
			return err
		}
		if err := syncSettings(ctx, tx, a.Name, nil, a.Settings); err != nil {
			return err
		}
		return setSearchPath(ctx, tx, a.Name, a.SearchPath)
	})
	return resp, err
}

// settingName is a run-time parameter's name: lowercase, with "." for
// extensions' parameters.
var settingName = regexp.MustCompile(`^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$`)

// checkSetting refuses names that are not parameters and values no client
// can send; the server checks the value itself when it is set.
func checkSetting(name, value string) string {
	switch {
	case !settingName.MatchString(name):
		return fmt.Sprintf("settings key %q is not a parameter name (lowercase letters, digits, \"_\", one optional \".\")", name)
	case name == "search_path":
		return "settings cannot hold search_path; use the searchPath input"
	case name == "role" || name == "session_authorization":
		return fmt.Sprintf("settings cannot hold %s: a role's sessions must run as that role", name)
	}
	return checkPassword(value)
}

// syncSettings makes the role's own settings (besides search_path) exactly
// want: SET what is new or changed, RESET what have holds and want does not.
func syncSettings(ctx context.Context, tx pgx.Tx, role string, have, want map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if v, ok := have[k]; ok && v == want[k] {
			continue
		}
		if _, err := tx.Exec(ctx, "ALTER ROLE "+ident(role)+" SET "+ident(k)+" = "+quoteLiteral(want[k])); err != nil {
			return fmt.Errorf("setting %s of role %q to %q: %w", k, role, want[k], err)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(have)) {
		if _, ok := want[k]; ok {
			continue
		}
		if _, err := tx.Exec(ctx, "ALTER ROLE "+ident(role)+" RESET "+ident(k)); err != nil {
			return fmt.Errorf("resetting %s of role %q: %w", k, role, err)
		}
	}
	return nil
}

// settingsOf reads the role's own settings besides search_path.
func settingsOf(ctx context.Context, q querier, role string) (map[string]string, error) {
	var cfg []string
	err := q.QueryRow(ctx, `
		SELECT s.setconfig FROM pg_catalog.pg_db_role_setting s
		JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
		WHERE r.rolname = $1 AND s.setdatabase = 0`, role).Scan(&cfg)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out map[string]string
	for _, kv := range cfg {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "search_path" {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out, nil
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// setSearchPath sets the role's search_path, or resets it when path is
// empty. The schemas are quoted identifiers; "$user" is not accepted.
func setSearchPath(ctx context.Context, tx pgx.Tx, role string, path []string) error {
	stmt := "ALTER ROLE " + ident(role) + " RESET search_path"
	if len(path) > 0 {
		quoted := make([]string, len(path))
		for i, s := range path {
			quoted[i] = ident(s)
		}
		stmt = "ALTER ROLE " + ident(role) + " SET search_path = " + strings.Join(quoted, ", ")
	}
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("setting the search_path of role %q: %w", role, err)
	}
	return nil
}

// searchPathOf reads the role's own search_path setting (not one for a
// single database), nil when it has none.
func searchPathOf(ctx context.Context, q querier, role string) ([]string, error) {
	var cfg []string
	err := q.QueryRow(ctx, `
		SELECT s.setconfig FROM pg_catalog.pg_db_role_setting s
		JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
		WHERE r.rolname = $1 AND s.setdatabase = 0`, role).Scan(&cfg)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, kv := range cfg {
		if v, ok := strings.CutPrefix(kv, "search_path="); ok {
			var out []string
			for _, part := range strings.Split(v, ",") {
				out = append(out, strings.Trim(strings.TrimSpace(part), `"`))
			}
			return out, nil
		}
	}
	return nil, nil
}

// syncMemberships makes role a member of exactly want.
func syncMemberships(ctx context.Context, tx pgx.Tx, role string, want []string) error {
	have, err := memberships(ctx, tx, role)
	if err != nil {
		return err
	}
	for _, g := range want {
		if slices.Contains(have, g) {
			continue
		}
		if _, err := tx.Exec(ctx, "GRANT "+ident(g)+" TO "+ident(role)); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "42704" {
				return fmt.Errorf("role %q cannot join %q: role %q does not exist; create it first (or make this Role depend on it)", role, g, g)
			}
			return fmt.Errorf("granting membership in %q to %q: %w", g, role, err)
		}
	}
	for _, g := range have {
		if slices.Contains(want, g) {
			continue
		}
		if _, err := tx.Exec(ctx, "REVOKE "+ident(g)+" FROM "+ident(role)); err != nil {
			return fmt.Errorf("revoking membership in %q from %q: %w", g, role, err)
		}
	}
	return nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func memberships(ctx context.Context, q querier, role string) ([]string, error) {
	rows, err := q.Query(ctx, `
		SELECT g.rolname FROM pg_catalog.pg_auth_members m
		JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
		JOIN pg_catalog.pg_roles r ON r.oid = m.member
		WHERE r.rolname = $1 ORDER BY 1`, role)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Read reports the role as the server has it: attributes, memberships and,
// where the admin may read pg_authid, whether the password still matches.
func (*Role) Read(ctx context.Context, req infer.ReadRequest[RoleArgs, RoleState]) (infer.ReadResponse[RoleArgs, RoleState], error) {
	cfg := infer.GetConfig[Config](ctx)
	name := req.ID
	st := req.State
	if st.Name == "" { // import: nothing recorded yet
		st = RoleState{RoleArgs{Name: name}}
	}
	var found bool
	err := cfg.withConn(ctx, "", func(conn *pgx.Conn) error {
		var limit int
		var inherit bool
		err := conn.QueryRow(ctx, `
			SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolinherit, rolconnlimit
			FROM pg_catalog.pg_roles WHERE rolname = $1`, name).
			Scan(&st.Login, &st.Superuser, &st.CreateDB, &st.CreateRole, &st.Replication, &st.BypassRLS, &inherit, &limit)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		st.Name = name
		st.Inherit = &inherit
		st.ConnectionLimit = &limit
		have, err := memberships(ctx, conn, name)
		if err != nil {
			return err
		}
		st.MemberOf = keepOrder(st.MemberOf, have)
		if st.SearchPath, err = searchPathOf(ctx, conn, name); err != nil {
			return err
		}
		live, err := settingsOf(ctx, conn, name)
		if err != nil {
			return err
		}
		// The server spells some values its own way (5s may read back as
		// 5s, 64MB as 64MB, but 1GB as 1GB or 1048576kB); only a key that
		// was added or removed by hand counts as drift.
		if !sameKeys(live, st.Settings) {
			st.Settings = live
		}
		if req.State.Name == "" {
			return nil // import: the password cannot be known
		}
		return readPasswordDrift(ctx, conn, name, &st)
	})
	if err != nil || !found {
		return infer.ReadResponse[RoleArgs, RoleState]{}, err
	}
	return infer.ReadResponse[RoleArgs, RoleState]{ID: name, Inputs: st.RoleArgs, State: st}, nil
}

// readPasswordDrift compares the stored verifier with the recorded password.
// Only superusers can read pg_authid; for other admins the password is
// assumed unchanged.
func readPasswordDrift(ctx context.Context, conn *pgx.Conn, name string, st *RoleState) error {
	var super bool
	if err := conn.QueryRow(ctx, `SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user`).Scan(&super); err != nil {
		return err
	}
	if !super {
		return nil
	}
	var verifier *string
	if err := conn.QueryRow(ctx, `SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1`, name).Scan(&verifier); err != nil {
		return err
	}
	switch {
	case st.Password == "" && verifier != nil:
		st.Password = passwordChangedByHand
	case st.Password != "" && (verifier == nil || !scramMatches(*verifier, st.Password)):
		st.Password = passwordChangedByHand
	}
	return nil
}

// Update applies every attribute with ALTER ROLE, the password only when it
// changed, and reconciles memberships, in one transaction.
func (*Role) Update(ctx context.Context, req infer.UpdateRequest[RoleArgs, RoleState]) (infer.UpdateResponse[RoleState], error) {
	a := req.Inputs
	resp := infer.UpdateResponse[RoleState]{Output: RoleState{a}}
	if req.DryRun {
		return resp, nil
	}
	cfg := infer.GetConfig[Config](ctx)
	err := cfg.withTx(ctx, "", func(tx pgx.Tx) error {
		stmt := "ALTER ROLE " + ident(a.Name) + " WITH " + roleOptions(a)
		if a.Password != req.State.Password {
			pw, err := passwordClause(a.Password)
			if err != nil {
				return err
			}
			stmt += " " + pw
		}
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("altering role %q: %w", a.Name, err)
		}
		if err := syncMemberships(ctx, tx, a.Name, a.MemberOf); err != nil {
			return err
		}
		have, err := settingsOf(ctx, tx, a.Name)
		if err != nil {
			return err
		}
		if err := syncSettings(ctx, tx, a.Name, have, a.Settings); err != nil {
			return err
		}
		return setSearchPath(ctx, tx, a.Name, a.SearchPath)
	})
	return resp, err
}

func sameKeys(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

// Delete ends the role's sessions and drops it; a role already gone is fine.
func (*Role) Delete(ctx context.Context, req infer.DeleteRequest[RoleState]) (infer.DeleteResponse, error) {
	cfg := infer.GetConfig[Config](ctx)
	name := req.ID
	err := cfg.withConn(ctx, "", func(conn *pgx.Conn) error {
		// A dropped role's open sessions would otherwise live on.
		if _, err := conn.Exec(ctx, `SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename = $1 AND pid <> pg_catalog.pg_backend_pid()`, name); err != nil {
			p.GetLogger(ctx).Warningf("could not end the sessions of role %q: %v", name, err)
		}
		_, err := conn.Exec(ctx, "DROP ROLE IF EXISTS "+ident(name))
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "2BP01" {
			return fmt.Errorf("role %q cannot be dropped: it still owns objects or holds privileges (%s); "+
				"delete the Databases, Schemas and Grants that use it first, or run REASSIGN OWNED / DROP OWNED in each database", name, pgErr.Detail)
		}
		if err != nil {
			return fmt.Errorf("dropping role %q: %w", name, err)
		}
		return nil
	})
	return infer.DeleteResponse{}, err
}
