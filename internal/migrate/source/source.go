package source

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	migratesource "github.com/golang-migrate/migrate/v4/source"
)

// Migration is one versioned migration.
type Migration struct {
	Version    int64       // from the file name
	Name       string      // the part after the version, without suffix: "create_accounts"
	File       string      // base name of the up file, e.g. "0001_create_accounts.up.sql"
	Up         string      // the up SQL as written (goose: only the Up section, annotations removed)
	Down       string      // the down SQL if any ("" when none)
	Statements []Statement // Up split into statements, in order
	Contract   bool        // marked with -- tenantstack:contract: held back by the rollout until asked
	Checksum   string      // hex SHA-256 of Up exactly as stored in the field Up
}

// Set is a directory's migrations in version order.
type Set struct {
	Dir        string      // the directory as given to Load or LoadFS
	Migrations []Migration // ascending by Version
}

// Latest returns the highest version, 0 when the set is empty.
func (s *Set) Latest() int64 {
	if s == nil || len(s.Migrations) == 0 {
		return 0
	}
	return s.Migrations[len(s.Migrations)-1].Version
}

// Upto returns the migrations with Version <= v, in version order. The
// result shares the set's backing array; appending to it does not change the
// set.
func (s *Set) Upto(v int64) []Migration {
	if s == nil {
		return nil
	}
	i, found := s.search(v)
	if found {
		i++
	}
	return s.Migrations[:i:i]
}

// Find returns the migration with version v.
func (s *Set) Find(v int64) (Migration, bool) {
	if s == nil {
		return Migration{}, false
	}
	if i, found := s.search(v); found {
		return s.Migrations[i], true
	}
	return Migration{}, false
}

func (s *Set) search(v int64) (int, bool) {
	return slices.BinarySearchFunc(s.Migrations, v, func(m Migration, v int64) int {
		switch {
		case m.Version < v:
			return -1
		case m.Version > v:
			return 1
		}
		return 0
	})
}

// Load reads the migrations in the directory dir of the file system. See the
// package documentation for the formats and the checks; every error names
// the file and says what to change. An empty directory is not an error: it
// gives a Set with no migrations.
func Load(dir string) (*Set, error) {
	if dir == "" {
		return nil, errors.New("no migrations directory given: set tenantstack:migrations to a directory of .sql files")
	}
	return load(os.DirFS(dir), ".", dir)
}

// LoadFS is Load reading the directory dir of fsys, a slash-separated path
// as fs.FS takes ("." for its root).
func LoadFS(fsys fs.FS, dir string) (*Set, error) {
	return load(fsys, dir, dir)
}

// timestampMin is the smallest version taken as a timestamp: 12 digits, as
// in 202401011200 (YYYYMMDDhhmm) or 20240101120000 (YYYYMMDDhhmmss).
const timestampMin = 100_000_000_000

// gooseName matches a goose migration's file name: NNNN_name.sql.
var gooseName = regexp.MustCompile(`^([0-9]+)_(.*)\.sql$`)

// file is one migration file, read and parsed.
type file struct {
	base    string // base name
	shown   string // name for messages: the directory joined with base
	version int64
	name    string
	down    bool // a golang-migrate .down.sql file
	goose   bool
	text    string // content, without a byte order mark
	parsed  parsed
	err     error // of reading or parsing the content
}

// parsed is what a file holds.
type parsed struct {
	up, down   string
	statements []Statement
	contract   bool
}

