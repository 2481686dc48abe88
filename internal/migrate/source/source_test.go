package source

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadMixedFormats(t *testing.T) {
	set, err := Load("testdata/ok")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if set.Dir != "testdata/ok" {
		t.Errorf("Dir = %q, want testdata/ok", set.Dir)
	}

	gooseUp := readLines(t, "testdata/ok/0002_transactions.sql", 4, 9) +
		readLines(t, "testdata/ok/0002_transactions.sql", 11, 21) +
		readLines(t, "testdata/ok/0002_transactions.sql", 23, 26)

	type stmt struct {
		line   int
		prefix string
	}
	want := []struct {
		version  int64
		name     string
		file     string
		up       string
		down     string
		stmts    []stmt
		contract bool
		checksum string
	}{
		{
			version: 1, name: "accounts", file: "0001_accounts.up.sql",
			up:   readFile(t, "testdata/ok/0001_accounts.up.sql"),
			down: "DROP TABLE accounts;\n",
			stmts: []stmt{
				{2, "CREATE TABLE accounts ("},
				{8, "CREATE INDEX accounts_name ON accounts (name)"},
			},
			checksum: "6490bc1b10acd8b0f397476946053b19e66fe4a3a8b0b2dfd3f1a97db520d1bb",
		},
		{
			version: 2, name: "transactions", file: "0002_transactions.sql",
			up:   gooseUp,
			down: "DROP TABLE transactions;\nDROP FUNCTION check_amount();\n",
			stmts: []stmt{
				{4, "CREATE TABLE transactions ("},
				{11, "CREATE FUNCTION check_amount() RETURNS trigger"},
				{24, "CREATE TRIGGER transactions_amount"},
			},
			checksum: "db97aca21af22e3bf0308d03f10a18102b3a8d55ec8bfc86f118133a7e410657",
		},
		{
			version: 3, name: "contract", file: "0003_contract.up.sql",
			up:       readFile(t, "testdata/ok/0003_contract.up.sql"),
			stmts:    []stmt{{3, "ALTER TABLE accounts DROP COLUMN legacy_name"}},
			contract: true,
			checksum: "c7c21a1e8bd638f2b017f93a14c42610bc9ccba71eda39ae1c13f97e1c70112f",
		},
	}
	if len(set.Migrations) != len(want) {
		t.Fatalf("got %d migrations, want %d: %+v", len(set.Migrations), len(want), set.Migrations)
	}
	for i, w := range want {
		m := set.Migrations[i]
		if m.Version != w.version || m.Name != w.name || m.File != w.file {
			t.Errorf("migration %d = version %d name %q file %q, want %d %q %q", i, m.Version, m.Name, m.File, w.version, w.name, w.file)
		}
		if m.Up != w.up {
			t.Errorf("%s: Up = %q, want %q", w.file, m.Up, w.up)
		}
		if m.Down != w.down {
			t.Errorf("%s: Down = %q, want %q", w.file, m.Down, w.down)
		}
		if m.Contract != w.contract {
			t.Errorf("%s: Contract = %v, want %v", w.file, m.Contract, w.contract)
		}
		if m.Checksum != w.checksum {
			t.Errorf("%s: Checksum = %s, want %s", w.file, m.Checksum, w.checksum)
		}
		if sum := sha256.Sum256([]byte(m.Up)); m.Checksum != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: Checksum is not the SHA-256 of Up", w.file)
		}
		if len(m.Statements) != len(w.stmts) {
			t.Errorf("%s: %d statements, want %d: %+v", w.file, len(m.Statements), len(w.stmts), m.Statements)
			continue
		}
		for j, ws := range w.stmts {
			st := m.Statements[j]
			if st.Line != ws.line || !strings.HasPrefix(st.SQL, ws.prefix) {
				t.Errorf("%s: statement %d = line %d %q, want line %d starting %q", w.file, j, st.Line, st.SQL, ws.line, ws.prefix)
			}
			if strings.HasSuffix(st.SQL, ";") || strings.TrimSpace(st.SQL) != st.SQL {
				t.Errorf("%s: statement %d is not trimmed of white space and ';': %q", w.file, j, st.SQL)
			}
		}
	}

	// The goose block is one statement, the whole function, without the
	// StatementBegin/StatementEnd lines and without the final ';'.
	fn := set.Migrations[1].Statements[1].SQL
	if !strings.HasSuffix(fn, "END;\n$body$") || strings.Contains(fn, "+goose") {
		t.Errorf("function statement = %q", fn)
	}
	// The comment after the index is not part of it.
	if got := set.Migrations[0].Statements[1].SQL; got != "CREATE INDEX accounts_name ON accounts (name)" {
		t.Errorf("index statement = %q", got)
	}
	if f := Lint(set); f != nil {
		t.Errorf("Lint(testdata/ok) = %+v, want no findings", f)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readLines returns lines from to to (1-based, inclusive) of a file, with
// their newlines.
func readLines(t *testing.T, name string, from, to int) string {
	t.Helper()
	lines := strings.SplitAfter(readFile(t, name), "\n")
	return strings.Join(lines[from-1:to], "")
}

func TestSetMethods(t *testing.T) {
	set, err := LoadFS(fstest.MapFS{
		"m/0001_a.up.sql": {Data: []byte("SELECT 1;")},
		"m/0002_b.up.sql": {Data: []byte("SELECT 2;")},
		"m/0003_c.sql":    {Data: []byte("-- +goose Up\nSELECT 3;\n")},
	}, "m")
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Latest(); got != 3 {
		t.Errorf("Latest = %d, want 3", got)
	}
	for _, tc := range []struct {
		v    int64
		want []int64
	}{{0, nil}, {1, []int64{1}}, {2, []int64{1, 2}}, {3, []int64{1, 2, 3}}, {99, []int64{1, 2, 3}}} {
		var got []int64
		for _, m := range set.Upto(tc.v) {
			got = append(got, m.Version)
		}
		if !equalInts(got, tc.want) {
			t.Errorf("Upto(%d) = %v, want %v", tc.v, got, tc.want)
		}
	}
	// Appending to Upto's result leaves the set alone.
	_ = append(set.Upto(1), Migration{Version: 42})
	if set.Migrations[1].Version != 2 {
		t.Errorf("append to Upto changed the set: %+v", set.Migrations[1])
	}
	if m, ok := set.Find(2); !ok || m.File != "0002_b.up.sql" {
		t.Errorf("Find(2) = %+v, %v", m, ok)
	}
	if _, ok := set.Find(4); ok {
		t.Error("Find(4) found a migration")
	}

	empty, err := LoadFS(fstest.MapFS{"m/README.md": {Data: []byte("# none yet")}}, "m")
	if err != nil {
		t.Fatalf("empty directory: %v", err)
	}
	if len(empty.Migrations) != 0 || empty.Latest() != 0 || len(empty.Upto(5)) != 0 {
		t.Errorf("empty set = %+v", empty)
	}
	if _, ok := empty.Find(1); ok {
		t.Error("Find in the empty set found a migration")
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLoadTimestamps(t *testing.T) {
	set, err := LoadFS(fstest.MapFS{
		"20240101120000_a.up.sql":   {Data: []byte("SELECT 1;")},
		"20240315093000_b.sql":      {Data: []byte("-- +goose Up\nSELECT 2;\n")},
		"20240315093000_b.down.sql": {Data: nil},
	}, ".")
	if err == nil {
		t.Fatalf("a .down.sql beside a goose file loaded: %+v", set)
	}
	set, err = LoadFS(fstest.MapFS{
		"20240101120000_a.up.sql": {Data: []byte("SELECT 1;")},
		"20240315093000_b.sql":    {Data: []byte("-- +goose Up\nSELECT 2;\n")},
	}, ".")
	if err != nil {
		t.Fatalf("timestamps with gaps: %v", err)
	}
	if set.Latest() != 20240315093000 || len(set.Migrations) != 2 {
		t.Errorf("set = %+v", set)
	}
}

func TestLoadNotFound(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), dir) ||
		!strings.Contains(err.Error(), "set tenantstack:migrations to a directory of .sql files") ||
		!errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v", err)
	}
	_, err = LoadFS(fstest.MapFS{}, "migrations")
	if err == nil || !strings.Contains(err.Error(), "migrations directory migrations") ||
		!strings.Contains(err.Error(), "set tenantstack:migrations") {
		t.Errorf("LoadFS(missing) = %v", err)
	}
	_, err = Load("")
	if err == nil || !strings.Contains(err.Error(), "set tenantstack:migrations") {
		t.Errorf(`Load("") = %v`, err)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // every one is in the error
	}{
		{
			name:  "neither format",
			files: map[string]string{"seed.sql": "INSERT INTO t VALUES (1);"},
			want:  []string{"m/seed.sql: fits neither migration format", "NNNN_name.up.sql", "-- +goose Up"},
		},
		{
			name:  "no name",
			files: map[string]string{"0001_.up.sql": "SELECT 1;"},
			want:  []string{"m/0001_.up.sql: no name after the version", "0001_create_accounts.up.sql"},
		},
		{
			name:  "version zero",
			files: map[string]string{"0000_init.up.sql": "SELECT 1;"},
			want:  []string{"m/0000_init.up.sql: version 0 is not allowed"},
		},
		{
			name:  "version too large",
			files: map[string]string{"99999999999999999999_x.sql": "-- +goose Up\nSELECT 1;\n"},
			want:  []string{"m/99999999999999999999_x.sql: version 99999999999999999999 is too large"},
		},
		{
			name:  "upper-case extension",
			files: map[string]string{"0001_a.up.SQL": "SELECT 1;"},
			want:  []string{"m/0001_a.up.SQL: the extension .SQL is not .sql", "rename it to 0001_a.up.sql"},
		},
		{
			name:  "empty up migration",
			files: map[string]string{"0001_a.up.sql": "-- nothing yet\n/* really */\n"},
			want:  []string{"m/0001_a.up.sql: the up migration has no SQL statement"},
		},
		{
			name:  "empty goose up section",
			files: map[string]string{"0001_a.sql": "-- +goose Up\n-- later\n-- +goose Down\nSELECT 1;\n"},
			want:  []string{"m/0001_a.sql: the -- +goose Up section has no SQL statement"},
		},
		{
			name:  "duplicate versions across formats",
			files: map[string]string{"0001_a.up.sql": "SELECT 1;", "0001_b.sql": "-- +goose Up\nSELECT 1;\n"},
			want:  []string{"duplicate version 1: m/0001_a.up.sql and m/0001_b.sql"},
		},
		{
			name:  "duplicate down files",
			files: map[string]string{"1_a.up.sql": "SELECT 1;", "1_a.down.sql": "SELECT 1;", "01_a.down.sql": "SELECT 1;"},
			want:  []string{"duplicate version 1: m/01_a.down.sql and m/1_a.down.sql"},
		},
		{
			name: "gap",
			files: map[string]string{
				"0001_a.up.sql": "SELECT 1;", "0002_b.up.sql": "SELECT 1;", "0004_d.sql": "-- +goose Up\nSELECT 1;\n",
			},
			want: []string{"version 3 is missing between m/0002_b.up.sql and m/0004_d.sql", "renumber 0004_d.sql to 3"},
		},
		{
			name:  "wide gap",
			files: map[string]string{"1_a.up.sql": "SELECT 1;", "5_e.up.sql": "SELECT 1;"},
			want:  []string{"versions 2 to 4 are missing between m/1_a.up.sql and m/5_e.up.sql"},
		},
		{
			name:  "sequence numbers and timestamps",
			files: map[string]string{"1_a.up.sql": "SELECT 1;", "20240101120000_b.up.sql": "SELECT 1;"},
			want:  []string{"m/1_a.up.sql (version 1) and m/20240101120000_b.up.sql (version 20240101120000)", "mix sequence numbers and timestamps"},
		},
		{
			name:  "goose without up",
			files: map[string]string{"0001_a.sql": "CREATE TABLE a (id int);\n"},
			want:  []string{"m/0001_a.sql: no -- +goose Up line", "rename the file to 0001_a.up.sql"},
		},
		{
			name:  "SQL before goose up",
			files: map[string]string{"0001_a.sql": "-- header\nCREATE TABLE a (id int);\n-- +goose Up\nSELECT 1;\n"},
			want:  []string{"m/0001_a.sql:2: SQL before -- +goose Up"},
		},
		{
			name:  "contract marker with a typo",
			files: map[string]string{"0001_a.sql": "-- tenantstak:contract\n-- +goose Up\nSELECT 1;\n"},
			want:  []string{`m/0001_a.sql:1: "-- tenantstak:contract" looks like the contract marker`},
		},
		{
			name:  "goose without any annotation",
			files: map[string]string{"0001_a.sql": "-- just a comment\n"},
			want:  []string{"m/0001_a.sql: no -- +goose Up line", "0001_a.up.sql"},
		},
		{
			name:  "StatementBegin never closed",
			files: map[string]string{"0001_a.sql": "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n"},
			want:  []string{"m/0001_a.sql:2: -- +goose StatementBegin is never closed"},
		},
		{
			name:  "StatementEnd without StatementBegin",
			files: map[string]string{"0001_a.sql": "-- +goose Up\nSELECT 1;\n-- +goose StatementEnd\n"},
			want:  []string{"m/0001_a.sql:3: -- +goose StatementEnd without a -- +goose StatementBegin"},
		},
		{
			name:  "nested StatementBegin",
			files: map[string]string{"0001_a.sql": "-- +goose Up\n-- +goose StatementBegin\n-- +goose StatementBegin\nSELECT 1;\n-- +goose StatementEnd\n"},
			want:  []string{"m/0001_a.sql:3: -- +goose StatementBegin inside the block opened at line 2"},
		},
		{
			name:  "Down inside a block",
			files: map[string]string{"0001_a.sql": "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n-- +goose Down\n"},
			want:  []string{"m/0001_a.sql:4: -- +goose Down inside the block opened by -- +goose StatementBegin at line 2"},
		},
		{
			name:  "Down before Up",
			files: map[string]string{"0001_a.sql": "-- +goose Down\nSELECT 1;\n-- +goose Up\nSELECT 1;\n"},
			want:  []string{"m/0001_a.sql:1: -- +goose Down before -- +goose Up"},
		},
		{
			name:  "NO TRANSACTION",
			files: map[string]string{"0001_a.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\n"},
			want:  []string{"m/0001_a.sql:1: -- +goose NO TRANSACTION is refused", "one transaction"},
		},
		{
			name:  "ENVSUB",
			files: map[string]string{"0001_a.sql": "-- +goose Up\n-- +goose ENVSUB ON\nSELECT '${X}';\n"},
			want:  []string{"m/0001_a.sql:2: -- +goose ENVSUB ON is not supported"},
		},
		{
			name:  "unknown annotation",
			files: map[string]string{"0001_a.sql": "-- +goose Up\n-- +goose StatmentBegin\nSELECT 1;\n"},
			want:  []string{"m/0001_a.sql:2: unknown annotation -- +goose STATMENTBEGIN"},
		},
		{
			name:  "goose statement without semicolon",
			files: map[string]string{"0001_a.sql": "-- +goose Up\nCREATE TABLE a (id int)\n\n-- +goose Down\nDROP TABLE a;\n"},
			want:  []string{"m/0001_a.sql:2: the statement starting here does not end with ';'"},
		},
		{
			name:  "goose annotations in an up file",
			files: map[string]string{"0001_a.up.sql": "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;\n"},
			want:  []string{"m/0001_a.up.sql:1: a goose annotation in a golang-migrate file", "rename it to 0001_a.sql"},
		},
		{
			name:  "unterminated string",
			files: map[string]string{"0001_a.up.sql": "SELECT 1;\nINSERT INTO t VALUES ('it''s;\n"},
			want:  []string{"m/0001_a.up.sql:2: unterminated quoted string"},
		},
		{
			name:  "unterminated E-string",
			files: map[string]string{"0001_a.up.sql": "SELECT E'it\\'s;\n"},
			want:  []string{"m/0001_a.up.sql:1: unterminated E'...' string"},
		},
		{
			name:  "unterminated dollar quote in goose",
			files: map[string]string{"0001_a.sql": "-- +goose Up\n-- +goose StatementBegin\nDO $do$ BEGIN NULL; END $$;\n-- +goose StatementEnd\n"},
			want:  []string{"m/0001_a.sql:3: unterminated dollar-quoted string: add the closing $do$"},
		},
		{
			name:  "unterminated comment",
			files: map[string]string{"0001_a.up.sql": "SELECT 1;\n\n/* one /* two */ still open\nSELECT 2;\n"},
			want:  []string{"m/0001_a.up.sql:3: unterminated /* comment"},
		},
		{
			name:  "unterminated quote in a down file",
			files: map[string]string{"0001_a.up.sql": "SELECT 1;", "0001_a.down.sql": "SELECT 'x;"},
			want:  []string{"m/0001_a.down.sql:1: unterminated quoted string"},
		},
		{
			name:  "down without up",
			files: map[string]string{"0001_a.up.sql": "SELECT 1;", "0002_b.down.sql": "SELECT 1;"},
			want:  []string{"m/0002_b.down.sql: a down migration without its up migration", "add 0002_b.up.sql"},
		},
		{
			name:  "down with another name",
			files: map[string]string{"0001_a.up.sql": "SELECT 1;", "0001_b.down.sql": "SELECT 1;"},
			want:  []string{"m/0001_a.up.sql and m/0001_b.down.sql have version 1 but different names", "rename the down file to 0001_a.down.sql"},
		},
		{
			name:  "down beside a goose file",
			files: map[string]string{"0001_a.sql": "-- +goose Up\nSELECT 1;\n", "0001_a.down.sql": "SELECT 1;"},
			want:  []string{"m/0001_a.down.sql: the up migration of version 1 is the goose file 0001_a.sql"},
		},
		{
			name:  "contract marker misspelt",
			files: map[string]string{"0001_a.up.sql": "SELECT 1;\n-- tenantstack:contracts\n"},
			want:  []string{`m/0001_a.up.sql:2: "-- tenantstack:contracts" looks like the contract marker but is not`},
		},
		{
			name:  "contract marker in a down file",
			files: map[string]string{"0001_a.up.sql": "SELECT 1;", "0001_a.down.sql": "-- tenantstack:contract\nSELECT 1;"},
			want:  []string{"m/0001_a.down.sql:1: the contract marker -- tenantstack:contract is in the down migration"},
		},
		{
			name:  "contract marker in a goose Down section",
			files: map[string]string{"0001_a.sql": "-- +goose Up\nSELECT 1;\n-- +goose Down\n-- tenantstack:contract\nSELECT 2;\n"},
			want:  []string{"m/0001_a.sql:4: the contract marker -- tenantstack:contract is in the -- +goose Down section"},
		},
		{
			name:  "not UTF-8",
			files: map[string]string{"0001_a.up.sql": "SELECT '\xff';"},
			want:  []string{"m/0001_a.up.sql: not valid UTF-8"},
		},
		{
			name: "several problems at once",
			files: map[string]string{
				"0001_a.up.sql": "SELECT 'x;", "0003_c.up.sql": "SELECT 1;", "notes.sql": "SELECT 1;",
			},
			want: []string{"m/0001_a.up.sql:1: unterminated", "version 2 is missing", "m/notes.sql: fits neither"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"m/README.md": {Data: []byte("# notes")}}
			for name, body := range tc.files {
				fsys["m/"+name] = &fstest.MapFile{Data: []byte(body)}
			}
			set, err := LoadFS(fsys, "m")
			if err == nil {
				t.Fatalf("loaded %+v, want an error", set)
			}
			if set != nil {
				t.Errorf("got a set with the error: %+v", set)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadGooseDetails(t *testing.T) {
	body := "-- tenantstack:contract\n" +
		"-- +goose up\n" + // commands are case insensitive
		"DROP TABLE old_a;\r\n" +
		"DROP TABLE old_b; DROP TABLE old_c;\n" +
		"-- +goose StatementBegin\n" +
		"SELECT 1; SELECT 2;\n" +
		"-- +goose StatementEnd\n" +
		"-- +goose Down\n" +
		"-- +goose StatementBegin\n" +
		"CREATE TABLE old_a (id int);\n" +
		"-- +goose StatementEnd\n"
	set, err := LoadFS(fstest.MapFS{"7_drop_old.sql": {Data: []byte("\uFEFF" + body)}}, ".")
	if err != nil {
		t.Fatal(err)
	}
	m := set.Migrations[0]
	if !m.Contract {
		t.Error("the marker above -- +goose Up is not seen")
	}
	wantUp := "DROP TABLE old_a;\r\nDROP TABLE old_b; DROP TABLE old_c;\nSELECT 1; SELECT 2;\n"
	if m.Up != wantUp {
		t.Errorf("Up = %q, want %q", m.Up, wantUp)
	}
	if m.Down != "CREATE TABLE old_a (id int);\n" {
		t.Errorf("Down = %q", m.Down)
	}
	want := []Statement{
		{"DROP TABLE old_a", 3}, {"DROP TABLE old_b", 4}, {"DROP TABLE old_c", 4}, {"SELECT 1; SELECT 2", 6},
	}
	if !equalStatements(m.Statements, want) {
		t.Errorf("Statements = %+v, want %+v", m.Statements, want)
	}
}

func TestContractMarker(t *testing.T) {
	for _, tc := range []struct {
		comment            string
		isMarker, nearMiss bool
	}{
		{"-- tenantstack:contract", true, false},
		{"--tenantstack:contract", true, false},
		{"-- TenantStack:Contract: drops accounts.legacy_name", true, false},
		{"-- tenantstack:contracts", false, true},
		{"-- tenantstack: contract", false, true},
		{"-- tenantstack:contact", false, true},
		{"-- tenantstack:config sets the search_path", false, false},
		{"-- contract with the bank", false, false},
		{"--", false, false},
	} {
		isMarker, nearMiss := commentDirective(tc.comment)
		if isMarker != tc.isMarker || nearMiss != tc.nearMiss {
			t.Errorf("commentDirective(%q) = %v, %v, want %v, %v", tc.comment, isMarker, nearMiss, tc.isMarker, tc.nearMiss)
		}
	}

	// The marker counts only as a -- comment of the SQL, not inside a string or body.
	set, err := LoadFS(fstest.MapFS{
		"1_a.up.sql": {Data: []byte("SELECT '\n-- tenantstack:contract\n';\n")},
		"2_b.up.sql": {Data: []byte("ALTER TABLE a DROP COLUMN b; -- tenantstack:contract\n")},
	}, ".")
	if err != nil {
		t.Fatal(err)
	}
	if set.Migrations[0].Contract || !set.Migrations[1].Contract {
		t.Errorf("Contract = %v, %v, want false, true", set.Migrations[0].Contract, set.Migrations[1].Contract)
	}
}

// FuzzLoadGoose checks that loading a goose file does not panic, and that
// its statements lie in its Up section.
func FuzzLoadGoose(f *testing.F) {
	f.Add("-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;\n")
	f.Add("-- c\n-- +goose Up\n-- +goose StatementBegin\nDO $$ BEGIN END $$;\n-- +goose StatementEnd\n")
	f.Add("-- +goose Up\n-- +goose StatementEnd\n-- tenantstack:contract\n")
	f.Fuzz(func(t *testing.T, body string) {
		set, err := LoadFS(fstest.MapFS{"0001_a.sql": {Data: []byte(body)}}, ".")
		if err != nil {
			return
		}
		m := set.Migrations[0]
		for _, st := range m.Statements {
			if !strings.Contains(m.Up, st.SQL) {
				t.Fatalf("statement %q is not in Up %q", st.SQL, m.Up)
			}
		}
	})
}
