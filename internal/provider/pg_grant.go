package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pulumi/pulumi-go-provider/infer"
)

// Grant manages privileges of one role on a database, a schema, or tables,
// sequences or functions in a schema, or default privileges on future ones
// (tenantstack:postgres:Grant). Its id is
// "DATABASE/ROLE/KIND/SCHEMA/OBJECT,OBJECT/FORROLE", KIND being the object
// type, prefixed "default-" for default privileges.
//
// A Grant is additive: it grants its privileges and, on update or delete,
// revokes only the ones it granted, so several Grants may share a role and
// an object. Read reports privileges that were revoked by hand.
type Grant struct{}

// GrantArgs are the inputs of a Grant; the outputs echo them.
type GrantArgs struct {
	Role              string   `pulumi:"role"`
	Database          string   `pulumi:"database,optional"`
	Schema            string   `pulumi:"schema,optional"`
	ObjectType        string   `pulumi:"objectType"`
	Objects           []string `pulumi:"objects,optional"`
	Privileges        []string `pulumi:"privileges"`
	DefaultPrivileges bool     `pulumi:"defaultPrivileges,optional"`
	ForRole           string   `pulumi:"forRole,optional"`
}

// GrantState is the recorded state of a Grant.
type GrantState struct {
	GrantArgs
}

// objectKind describes how one object type is granted and read back.
type objectKind struct {
	privileges []string // every privilege the type has, as aclexplode names them
	keyword    string   // GRANT ... ON <keyword> name
	all        string   // GRANT ... ON ALL <all> IN SCHEMA
	defaults   string   // ALTER DEFAULT PRIVILEGES ... ON <defaults>
	defaclType string   // pg_default_acl.defaclobjtype
}

var objectKinds = map[string]objectKind{
	"database": {privileges: []string{"CONNECT", "CREATE", "TEMPORARY"}, keyword: "DATABASE"},
	"schema":   {privileges: []string{"CREATE", "USAGE"}, keyword: "SCHEMA"},
	"table": {privileges: []string{"DELETE", "INSERT", "REFERENCES", "SELECT", "TRIGGER", "TRUNCATE", "UPDATE"},
		keyword: "TABLE", all: "TABLES", defaults: "TABLES", defaclType: "r"},
	"sequence": {privileges: []string{"SELECT", "UPDATE", "USAGE"},
		keyword: "SEQUENCE", all: "SEQUENCES", defaults: "SEQUENCES", defaclType: "S"},
	"function": {privileges: []string{"EXECUTE"},
		keyword: "FUNCTION", all: "FUNCTIONS", defaults: "FUNCTIONS", defaclType: "f"},
}

// Annotate sets the token and documents the resource.
func (*Grant) Annotate(a infer.Annotator) {
	a.SetToken("postgres", "Grant")
	a.Describe(&Grant{}, "Privileges of a role on a database, a schema, or tables, sequences or functions of a schema "+
		"(or, with defaultPrivileges, on those created in the future). Privileges change in place; every other input replaces the grant.")
}

// Annotate documents the inputs.
func (g *GrantArgs) Annotate(a infer.Annotator) {
	a.Describe(&g.Role, "Role receiving the privileges.")
	a.Describe(&g.Database, "Database; the database of the provider's postgresUrl when empty. For objectType database, the database granted on.")
	a.Describe(&g.Schema, "Schema; required for objectType schema, table, sequence and function.")
	a.Describe(&g.ObjectType, "One of database, schema, table, sequence, function.")
	a.Describe(&g.Objects, "Names of tables, sequences or functions in schema; empty means all of them that exist now.")
	a.Describe(&g.Privileges, "Privileges: database CONNECT, CREATE, TEMP; schema USAGE, CREATE; table SELECT, INSERT, UPDATE, DELETE, "+
		"TRUNCATE, REFERENCES, TRIGGER; sequence USAGE, SELECT, UPDATE; function EXECUTE; or ALL alone.")
	a.Describe(&g.DefaultPrivileges, "Grant on objects created in schema in the future (ALTER DEFAULT PRIVILEGES) instead of existing ones.")
	a.Describe(&g.ForRole, "With defaultPrivileges: the role whose future objects are covered; the provider's admin role when empty.")
}

