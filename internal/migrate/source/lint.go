package source

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// Finding is one refused statement.
type Finding struct {
	File      string // the migration file: the set's Dir joined with Migration.File
	Line      int    // 1-based line in the file where the refused statement starts
	Statement string // first 120 characters of the statement, runs of white space made one space
	Rule      string // short id, e.g. "alter-role"
	Reason    string // why this weakens isolation, and what to do instead
}

// Lint returns every finding in the set, in file and line order (nil when
// none). The rules apply to every migration alike, since migrations run both
// in the tenants' targets and in the shared schema. See the package
// documentation for the rules and for what the lint can and cannot see.
func Lint(s *Set) []Finding {
	if s == nil {
		return nil
	}
	var l linter
	for _, m := range s.Migrations {
		l.file = filepath.Join(s.Dir, m.File)
		stmts := m.Statements
		if len(stmts) == 0 {
			stmts, _ = Split(m.Up) // a Set built by hand; Load always splits
		}
		for _, st := range stmts {
			toks, _ := lex(st.SQL, st.Line)
			// A goose StatementBegin/StatementEnd block may hold several
			// statements: check each.
			pieces, _ := splitTokens(toks)
			for _, p := range pieces {
				l.check(st.SQL, p, 0)
			}
		}
	}
	return l.findings
}

// FindingsError formats findings as one error, nil when there are none:
//
//	migrations refused, nothing was run:
//	  FILE:LINE: RULE: REASON
//	    STATEMENT
func FindingsError(f []Finding) error {
	if len(f) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("migrations refused, nothing was run:")
	for _, x := range f {
		fmt.Fprintf(&b, "\n  %s:%d: %s: %s\n    %s", x.File, x.Line, x.Rule, x.Reason, x.Statement)
	}
	return errors.New(b.String())
}

// maxDepth bounds how deep quoted code is followed: a string in a function
// body created by a DO block is depth 2.
const maxDepth = 4

// nestedPrefix starts the reason of a finding in quoted code.
const nestedPrefix = "in SQL quoted inside the statement (a DO block, a function body or a string for EXECUTE), which runs as code: "

// linter collects findings.
type linter struct {
	file     string
	findings []Finding
}

// check applies the rules to one statement, the code tokens toks of src,
// then follows the quoted code in it. depth is 0 for a migration's
// statement, and counts the quotes around code found inside one.
func (l *linter) check(src string, toks []token, depth int) {
	if len(toks) == 0 {
		return
	}
	s := stmt(toks)
	report := func(rule, reason string) {
		if reason == "" {
			return
		}
		if depth > 0 {
			reason = nestedPrefix + reason
		}
		f := Finding{File: l.file, Line: toks[0].line, Statement: excerpt(span(src, toks)), Rule: rule, Reason: reason}
		if !slices.Contains(l.findings, f) {
			l.findings = append(l.findings, f)
		}
	}
	if depth == 0 {
		// Quoted code is mostly PL/pgSQL, whose BEGIN and END delimit
		// blocks, not transactions.
		report("transaction-control", s.transactionControl())
	}
	report("alter-role", s.alterRole())
	report("grant-public", s.grantPublic())
	report("disable-rls", s.disableRLS())
	report("drop-policy", s.dropPolicy())
	report("security-definer", s.securityDefiner())
	report("create-extension", s.createExtension())
	report("set-role", s.setRole())
	report("bypass", s.bypass())

	if depth >= maxDepth || depth == 0 && !s.codeBearing() {
		return
	}
	for _, t := range toks {
		if t.kind != tokString && t.kind != tokDollar {
			continue
		}
		inner, _ := lex(t.val, t.line) // a body in another language may not lex to the end
		code := slices.DeleteFunc(inner, func(t token) bool { return t.kind == tokComment })
		if t.escapes {
			// An E'...' string's value may hold fewer lines than its
			// text: report its start.
			for i := range code {
				code[i].line = t.line
			}
		}
		for _, seg := range codeSegments(code) {
			l.check(t.val, seg, depth+1)
		}
	}
}