// load reads fsDir of fsys; shownDir names the directory in messages.
func load(fsys fs.FS, fsDir, shownDir string) (*Set, error) {
	entries, err := fs.ReadDir(fsys, fsDir)
	if err != nil {
		cause := err
		var pe *fs.PathError
		if errors.As(err, &pe) {
			cause = pe.Err
		}
		return nil, fmt.Errorf("migrations directory %s: %w; set tenantstack:migrations to a directory of .sql files", shownDir, cause)
	}
	var (
		errs  []error
		ups   = map[int64][]*file{} // by version; more than one is an error
		downs = map[int64][]*file{}
	)
	for _, e := range entries {
		f, err := readMigration(fsys, fsDir, shownDir, e)
		switch {
		case err != nil:
			errs = append(errs, err)
		case f == nil:
		case f.down:
			downs[f.version] = append(downs[f.version], f)
		default:
			ups[f.version] = append(ups[f.version], f)
		}
	}

	versions := slices.Sorted(maps.Keys(ups))
	errs = append(errs, checkVersions(versions, ups)...)
	set := &Set{Dir: shownDir}
	for _, v := range versions {
		if len(ups[v]) > 1 {
			errs = append(errs, duplicate(v, ups[v]))
		}
		for _, f := range ups[v] {
			if f.err != nil {
				errs = append(errs, f.err)
			}
		}
		up := ups[v][0]
		m := Migration{
			Version:    v,
			Name:       up.name,
			File:       up.base,
			Up:         up.parsed.up,
			Down:       up.parsed.down,
			Statements: up.parsed.statements,
			Contract:   up.parsed.contract,
		}
		sum := sha256.Sum256([]byte(m.Up))
		m.Checksum = hex.EncodeToString(sum[:])
		set.Migrations = append(set.Migrations, m)
	}
	for _, v := range slices.Sorted(maps.Keys(downs)) {
		down, err := pairDown(v, downs[v], ups[v])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		set.Migrations[slices.Index(versions, v)].Down = down
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return set, nil
}

// readMigration reads and parses the directory entry e, or returns nil for
// an entry that is not a migration: not a .sql file, hidden, a directory.
func readMigration(fsys fs.FS, fsDir, shownDir string, e fs.DirEntry) (*file, error) {
	base := e.Name()
	ext := path.Ext(base)
	if e.IsDir() || strings.HasPrefix(base, ".") || !strings.EqualFold(ext, ".sql") {
		return nil, nil // README.md, .gitkeep, subdirectories
	}
	shown := filepath.Join(shownDir, base)
	if ext != ".sql" {
		return nil, fmt.Errorf("%s: the extension %s is not .sql, so no migration tool reads it: rename it to %s", shown, ext, strings.TrimSuffix(base, ext)+".sql")
	}
	f, err := nameFile(base, shown)
	if err != nil {
		return nil, err
	}
	raw, err := fs.ReadFile(fsys, path.Join(fsDir, base))
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read it: %w", shown, err)
	}
	if !utf8.Valid(raw) {
		return nil, fmt.Errorf("%s: not valid UTF-8 text: save it as UTF-8", shown)
	}
	f.text = strings.TrimPrefix(string(raw), "\uFEFF")
	switch {
	case f.goose:
		f.parsed, f.err = parseGoose(f)
	case f.down:
		f.parsed, f.err = parseDown(f)
	default:
		f.parsed, f.err = parseUp(f)
	}
	return f, nil
}

// pairDown returns the down SQL of version v from its down files, checked
// against its up files.
func pairDown(v int64, downs, ups []*file) (string, error) {
	d := downs[0]
	switch {
	case len(downs) > 1:
		return "", duplicate(v, downs)
	case len(ups) == 0:
		return "", fmt.Errorf("%s: a down migration without its up migration: add %s, or delete the down file",
			d.shown, strings.TrimSuffix(d.base, ".down.sql")+".up.sql")
	case ups[0].goose:
		return "", fmt.Errorf("%s: the up migration of version %d is the goose file %s, which holds its own -- +goose Down section: move this SQL there and delete %s",
			d.shown, v, ups[0].base, d.base)
	case ups[0].name != d.name:
		return "", fmt.Errorf("%s and %s have version %d but different names: rename the down file to %s",
			ups[0].shown, d.shown, v, strings.TrimSuffix(ups[0].base, ".up.sql")+".down.sql")
	case d.err != nil:
		return "", d.err
	}
	return d.parsed.down, nil
}

