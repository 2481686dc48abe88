package source

import (
	"strings"
	"testing"
)

func equalStatements(a, b []Statement) bool {
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

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		name string
		sql  string
		want []Statement
	}{
		{"empty", "", nil},
		{"white space and comments only", "  \n-- a\n/* b */ ;\n;\n", nil},
		{"one without semicolon", "SELECT 1", []Statement{{"SELECT 1", 1}}},
		{"two on lines", "SELECT 1;\n\nSELECT 2;\n", []Statement{{"SELECT 1", 1}, {"SELECT 2", 3}}},
		{"two on a line", "SELECT 1; SELECT 2", []Statement{{"SELECT 1", 1}, {"SELECT 2", 1}}},
		{"leading comment dropped, inner kept", "-- first\nSELECT 1 /* one; */ + 1 -- two;\n;",
			[]Statement{{"SELECT 1 /* one; */ + 1", 2}}},
		{"semicolon in string", "INSERT INTO t VALUES ('a;b');SELECT 1",
			[]Statement{{"INSERT INTO t VALUES ('a;b')", 1}, {"SELECT 1", 1}}},
		{"doubled quote", "SELECT 'it''s; fine';\nSELECT 2;", []Statement{{"SELECT 'it''s; fine'", 1}, {"SELECT 2", 2}}},
		{"backslash in a standard string", `SELECT 'a\';SELECT 2`, []Statement{{`SELECT 'a\'`, 1}, {"SELECT 2", 1}}},
		{"E-string", `SELECT E'it\'s; ok\\';SELECT 2`, []Statement{{`SELECT E'it\'s; ok\\'`, 1}, {"SELECT 2", 1}}},
		{"lower-case e-string", `SELECT e'\';'; SELECT 2`, []Statement{{`SELECT e'\';'`, 1}, {"SELECT 2", 1}}},
		{"e ending a word is no prefix", `SELECT one'\';SELECT 2`, []Statement{{`SELECT one'\'`, 1}, {"SELECT 2", 1}}},
		{"quoted identifier", `CREATE TABLE "a;b" ("x"";y" int); SELECT 1`,
			[]Statement{{`CREATE TABLE "a;b" ("x"";y" int)`, 1}, {"SELECT 1", 1}}},
		{"empty dollar tag", "DO $$ BEGIN PERFORM 1; END $$;\nSELECT 1;",
			[]Statement{{"DO $$ BEGIN PERFORM 1; END $$", 1}, {"SELECT 1", 2}}},
		{"named dollar tag with $$ inside", "CREATE FUNCTION f() RETURNS text AS $fn$\nSELECT $$a;b$$;\n$fn$ LANGUAGE sql;\nSELECT 2;",
			[]Statement{{"CREATE FUNCTION f() RETURNS text AS $fn$\nSELECT $$a;b$$;\n$fn$ LANGUAGE sql", 1}, {"SELECT 2", 4}}},
		{"parameter is no dollar quote", "PREPARE p AS SELECT $1; SELECT 2",
			[]Statement{{"PREPARE p AS SELECT $1", 1}, {"SELECT 2", 1}}},
		{"dollar inside identifier", "SELECT a$b$c FROM t; SELECT 2", []Statement{{"SELECT a$b$c FROM t", 1}, {"SELECT 2", 1}}},
		{"nested block comment", "SELECT 1 /* a /* b; */ c; */ + 1;\nSELECT 2", []Statement{{"SELECT 1 /* a /* b; */ c; */ + 1", 1}, {"SELECT 2", 2}}},
		{"trailing comment dropped", "SELECT 1 /* one; */;", []Statement{{"SELECT 1", 1}}},
		{"line comment hides quote", "SELECT 1; -- it's\nSELECT 2;", []Statement{{"SELECT 1", 1}, {"SELECT 2", 2}}},
		{"comment markers in strings", "SELECT '--', '/*';SELECT 2", []Statement{{"SELECT '--', '/*'", 1}, {"SELECT 2", 1}}},
		{"parentheses", "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nSELECT 1",
			[]Statement{{"CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))", 1}, {"SELECT 1", 2}}},
		{"BEGIN ATOMIC body", "CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END;\n  SELECT 2;\nEND;\nSELECT 3;",
			[]Statement{{"CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END;\n  SELECT 2;\nEND", 1}, {"SELECT 3", 6}}},
		{"BEGIN outside a function splits", "BEGIN; SELECT 1; COMMIT;", []Statement{{"BEGIN", 1}, {"SELECT 1", 1}, {"COMMIT", 1}}},
		{"CRLF lines", "SELECT 1;\r\nSELECT 2;\r\n", []Statement{{"SELECT 1", 1}, {"SELECT 2", 2}}},
		{"lines counted through strings and comments", "SELECT 'a\nb';\n/* c\nd */\nSELECT $$\n$$;\nSELECT 3",
			[]Statement{{"SELECT 'a\nb'", 1}, {"SELECT $$\n$$", 5}, {"SELECT 3", 7}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Split(tc.sql)
			if err != nil {
				t.Fatalf("Split: %v", err)
			}
			if !equalStatements(got, tc.want) {
				t.Errorf("Split(%q)\n got %+v\nwant %+v", tc.sql, got, tc.want)
			}
		})
	}
}