// excerpt returns the first 120 characters of a statement, runs of white
// space made one space.
func excerpt(sql string) string {
	const max = 120
	s := strings.Join(strings.Fields(sql), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}

// codeSegments splits the tokens of quoted code into the pieces that may
// start a statement: after a ';', and after the PL/pgSQL words after which a
// statement follows (BEGIN, DECLARE, THEN, ELSE, LOOP).
func codeSegments(toks []token) [][]token {
	var segs [][]token
	start := 0
	for i, t := range toks {
		switch {
		case t.kind == tokPunct && t.val == ";":
			if i > start {
				segs = append(segs, toks[start:i])
			}
			start = i + 1
		case t.kind == tokWord && (t.val == "begin" || t.val == "declare" || t.val == "then" || t.val == "else" || t.val == "loop"):
			segs = append(segs, toks[start:i+1])
			start = i + 1
		}
	}
	if start < len(toks) {
		segs = append(segs, toks[start:])
	}
	return segs
}

// stmt is the code tokens of one statement: no comments, strings as single
// tokens whose text no rule reads as keywords.
type stmt []token

// word returns the i-th token if it is an unquoted word, lower-cased, else "".
func (s stmt) word(i int) string {
	if i >= 0 && i < len(s) && s[i].kind == tokWord {
		return s[i].val
	}
	return ""
}

// name returns the i-th token if it is a name, an unquoted word lower-cased
// or a quoted identifier as written, else "".
func (s stmt) name(i int) string {
	if i >= 0 && i < len(s) && (s[i].kind == tokWord || s[i].kind == tokIdent) {
		return s[i].val
	}
	return ""
}

// head reports whether the statement starts with words.
func (s stmt) head(words ...string) bool {
	for i, w := range words {
		if s.word(i) != w {
			return false
		}
	}
	return true
}

// seq returns the index of the first run of words at or after from, or -1.
func (s stmt) seq(from int, words ...string) int {
	for i := from; i+len(words) <= len(s); i++ {
		if s[i:].head(words...) {
			return i
		}
	}
	return -1
}

// topLevel returns the index of the first word w outside parentheses at or
// after from, or -1.
func (s stmt) topLevel(w string, from int) int {
	depth := 0
	for i, t := range s {
		if t.kind == tokPunct {
			switch t.val {
			case "(":
				depth++
			case ")":
				depth--
			}
		}
		if i >= from && depth == 0 && s.word(i) == w {
			return i
		}
	}
	return -1
}

// ddl reports whether the statement starts with one of verbs followed by
// object, as CREATE, ALTER or DROP SCHEMA.
func (s stmt) ddl(object string, verbs ...string) bool {
	return slices.Contains(verbs, s.word(0)) && s.word(1) == object
}

var createAlterDrop = []string{"create", "alter", "drop"}

// routine reports whether the statement creates or alters a function or
// procedure.
func (s stmt) routine() bool {
	switch s.word(0) {
	case "create":
		i := 1
		if s.head("create", "or", "replace") {
			i = 3
		}
		return s.word(i) == "function" || s.word(i) == "procedure"
	case "alter":
		return s.word(1) == "function" || s.word(1) == "procedure" || s.word(1) == "routine"
	}
	return false
}

// clauses returns the tokens of a routine statement before its SQL-standard
// body (BEGIN ATOMIC ... END or RETURN ...), where its options are. A body
// quoted with AS is one token among the options.
func (s stmt) clauses() stmt {
	if b := s.topLevel("begin", 3); b >= 0 {
		s = s[:b]
	}
	if r := s.topLevel("return", 3); r >= 0 {
		s = s[:r]
	}
	return s
}

// codeBearing reports whether the statement carries code in its strings: a
// DO block, a function or procedure body, or a string run by EXECUTE.
func (s stmt) codeBearing() bool {
	return s.word(0) == "do" || (s.word(0) == "create" && s.routine()) || s.seq(0, "execute") >= 0
}

// settings returns the run-time parameters the statement sets, lower-cased:
// by SET (RESET, which restores the default, only for role and session
// authorization), by a set_config call, or by a routine's SET clause.
func (s stmt) settings() []string {
	var names []string
	switch s.word(0) {
	case "set", "reset":
		i := 1
		if s.word(0) == "set" && (s.word(1) == "local" || s.word(1) == "session") && !s.head("set", "session", "authorization") {
			i = 2
		}
		name := strings.ToLower(s.name(i))
		if s.word(i) == "session" && s.word(i+1) == "authorization" {
			name = "session_authorization"
		}
		if s.word(0) == "set" || name == "role" || name == "session_authorization" {
			names = append(names, name)
		}
	}
	for i := range s {
		if s.word(i) == "set_config" && i+2 < len(s) && s[i+1].kind == tokPunct && s[i+1].val == "(" &&
			(s[i+2].kind == tokString || s[i+2].kind == tokDollar) {
			names = append(names, strings.ToLower(strings.TrimSpace(s[i+2].val)))
		}
	}
	if s.routine() {
		c := s.clauses()
		for i := c.topLevel("set", 0); i >= 0; i = c.topLevel("set", i+1) {
			names = append(names, strings.ToLower(c.name(i+1)))
		}
	}
	return names
}

const (
	reasonTransaction = "the engine runs each migration in one transaction per tenant and records its version in that same transaction; " +
		"a statement that begins, ends or splits the transaction would commit part of a migration on its own. Remove it"
	reasonConcurrently = "CONCURRENTLY cannot run inside a transaction block, and each tenant's migration runs in one: remove CONCURRENTLY " +
		"(the statement then runs inside the migration's transaction, locking the table against writes while it runs)"
	reasonVacuum = "VACUUM cannot run inside a transaction block, and each tenant's migration runs in one: " +
		"leave vacuuming to autovacuum, or use ANALYZE, which can run in a transaction"
	reasonDiscard = "DISCARD ALL cannot run inside a transaction block and would reset the session the engine set up for the tenant: remove it"
)

// transactionControl is the rule "transaction-control".
func (s stmt) transactionControl() string {
	switch s.word(0) {
	case "begin", "commit", "rollback", "abort", "savepoint", "release", "end":
		return reasonTransaction
	case "start", "prepare":
		if s.word(1) == "transaction" {
			return reasonTransaction
		}
	case "create":
		i := 1
		if s.word(i) == "unique" {
			i++
		}
		if s.word(i) == "index" && s.word(i+1) == "concurrently" {
			return reasonConcurrently
		}
	case "drop":
		if s.head("drop", "index", "concurrently") {
			return reasonConcurrently
		}
	case "reindex":
		if s.seq(1, "concurrently") >= 0 {
			return reasonConcurrently
		}
	case "alter":
		if d := s.seq(1, "detach", "partition"); d >= 0 && s.seq(d, "concurrently") >= 0 {
			return reasonConcurrently
		}
	case "vacuum":
		return reasonVacuum
	case "discard":
		if s.word(1) == "all" {
			return reasonDiscard
		}
	}
	return ""
}

// alterRole is the rule "alter-role".
func (s stmt) alterRole() string {
	const reason = "roles and role membership are the platform's: it creates each tenant's roles and grants them what they need, " +
		"and a migration that creates, changes, drops or grants roles could hand one tenant's rights to another. " +
		"Remove it; to give access to a table, grant privileges ON the table to a role the platform made for the tenant"
	switch {
	case s.ddl("role", createAlterDrop...), s.ddl("group", createAlterDrop...),
		s.ddl("user", createAlterDrop...) && !s.userMapping(),
		s.head("drop", "owned"), s.head("reassign", "owned"):
		return reason
	case s.word(0) == "grant":
		// GRANT privileges ON objects TO roles; without ON, GRANT roles TO roles.
		if to := s.topLevel("to", 1); to > 0 && !slices.Contains(s.words(1, to), "on") {
			return reason
		}
	case s.word(0) == "revoke":
		if from := s.topLevel("from", 1); from > 0 && !slices.Contains(s.words(1, from), "on") {
			return reason
		}
	}
	return ""
}

// words returns the top-level words of s[from:to].
func (s stmt) words(from, to int) []string {
	var ws []string
	depth := 0
	for i := 0; i < to && i < len(s); i++ {
		if s[i].kind == tokPunct {
			switch s[i].val {
			case "(":
				depth++
			case ")":
				depth--
			}
		}
		if i >= from && depth == 0 && s.word(i) != "" {
			ws = append(ws, s.word(i))
		}
	}
	return ws
}

// userMapping reports whether the statement is CREATE, ALTER or DROP USER
// MAPPING.
func (s stmt) userMapping() bool {
	return s.ddl("user", createAlterDrop...) && s.word(2) == "mapping" && (s.word(3) == "for" || s.word(3) == "if")
}

// grantPublic is the rule "grant-public".
func (s stmt) grantPublic() string {
	if s.word(0) != "grant" {
		return ""
	}
	to := s.topLevel("to", 1)
	if to < 0 {
		return ""
	}
	for i := to + 1; i < len(s); i++ {
		switch s.name(i) {
		case "with", "granted":
			return ""
		case "public":
			return "PUBLIC is every role, every other tenant's included: grant to a role the platform made for this tenant instead"
		}
	}
	return ""
}

// disableRLS is the rule "disable-rls".
func (s stmt) disableRLS() string {
	if s.seq(0, "disable", "row", "level", "security") >= 0 || s.seq(0, "no", "force", "row", "level", "security") >= 0 {
		return "Row-Level Security keeps each tenant to its own rows: the platform enables and forces it on the tables it isolates, " +
			"and turning it off (DISABLE, or NO FORCE, which exempts the owner) shows every tenant's rows. Remove the statement"
	}
	return ""
}

// dropPolicy is the rule "drop-policy".
func (s stmt) dropPolicy() string {
	if s.ddl("policy", createAlterDrop...) {
		return "row-level security policies are the platform's: it adds the tenant-isolation policy to every table itself, " +
			"and a migration's own policy could remove, change or widen it (permissive policies are OR-ed together). " +
			"Remove the statement; isolation is added automatically"
	}
	return ""
}

// securityDefiner is the rule "security-definer".
func (s stmt) securityDefiner() string {
	if !s.routine() {
		return ""
	}
	c := s.clauses()
	if c.seq(0, "security", "definer") < 0 {
		return ""
	}
	for i := c.topLevel("set", 0); i >= 0; i = c.topLevel("set", i+1) {
		if strings.ToLower(c.name(i+1)) == "search_path" {
			return ""
		}
	}
	return "a SECURITY DEFINER routine runs with its owner's rights for whoever calls it, and without a search_path of its own " +
		"a caller can put objects first on the path and have them run with those rights: add SET search_path = pg_catalog, pg_temp " +
		"to the statement (and schema-qualify the names in the body), or remove SECURITY DEFINER"
}

// createExtension is the rule "create-extension".
func (s stmt) createExtension() string {
	if s.ddl("extension", createAlterDrop...) {
		return "extensions are the platform's: many run code with superuser rights or add objects that every tenant of the database shares. " +
			"Remove the statement and ask the platform team to install the extension"
	}
	return ""
}

// setRole is the rule "set-role".
func (s stmt) setRole() string {
	for _, name := range s.settings() {
		if name == "role" || name == "session_authorization" {
			return "migrations run as the tenant's owner role and the isolation checks after them rely on it; " +
				"switching the role or the session authorization would run what follows as another role, maybe another tenant's. Remove it"
		}
	}
	return ""
}

// bypass is the rule "bypass": other ways around the isolation.
func (s stmt) bypass() string {
	if s.seq(0, "bypassrls") >= 0 {
		return "BYPASSRLS lets a role skip every Row-Level Security policy, the tenant-isolation one included; roles are the platform's. Remove it"
	}
	if s.word(0) == "alter" && s.ownerTo() {
		return "ownership is the platform's: an owner can grant anything on its objects and skips Row-Level Security unless it is forced, " +
			"so a new owner could open a tenant's rows to another role. Remove OWNER TO; the migration's objects already belong to the tenant's owner role"
	}
	if s.head("alter", "default", "privileges") {
		return "default privileges decide who gets access to the objects created later, other tenants' roles included; they are the platform's. " +
			"Remove it, and grant on the objects themselves to a role the platform made for the tenant"
	}
	if slices.Contains(s.settings(), "row_security") {
		return "row_security is the platform's: with it off, a role with BYPASSRLS skips Row-Level Security, and the engine relies on its default. Remove it"
	}
	if s.word(0) == "copy" {
		for i := 1; i+1 < len(s); i++ {
			if w := s.word(i); (w == "to" || w == "from") && s.topLevel(w, i) == i {
				if s.word(i+1) == "program" {
					return "COPY ... PROGRAM runs a shell command on the database server, outside any tenant's isolation: remove it, and load data with INSERT statements"
				}
				if s[i+1].kind == tokString || s[i+1].kind == tokDollar {
					return "COPY to or from a file reads or writes files on the database server, which all tenants share: remove it, and load data with INSERT statements"
				}
			}
		}
	}
	switch {
	case s.ddl("schema", createAlterDrop...):
		return "schemas are the platform's: it creates each tenant's schema and the search_path the migration runs with, and creating, " +
			"changing or dropping schemas could reach other tenants' objects. Create the migration's objects without a schema name, in the schema it runs in"
	case s.ddl("database", createAlterDrop...):
		return "databases and their settings are the platform's: it creates each tenant's database. Remove the statement"
	case s.word(0) == "load":
		return "LOAD loads a shared library into the server, outside any tenant's isolation: remove it, and ask the platform team for the extension you need"
	case s.head("alter", "system"):
		return "ALTER SYSTEM changes the server's configuration for every tenant; server settings are the platform's. Remove it"
	case s.userMapping():
		return "a user mapping stores credentials of a role on a foreign server, a way around the tenant's own rights; foreign servers are the platform's. Remove it"
	}
	return ""
}

// ownerTo reports whether an ALTER statement has OWNER TO, other than in
// RENAME [COLUMN|CONSTRAINT|ATTRIBUTE] owner TO.
func (s stmt) ownerTo() bool {
	for i := s.seq(1, "owner", "to"); i >= 0; i = s.seq(i+1, "owner", "to") {
		switch s.word(i - 1) {
		case "rename", "column", "constraint", "attribute":
		default:
			return true
		}
	}
	return false
}