// nameFile reads a migration's version and name from its file name.
func nameFile(base, shown string) (*file, error) {
	f := &file{base: base, shown: shown}
	var digits string
	if strings.HasSuffix(base, ".up.sql") || strings.HasSuffix(base, ".down.sql") {
		m, err := migratesource.Parse(base)
		if err != nil {
			return nil, notMigration(shown)
		}
		digits, _, _ = strings.Cut(base, "_")
		f.name = m.Identifier
		f.down = m.Direction == migratesource.Down
		if uint64(m.Version) > math.MaxInt64 {
			return nil, tooLarge(shown, digits)
		}
		f.version = int64(m.Version)
	} else {
		m := gooseName.FindStringSubmatch(base)
		if m == nil {
			return nil, notMigration(shown)
		}
		digits, f.name, f.goose = m[1], m[2], true
		v, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return nil, tooLarge(shown, digits)
		}
		f.version = v
	}
	if f.version == 0 {
		return nil, fmt.Errorf("%s: version 0 is not allowed, it stands for no migration applied: number the migrations from 1", shown)
	}
	if f.name == "" {
		return nil, fmt.Errorf("%s: no name after the version: name the file like %s_create_accounts%s", shown, digits, strings.TrimPrefix(base, digits+"_"))
	}
	return f, nil
}

func notMigration(shown string) error {
	return fmt.Errorf("%s: fits neither migration format: name it NNNN_name.up.sql (golang-migrate, with an optional NNNN_name.down.sql) "+
		"or NNNN_name.sql with a -- +goose Up section (goose), NNNN being the version; move other SQL files out of the migrations directory", shown)
}

func tooLarge(shown, digits string) error {
	return fmt.Errorf("%s: version %s is too large for a 64-bit integer: use a sequence number or a timestamp such as 20240101120000", shown, digits)
}

func duplicate(v int64, files []*file) error {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.shown
	}
	return fmt.Errorf("duplicate version %d: %s: give all but one of them a new version", v, strings.Join(names, " and "))
}

// checkVersions checks the ascending versions of the up migrations: all
// timestamps, or consecutive integers.
func checkVersions(versions []int64, ups map[int64][]*file) []error {
	if len(versions) == 0 {
		return nil
	}
	first, last := versions[0], versions[len(versions)-1]
	if first < timestampMin && last >= timestampMin {
		small := versions[0]
		stamp, _ := slices.BinarySearch(versions, int64(timestampMin))
		return []error{fmt.Errorf("%s (version %d) and %s (version %d): the versions mix sequence numbers and timestamps: "+
			"use one scheme, consecutive numbers 1, 2, 3, ... or timestamps of 12 or more digits such as 20240101120000",
			ups[small][0].shown, small, ups[versions[stamp]][0].shown, versions[stamp])}
	}
	if first >= timestampMin {
		return nil // timestamps: ascending, gaps allowed
	}
	var errs []error
	for i := 1; i < len(versions); i++ {
		prev, next := versions[i-1], versions[i]
		if next == prev+1 {
			continue
		}
		missing := fmt.Sprintf("version %d is missing", prev+1)
		if next > prev+2 {
			missing = fmt.Sprintf("versions %d to %d are missing", prev+1, next-1)
		}
		errs = append(errs, fmt.Errorf("%s between %s and %s: sequence numbers must count up by one; "+
			"add the missing migration or renumber %s to %d (timestamp versions of 12 or more digits, such as 20240101120000, may have gaps)",
			missing, ups[prev][0].shown, ups[next][0].shown, ups[next][0].base, prev+1))
	}
	return errs
}

// parseUp parses a golang-migrate up file: all of it is the up migration.
func parseUp(f *file) (parsed, error) {
	if n, _, ok := gooseAnnotation(f.text); ok {
		return parsed{}, fmt.Errorf("%s:%d: a goose annotation in a golang-migrate file, which runs whole as the up migration (a -- +goose Down section included): "+
			"rename it to %s to use the goose format, or remove the annotations", f.shown, n, strings.TrimSuffix(f.base, ".up.sql")+".sql")
	}
	toks, err := lex(f.text, 1)
	if err != nil {
		return parsed{}, inFile(f, err)
	}
	contract, err := marker(f, f.text, toks)
	if err != nil {
		return parsed{}, err
	}
	p := parsed{up: f.text, contract: contract}
	pieces, _ := splitTokens(toks)
	for _, piece := range pieces {
		p.statements = append(p.statements, Statement{SQL: span(f.text, piece), Line: piece[0].line})
	}
	if len(p.statements) == 0 {
		return parsed{}, fmt.Errorf("%s: the up migration has no SQL statement: add its statements, or delete the file", f.shown)
	}
	return p, nil
}