func TestSplitUnterminated(t *testing.T) {
	for _, tc := range []struct {
		name string
		sql  string
		want string
	}{
		{"string", "SELECT 1;\nSELECT 'abc", "line 2: unterminated quoted string"},
		{"string ending in a doubled quote", "SELECT 'abc''", "line 1: unterminated quoted string"},
		{"E-string ending in an escaped quote", `SELECT E'abc\'`, "line 1: unterminated E'...' string"},
		{"identifier", "\n\nSELECT \"abc", `line 3: unterminated quoted identifier`},
		{"dollar quote", "DO $x$ BEGIN END $y$;", "line 1: unterminated dollar-quoted string: add the closing $x$"},
		{"empty dollar quote", "SELECT 1;\nDO $$ BEGIN END", "line 2: unterminated dollar-quoted string: add the closing $$"},
		{"block comment", "SELECT 1 /* a", "line 1: unterminated /* comment"},
		{"nested block comment", "/* a /* b */\nSELECT 1;", "line 1: unterminated /* comment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Split(tc.sql)
			if err == nil {
				t.Fatalf("Split(%q) = %+v, want an error", tc.sql, got)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Split(%q) error = %q, want it to start %q", tc.sql, err, tc.want)
			}
		})
	}
}

// FuzzSplit checks that Split and Lint do not panic, and that every
// statement is trimmed text of the input, in line order.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"SELECT 1; SELECT 2",
		"DO $$ BEGIN EXECUTE 'SET ROLE x'; END $$",
		`SELECT E'\'', e'\\'`,
		"/* /* */ */ SELECT 1 -- x",
		"$a$ $a$ $1 $ a$b",
		"CREATE FUNCTION f() BEGIN ATOMIC SELECT CASE WHEN 1 THEN 2 END; END; (;);",
		"GRANT x TO y; ALTER TABLE t OWNER TO u; COPY t TO 'f'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, err := Split(sql)
		if err != nil {
			return
		}
		for i, st := range stmts {
			if st.SQL == "" || strings.TrimSpace(st.SQL) != st.SQL || !strings.Contains(sql, st.SQL) {
				t.Fatalf("statement %d = %q is not trimmed text of %q", i, st.SQL, sql)
			}
			if st.Line < 1 || i > 0 && st.Line < stmts[i-1].Line {
				t.Fatalf("statement %d at line %d after line %d", i, st.Line, stmts[i-1].Line)
			}
		}
		Lint(&Set{Migrations: []Migration{{File: "0001_f.up.sql", Up: sql, Statements: stmts}}})
	})
}