// normalizePrivileges upper-cases, maps TEMP to TEMPORARY and removes
// duplicates, keeping the order given.
func normalizePrivileges(in []string) []string {
	var out []string
	for _, p := range in {
		p = strings.ToUpper(strings.TrimSpace(p))
		if p == "TEMP" {
			p = "TEMPORARY"
		}
		if p == "ALL PRIVILEGES" {
			p = "ALL"
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// expand turns ALL into every privilege of the kind.
func (k objectKind) expand(privs []string) []string {
	if slices.Contains(privs, "ALL") {
		return slices.Clone(k.privileges)
	}
	out := slices.Clone(privs)
	slices.Sort(out)
	return out
}

// Check validates and normalises the inputs without contacting the server.
func (*Grant) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[GrantArgs], error) {
	args, fails, err := infer.DefaultCheck[GrantArgs](ctx, req.NewInputs)
	if err != nil || len(fails) > 0 {
		return infer.CheckResponse[GrantArgs]{Inputs: args, Failures: fails}, err
	}
	f := newFailures(req.NewInputs)
	f.add("role", checkRoleName("role", args.Role))
	if args.Database != "" {
		f.add("database", checkIdentifier("database", args.Database))
	}
	args.ObjectType = strings.ToLower(args.ObjectType)
	kind, ok := objectKinds[args.ObjectType]
	if !ok {
		f.add("objectType", fmt.Sprintf("objectType %q is not one of database, schema, table, sequence, function", args.ObjectType))
		return infer.CheckResponse[GrantArgs]{Inputs: args, Failures: f.list}, nil
	}
	if args.ObjectType == "database" {
		if args.Schema != "" {
			f.add("schema", "schema must be empty for objectType database")
		}
	} else {
		f.add("schema", checkIdentifier("schema", args.Schema))
	}
	if len(args.Objects) > 0 && (args.ObjectType == "database" || args.ObjectType == "schema") {
		f.add("objects", fmt.Sprintf("objects must be empty for objectType %s: the %s is named by the %s input", args.ObjectType, args.ObjectType, args.ObjectType))
	}
	if args.DefaultPrivileges && len(args.Objects) > 0 {
		f.add("objects", "objects must be empty with defaultPrivileges: default privileges apply to every future object in the schema")
	}
	for i, o := range args.Objects {
		f.add("objects", checkIdentifier(fmt.Sprintf("objects[%d]", i), o))
	}
	if args.DefaultPrivileges && kind.defaults == "" {
		f.add("defaultPrivileges", fmt.Sprintf("defaultPrivileges applies to objectType table, sequence or function, not %s", args.ObjectType))
	}
	if args.ForRole != "" {
		if !args.DefaultPrivileges {
			f.add("forRole", "forRole is only meaningful with defaultPrivileges: true")
		} else {
			f.add("forRole", checkRoleName("forRole", args.ForRole))
		}
	}
	if f.known("privileges") {
		args.Privileges = normalizePrivileges(args.Privileges)
	}
	if len(args.Privileges) == 0 {
		f.add("privileges", fmt.Sprintf("privileges must list at least one of %s, or ALL", strings.Join(kind.privileges, ", ")))
	}
	for _, p := range args.Privileges {
		if p == "ALL" {
			if len(args.Privileges) > 1 {
				f.add("privileges", "ALL already includes every privilege; list either ALL or individual privileges")
			}
			continue
		}
		if !slices.Contains(kind.privileges, p) {
			f.add("privileges", fmt.Sprintf("privilege %q does not apply to objectType %s; allowed: %s, or ALL", p, args.ObjectType, strings.Join(kind.privileges, ", ")))
		}
	}
	return infer.CheckResponse[GrantArgs]{Inputs: args, Failures: f.list}, nil
}

// Diff updates privileges in place; any other change is a different grant,
// replaced delete-first so the old grant's revoke cannot undo the new one.
func (*Grant) Diff(ctx context.Context, req infer.DiffRequest[GrantArgs, GrantState]) (infer.DiffResponse, error) {
	return diffGrant(req.State.GrantArgs, req.Inputs, infer.GetConfig[Config](ctx).defaultDatabase()), nil
}

func diffGrant(old, new GrantArgs, defaultDB string) infer.DiffResponse {
	c := newChanges()
	c.deleteFirst = true
	c.replace("role", old.Role != new.Role)
	c.replace("database", orDefault(old.Database, defaultDB) != orDefault(new.Database, defaultDB))
	c.replace("schema", old.Schema != new.Schema)
	c.replace("objectType", old.ObjectType != new.ObjectType)
	c.replace("objects", !sameSet(old.Objects, new.Objects))
	c.replace("defaultPrivileges", old.DefaultPrivileges != new.DefaultPrivileges)
	c.replace("forRole", old.ForRole != new.ForRole)
	if k, ok := objectKinds[new.ObjectType]; ok {
		c.update("privileges", !slices.Equal(k.expand(old.Privileges), k.expand(new.Privileges)))
	}
	return c.response()
}

func grantID(cfg Config, a GrantArgs) string {
	kind := a.ObjectType
	if a.DefaultPrivileges {
		kind = "default-" + kind
	}
	return strings.Join([]string{cfg.database(a.Database), a.Role, kind, a.Schema, strings.Join(a.Objects, ","), a.ForRole}, "/")
}

// parseGrantID recovers the identity inputs of a Grant from its id (import).
func parseGrantID(cfg Config, id string) (GrantArgs, error) {
	parts, err := splitID(id, 6, "DATABASE/ROLE/KIND/SCHEMA/OBJECT,OBJECT/FORROLE")
	if err != nil {
		return GrantArgs{}, err
	}
	a := GrantArgs{Role: parts[1], ObjectType: parts[2], Schema: parts[3], ForRole: parts[5]}
	if parts[0] != cfg.defaultDatabase() {
		a.Database = parts[0]
	}
	if t, ok := strings.CutPrefix(a.ObjectType, "default-"); ok {
		a.ObjectType, a.DefaultPrivileges = t, true
	}
	if _, ok := objectKinds[a.ObjectType]; !ok {
		return GrantArgs{}, fmt.Errorf("id %q: object type %q is not one of database, schema, table, sequence, function", id, a.ObjectType)
	}
	if parts[4] != "" {
		a.Objects = strings.Split(parts[4], ",")
	}
	return a, nil
}

// target renders what the grant applies to, for GRANT and REVOKE.
func (a GrantArgs) target(db string) string {
	k := objectKinds[a.ObjectType]
	switch {
	case a.ObjectType == "database":
		return "DATABASE " + ident(db)
	case a.ObjectType == "schema":
		return "SCHEMA " + ident(a.Schema)
	case len(a.Objects) == 0:
		return "ALL " + k.all + " IN SCHEMA " + ident(a.Schema)
	}
	names := make([]string, len(a.Objects))
	for i, o := range a.Objects {
		names[i] = ident(a.Schema, o)
	}
	return k.keyword + " " + strings.Join(names, ", ")
}

// grantSQL renders GRANT (grant=true) or REVOKE of privs. privs come from
// the validated allowlist, never from free text.
func (a GrantArgs) grantSQL(db string, privs []string, grant bool) string {
	list := strings.Join(privs, ", ")
	if a.DefaultPrivileges {
		k := objectKinds[a.ObjectType]
		head := "ALTER DEFAULT PRIVILEGES"
		if a.ForRole != "" {
			head += " FOR ROLE " + ident(a.ForRole)
		}
		head += " IN SCHEMA " + ident(a.Schema)
		if grant {
			return head + " GRANT " + list + " ON " + k.defaults + " TO " + ident(a.Role)
		}
		return head + " REVOKE " + list + " ON " + k.defaults + " FROM " + ident(a.Role)
	}
	if grant {
		return "GRANT " + list + " ON " + a.target(db) + " TO " + ident(a.Role)
	}
	return "REVOKE " + list + " ON " + a.target(db) + " FROM " + ident(a.Role)
}

// Create grants the privileges in one transaction.
func (*Grant) Create(ctx context.Context, req infer.CreateRequest[GrantArgs]) (infer.CreateResponse[GrantState], error) {
	a := req.Inputs
	cfg := infer.GetConfig[Config](ctx)
	resp := infer.CreateResponse[GrantState]{ID: grantID(cfg, a), Output: GrantState{a}}
	if req.DryRun {
		return resp, nil
	}
	db := cfg.database(a.Database)
	err := cfg.withTx(ctx, db, func(tx pgx.Tx) error {
		stmt := a.grantSQL(db, objectKinds[a.ObjectType].expand(a.Privileges), true)
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("granting %s to %q: %w", strings.Join(a.Privileges, ", "), a.Role, err)
		}
		return nil
	})
	return resp, err
}

// heldPrivileges returns the privileges role holds on every target of a, as
// granted directly (not through membership), or found=false when the role,
// schema or database is gone.
func heldPrivileges(ctx context.Context, conn *pgx.Conn, db string, a GrantArgs) (held []string, found bool, err error) {
	var roleOID uint32
	if err := conn.QueryRow(ctx, `SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1`, a.Role).Scan(&roleOID); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, false, nil
		}
		return nil, false, err
	}
	if a.ObjectType != "database" {
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)`, a.Schema).Scan(&ok); err != nil || !ok {
			return nil, false, err
		}
	}
	k := objectKinds[a.ObjectType]
	var query string
	var args []any
	switch {
	case a.DefaultPrivileges:
		query = `
			SELECT 'default', x.privilege_type
			FROM pg_catalog.pg_default_acl d
			JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
			CROSS JOIN LATERAL aclexplode(d.defaclacl) x
			WHERE n.nspname = $1 AND d.defaclobjtype = $2::"char" AND x.grantee = $3
			  AND d.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = COALESCE(NULLIF($4, ''), current_user))`
		args = []any{a.Schema, k.defaclType, roleOID, a.ForRole}
	case a.ObjectType == "database":
		query = `
			SELECT d.datname, x.privilege_type FROM pg_catalog.pg_database d
			LEFT JOIN LATERAL aclexplode(COALESCE(d.datacl, acldefault('d', d.datdba))) x ON x.grantee = $2
			WHERE d.datname = $1`
		args = []any{db, roleOID}
	case a.ObjectType == "schema":
		query = `
			SELECT n.nspname, x.privilege_type FROM pg_catalog.pg_namespace n
			LEFT JOIN LATERAL aclexplode(COALESCE(n.nspacl, acldefault('n', n.nspowner))) x ON x.grantee = $2
			WHERE n.nspname = $1`
		args = []any{a.Schema, roleOID}
	case a.ObjectType == "function":
		query = `
			SELECT p.proname, x.privilege_type FROM pg_catalog.pg_proc p
			JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
			LEFT JOIN LATERAL aclexplode(COALESCE(p.proacl, acldefault('f', p.proowner))) x ON x.grantee = $2
			WHERE n.nspname = $1 AND (COALESCE(cardinality($3::text[]), 0) = 0 OR p.proname = ANY($3))`
		args = []any{a.Schema, roleOID, a.Objects}
	default: // table, sequence
		relkinds, acl := []string{"r", "p", "v", "m", "f"}, "r"
		if a.ObjectType == "sequence" {
			relkinds, acl = []string{"S"}, "s"
		}
		query = `
			SELECT c.relname, x.privilege_type FROM pg_catalog.pg_class c
			JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			LEFT JOIN LATERAL aclexplode(COALESCE(c.relacl, acldefault($4::"char", c.relowner))) x ON x.grantee = $2
			WHERE n.nspname = $1 AND c.relkind::text = ANY($3) AND (COALESCE(cardinality($5::text[]), 0) = 0 OR c.relname = ANY($5))`
		args = []any{a.Schema, roleOID, relkinds, acl, a.Objects}
	}
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	perObject := map[string][]string{}
	for rows.Next() {
		var obj string
		var priv *string
		if err := rows.Scan(&obj, &priv); err != nil {
			return nil, false, err
		}
		if _, ok := perObject[obj]; !ok {
			perObject[obj] = nil
		}
		if priv != nil && !slices.Contains(perObject[obj], *priv) {
			perObject[obj] = append(perObject[obj], *priv)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if a.ObjectType == "database" && len(perObject) == 0 {
		return nil, false, nil
	}
	// Listed objects that no longer exist hold nothing.
	for _, o := range a.Objects {
		if _, ok := perObject[o]; !ok {
			perObject[o] = nil
		}
	}
	if _, ok := perObject["default"]; a.DefaultPrivileges && !ok {
		perObject["default"] = nil // no pg_default_acl entry: nothing granted
	}
	// The privileges held on every object; with none (an empty schema and
	// objects: all), nothing can be missing.
	held = slices.Clone(k.privileges)
	for _, privs := range perObject {
		held = slices.DeleteFunc(held, func(p string) bool { return !slices.Contains(privs, p) })
	}
	return held, true, nil
}

// Read reports privileges revoked by hand: when the role no longer holds
// all of them on every target, the held ones are recorded and the next
// update grants the rest again.
func (*Grant) Read(ctx context.Context, req infer.ReadRequest[GrantArgs, GrantState]) (infer.ReadResponse[GrantArgs, GrantState], error) {
	cfg := infer.GetConfig[Config](ctx)
	st := req.State
	if st.Role == "" { // import: the id carries the identity
		a, err := parseGrantID(cfg, req.ID)
		if err != nil {
			return infer.ReadResponse[GrantArgs, GrantState]{}, err
		}
		st = GrantState{a}
	}
	k := objectKinds[st.ObjectType]
	db := cfg.database(st.Database)
	var held []string
	var found bool
	err := cfg.withConn(ctx, db, func(conn *pgx.Conn) error {
		var err error
		held, found, err = heldPrivileges(ctx, conn, db, st.GrantArgs)
		return err
	})
	if isGone(err) || (err == nil && !found) {
		return infer.ReadResponse[GrantArgs, GrantState]{}, nil
	}
	if err != nil {
		return infer.ReadResponse[GrantArgs, GrantState]{}, err
	}
	want := k.expand(st.Privileges)
	missing := slices.ContainsFunc(want, func(p string) bool { return !slices.Contains(held, p) })
	if req.State.Role == "" || missing {
		// Listed explicitly; Diff compares ALL by what it expands to.
		st.Privileges = held
		if held == nil {
			st.Privileges = []string{}
		}
	}
	if req.State.Role == "" && len(held) == 0 {
		return infer.ReadResponse[GrantArgs, GrantState]{}, nil // nothing to import
	}
	return infer.ReadResponse[GrantArgs, GrantState]{ID: req.ID, Inputs: st.GrantArgs, State: st}, nil
}

// Update revokes the privileges dropped from the list and grants the list
// (again, which also restores privileges revoked by hand).
func (*Grant) Update(ctx context.Context, req infer.UpdateRequest[GrantArgs, GrantState]) (infer.UpdateResponse[GrantState], error) {
	a := req.Inputs
	resp := infer.UpdateResponse[GrantState]{Output: GrantState{a}}
	if req.DryRun {
		return resp, nil
	}
	cfg := infer.GetConfig[Config](ctx)
	k := objectKinds[a.ObjectType]
	db := cfg.database(a.Database)
	newPrivs := k.expand(a.Privileges)
	var dropped []string
	for _, p := range k.expand(req.State.Privileges) {
		if !slices.Contains(newPrivs, p) {
			dropped = append(dropped, p)
		}
	}
	err := cfg.withTx(ctx, db, func(tx pgx.Tx) error {
		if len(dropped) > 0 {
			if _, err := tx.Exec(ctx, a.grantSQL(db, dropped, false)); err != nil {
				return fmt.Errorf("revoking %s from %q: %w", strings.Join(dropped, ", "), a.Role, err)
			}
		}
		if _, err := tx.Exec(ctx, a.grantSQL(db, newPrivs, true)); err != nil {
			return fmt.Errorf("granting %s to %q: %w", strings.Join(newPrivs, ", "), a.Role, err)
		}
		return nil
	})
	return resp, err
}

// Delete revokes the grant's privileges; a role, schema, object or database
// already gone is fine.
func (*Grant) Delete(ctx context.Context, req infer.DeleteRequest[GrantState]) (infer.DeleteResponse, error) {
	cfg := infer.GetConfig[Config](ctx)
	a := req.State.GrantArgs
	if a.Role == "" {
		var err error
		if a, err = parseGrantID(cfg, req.ID); err != nil {
			return infer.DeleteResponse{}, err
		}
		a.Privileges = []string{"ALL"}
	}
	db := cfg.database(a.Database)
	err := cfg.withConn(ctx, db, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, a.grantSQL(db, objectKinds[a.ObjectType].expand(a.Privileges), false))
		return err
	})
	if isGone(err) {
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("revoking %s from %q: %w", strings.Join(a.Privileges, ", "), a.Role, err)
	}
	return infer.DeleteResponse{}, err
}