// parseDown parses a golang-migrate down file.
func parseDown(f *file) (parsed, error) {
	if n, _, ok := gooseAnnotation(f.text); ok {
		return parsed{}, fmt.Errorf("%s:%d: a goose annotation in a golang-migrate down file: remove it", f.shown, n)
	}
	if err := checkDown(f, f.text, 1); err != nil {
		return parsed{}, err
	}
	return parsed{down: f.text}, nil
}

// checkDown checks down SQL starting at line: its quotes and comments are
// closed and it holds no contract marker.
func checkDown(f *file, sql string, line int) error {
	toks, err := lex(sql, line)
	if err != nil {
		return inFile(f, err)
	}
	for _, t := range toks {
		if isMarker, _ := directive(sql, t); isMarker {
			where := "the down migration"
			if f.goose {
				where = "the -- +goose Down section"
			}
			return fmt.Errorf("%s:%d: the contract marker -- tenantstack:contract is in %s, but it marks an up migration: move it into the up SQL", f.shown, t.line, where)
		}
	}
	return nil
}

// marker reports whether toks, lexed from src, a part of the up SQL of f,
// hold the contract marker. A comment that looks meant as the marker but is
// not is an error, so that a typo does not let a contract migration through
// unmarked.
func marker(f *file, src string, toks []token) (bool, error) {
	contract := false
	for _, t := range toks {
		isMarker, nearMiss := directive(src, t)
		if nearMiss {
			return false, nearMissError(f, t.line, src[t.start:t.end])
		}
		contract = contract || isMarker
	}
	return contract, nil
}

func nearMissError(f *file, line int, comment string) error {
	return fmt.Errorf("%s:%d: %q looks like the contract marker but is not: write the line -- tenantstack:contract, or reword the comment",
		f.shown, line, strings.TrimSpace(comment))
}

// contractMarker, in a -- comment of the up SQL, marks a contract migration.
const contractMarker = "tenantstack:contract"

// directive reports whether the token t of src is a -- comment holding the
// contract marker, or one that looks meant to (nearMiss), like
// "-- tenantstack: contracts".
func directive(src string, t token) (isMarker, nearMiss bool) {
	text := src[t.start:t.end]
	if t.kind != tokComment || !strings.HasPrefix(text, "--") {
		return false, false
	}
	return commentDirective(text)
}

// commentDirective is directive for the text of one -- comment.
func commentDirective(text string) (isMarker, nearMiss bool) {
	fields := strings.Fields(strings.TrimPrefix(text, "--"))
	if len(fields) == 0 {
		return false, false
	}
	if strings.EqualFold(strings.TrimRight(fields[0], ":,.;"), contractMarker) {
		return true, false
	}
	// A near miss: the marker with a typo or split by a space.
	compact := strings.ToLower(strings.Join(fields, ""))
	first := strings.ToLower(strings.TrimRight(fields[0], ":,.;"))
	return false, strings.HasPrefix(compact, contractMarker) || distance(first, contractMarker) <= 2
}

// distance returns the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		diag := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			diag, row[j] = row[j], min(row[j]+1, row[j-1]+1, diag+cost)
		}
	}
	return row[len(b)]
}

// inFile turns a lexing error into one naming the file and line.
func inFile(f *file, err error) error {
	var se *syntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%s:%d: %s", f.shown, se.line, se.msg)
	}
	return fmt.Errorf("%s: %w", f.shown, err)
}

// gooseAnnotation returns the line number and the command of the first
// goose annotation in text, a line -- +goose COMMAND.
func gooseAnnotation(text string) (line int, cmd string, ok bool) {
	for n, l := range strings.Split(text, "\n") {
		if cmd, ok := annotation(l); ok {
			return n + 1, cmd, true
		}
	}
	return 0, "", false
}

// annotation returns the upper-cased command of a goose annotation line
// "-- +goose Up", with its words separated by single spaces.
func annotation(line string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "--")
	if !ok {
		return "", false
	}
	rest, ok = strings.CutPrefix(strings.TrimSpace(rest), "+goose")
	if !ok {
		return "", false
	}
	return strings.ToUpper(strings.Join(strings.Fields(rest), " ")), true
}

// segment is a run of lines of a goose section between annotations.
type segment struct {
	text  strings.Builder
	line  int  // line of its first line
	block bool // between StatementBegin and StatementEnd
}

// gooseSection is where a goose parser is in the file.
type gooseSection int

const (
	gooseHeader gooseSection = iota // before -- +goose Up: comments only
	gooseUp
	gooseDown
)

// gooseParser parses a goose migration line by line.
type gooseParser struct {
	f          *file
	section    gooseSection
	contract   bool               // a marker in the header
	text       [3]strings.Builder // of each section, annotations left out
	segs       [3][]*segment      // of each section
	cur        *segment           // being read; nil after an annotation
	blockStart int                // line of an open StatementBegin, 0 when none
}

// parseGoose parses a goose migration: a header of comments, an Up section
// and an optional Down section, with StatementBegin/StatementEnd blocks.
func parseGoose(f *file) (parsed, error) {
	if _, _, ok := gooseAnnotation(f.text); !ok {
		return parsed{}, fmt.Errorf("%s: no -- +goose Up line: a goose file (NNNN_name.sql) needs one above its up SQL; add it, or rename the file to %s to use the golang-migrate format",
			f.shown, strings.TrimSuffix(f.base, ".sql")+".up.sql")
	}
	g := &gooseParser{f: f}
	lines := strings.SplitAfter(f.text, "\n")
	for i, line := range lines {
		var err error
		if cmd, ok := annotation(line); ok {
			err = g.annotation(i+1, cmd)
		} else {
			err = g.line(i+1, line)
		}
		if err != nil {
			return parsed{}, err
		}
	}
	return g.finish()
}

// line reads line n, which is not an annotation.
func (g *gooseParser) line(n int, line string) error {
	if g.section == gooseHeader {
		trimmed := strings.TrimSpace(line)
		if trimmed != "" && !strings.HasPrefix(trimmed, "--") {
			return fmt.Errorf("%s:%d: SQL before -- +goose Up, where goose runs nothing: put a line -- +goose Up above it", g.f.shown, n)
		}
		isMarker, nearMiss := commentDirective(trimmed)
		if nearMiss {
			return nearMissError(g.f, n, trimmed)
		}
		g.contract = g.contract || isMarker
		return nil
	}
	if line == "" {
		return nil // after the last newline
	}
	g.text[g.section].WriteString(line)
	if g.cur == nil {
		g.cur = &segment{line: n, block: g.blockStart > 0}
		g.segs[g.section] = append(g.segs[g.section], g.cur)
	}
	g.cur.text.WriteString(line)
	return nil
}

// annotation reads line n, the annotation -- +goose cmd.
func (g *gooseParser) annotation(n int, cmd string) error {
	f := g.f
	g.cur = nil
	switch cmd {
	case "UP":
		if g.section != gooseHeader {
			return fmt.Errorf("%s:%d: a second -- +goose Up: a goose file has one Up section; move these statements into the first one", f.shown, n)
		}
		g.section = gooseUp
	case "DOWN":
		switch {
		case g.section == gooseHeader:
			return fmt.Errorf("%s:%d: -- +goose Down before -- +goose Up: put the Up section first", f.shown, n)
		case g.section == gooseDown:
			return fmt.Errorf("%s:%d: a second -- +goose Down: a goose file has one Down section; move these statements into the first one", f.shown, n)
		case g.blockStart > 0:
			return fmt.Errorf("%s:%d: -- +goose Down inside the block opened by -- +goose StatementBegin at line %d: add -- +goose StatementEnd before it", f.shown, n, g.blockStart)
		}
		g.section = gooseDown
	case "STATEMENTBEGIN":
		switch {
		case g.section == gooseHeader:
			return fmt.Errorf("%s:%d: -- +goose StatementBegin before -- +goose Up: put a line -- +goose Up above it", f.shown, n)
		case g.blockStart > 0:
			return fmt.Errorf("%s:%d: -- +goose StatementBegin inside the block opened at line %d: add -- +goose StatementEnd to close that block first", f.shown, n, g.blockStart)
		}
		g.blockStart = n
	case "STATEMENTEND":
		if g.blockStart == 0 {
			return fmt.Errorf("%s:%d: -- +goose StatementEnd without a -- +goose StatementBegin before it: add one above the statement, or delete this line", f.shown, n)
		}
		g.blockStart = 0
	case "NO TRANSACTION":
		return fmt.Errorf("%s:%d: -- +goose NO TRANSACTION is refused: every tenant's migration runs in one transaction, which cannot be switched off; "+
			"remove the line and use statements that run in a transaction (CREATE INDEX without CONCURRENTLY, no VACUUM)", f.shown, n)
	case "ENVSUB ON", "ENVSUB OFF":
		return fmt.Errorf("%s:%d: -- +goose %s is not supported: migrations are checksummed and checked as written, so write the values into the SQL and remove the line", f.shown, n, cmd)
	default:
		return fmt.Errorf("%s:%d: unknown annotation -- +goose %s: the annotations are Up, Down, StatementBegin and StatementEnd", f.shown, n, cmd)
	}
	return nil
}

// finish checks the end of the file and splits the Up section.
func (g *gooseParser) finish() (parsed, error) {
	f := g.f
	switch {
	case g.section == gooseHeader:
		return parsed{}, fmt.Errorf("%s: no -- +goose Up line, only other annotations: add -- +goose Up above the up SQL", f.shown)
	case g.blockStart > 0:
		return parsed{}, fmt.Errorf("%s:%d: -- +goose StatementBegin is never closed: add -- +goose StatementEnd after the statement", f.shown, g.blockStart)
	}
	p := parsed{up: g.text[gooseUp].String(), down: g.text[gooseDown].String(), contract: g.contract}
	for _, s := range g.segs[gooseUp] {
		stmts, contract, err := gooseStatements(f, s)
		if err != nil {
			return parsed{}, err
		}
		p.statements = append(p.statements, stmts...)
		p.contract = p.contract || contract
	}
	if len(p.statements) == 0 {
		return parsed{}, fmt.Errorf("%s: the -- +goose Up section has no SQL statement: add its statements, or delete the file", f.shown)
	}
	for _, s := range g.segs[gooseDown] {
		if err := checkDown(f, s.text.String(), s.line); err != nil {
			return parsed{}, err
		}
	}
	return p, nil
}

// gooseStatements returns the statements of a segment of the Up section and
// whether it holds the contract marker. Outside StatementBegin/StatementEnd
// every statement must end with ';', as goose requires; a block is one
// statement, however many semicolons it holds.
func gooseStatements(f *file, s *segment) ([]Statement, bool, error) {
	text := s.text.String()
	toks, err := lex(text, s.line)
	if err != nil {
		return nil, false, inFile(f, err)
	}
	contract, err := marker(f, text, toks)
	if err != nil {
		return nil, false, err
	}
	if s.block {
		code := slices.DeleteFunc(toks, func(t token) bool { return t.kind == tokComment })
		if n := len(code); n > 0 && code[n-1].kind == tokPunct && code[n-1].val == ";" {
			code = code[:n-1]
		}
		if len(code) == 0 {
			return nil, contract, nil
		}
		return []Statement{{SQL: span(text, code), Line: code[0].line}}, contract, nil
	}
	pieces, open := splitTokens(toks)
	var stmts []Statement
	for _, piece := range pieces {
		stmts = append(stmts, Statement{SQL: span(text, piece), Line: piece[0].line})
	}
	if open {
		last := stmts[len(stmts)-1]
		return nil, false, fmt.Errorf("%s:%d: the statement starting here does not end with ';', which goose needs outside -- +goose StatementBegin/StatementEnd: add the ';'", f.shown, last.Line)
	}
	return stmts, contract, nil
}
