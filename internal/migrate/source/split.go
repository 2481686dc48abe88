package source

import (
	"fmt"
	"strings"
)

// Statement is one SQL statement of a migration, with where it starts.
type Statement struct {
	SQL  string // the statement text, trimmed, without the trailing ';'
	Line int    // 1-based line in the file where it starts
}

// Split splits SQL into statements at the semicolons that end them, the way
// psql does.
//
// A semicolon does not split inside a '...' string (in which a doubled quote
// stands for one), an E'...' string (where a backslash escapes the next character), a "..."
// identifier, a $tag$...$tag$ dollar quote (any tag, including the empty one
// of $$...$$), a -- line comment or a /* */ block comment (which nest). Nor
// does it split inside parentheses, or inside the BEGIN ATOMIC ... END body
// of a CREATE FUNCTION or CREATE PROCEDURE statement.
//
// Each statement's SQL runs from its first token to its last: comments
// before it are not part of it, comments inside it are kept as written.
// Empty and comment-only pieces are dropped. The last statement need not end
// with a semicolon.
//
// Split returns an error naming the line for an unterminated string, quoted
// identifier, dollar quote or block comment.
func Split(sql string) ([]Statement, error) {
	stmts, _, err := split(sql, 1)
	return stmts, err
}

// split is Split for SQL whose first line is line firstLine of its file. It
// also reports whether the last statement was left open, without its ';'.
func split(src string, firstLine int) (stmts []Statement, open bool, err error) {
	toks, err := lex(src, firstLine)
	if err != nil {
		return nil, false, err
	}
	pieces, open := splitTokens(toks)
	for _, p := range pieces {
		stmts = append(stmts, Statement{SQL: span(src, p), Line: p[0].line})
	}
	return stmts, open, nil
}

// span returns the source text from the first to the last of toks.
func span(src string, toks []token) string {
	return src[toks[0].start:toks[len(toks)-1].end]
}

// splitTokens groups the code tokens of toks (comments left out) into
// statements, dropping the semicolons that end them. open reports that the
// last statement had no semicolon.
//
// Like psql it does not split inside parentheses, and it follows psql's
// heuristic for SQL-standard function bodies: in a statement that starts
// CREATE [OR REPLACE] {FUNCTION|PROCEDURE}, a BEGIN opens a block that the
// matching END closes (a CASE inside one also ends with END).
func splitTokens(toks []token) (pieces [][]token, open bool) {
	var (
		cur    []token
		paren  int
		begin  int
		words  int     // words seen in the current statement
		header [4]byte // first letters of its leading CREATE/OR/REPLACE/FUNCTION/PROCEDURE words
	)
	flush := func() {
		if len(cur) > 0 {
			pieces = append(pieces, cur)
		}
		cur, paren, begin, words, header = nil, 0, 0, 0, [4]byte{}
	}
	for _, t := range toks {
		switch t.kind {
		case tokComment:
			continue
		case tokPunct:
			switch t.val {
			case "(":
				paren++
			case ")":
				if paren > 0 {
					paren--
				}
			case ";":
				if paren == 0 && begin == 0 {
					flush()
					continue
				}
			}
		case tokWord:
			if words < len(header) {
				switch t.val {
				case "create", "or", "replace", "function", "procedure":
					header[words] = t.val[0]
				}
			}
			words++
			routine := header[0] == 'c' && (header[1] == 'f' || header[1] == 'p' ||
				header[1] == 'o' && header[2] == 'r' && (header[3] == 'f' || header[3] == 'p'))
			if routine && paren == 0 {
				switch t.val {
				case "begin":
					begin++
				case "case":
					if begin > 0 {
						begin++
					}
				case "end":
					if begin > 0 {
						begin--
					}
				}
			}
		}
		cur = append(cur, t)
	}
	open = len(cur) > 0
	flush()
	return pieces, open
}

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tokWord    tokKind = iota // unquoted identifier or keyword; val is lower-cased
	tokIdent                  // "quoted identifier"; val is its name
	tokString                 // '...' or E'...' string; val is its value
	tokDollar                 // $tag$...$tag$ string; val is its body
	tokNumber                 // numeric literal
	tokParam                  // positional parameter $1
	tokPunct                  // any other single character: operator or punctuation
	tokComment                // -- or /* */ comment
)

// token is one lexical token of SQL text.
type token struct {
	kind       tokKind
	start, end int    // byte offsets in the text
	line       int    // 1-based line where it starts
	val        string // see tokKind
	escapes    bool   // an E'...' string, whose value may hold fewer lines than its text
}

// syntaxError is an unterminated string, identifier, dollar quote or comment.
type syntaxError struct {
	line int
	msg  string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// lex splits src, whose first line is line, into tokens following
// PostgreSQL's lexical rules (with standard_conforming_strings on, the
// default). On an unterminated construct it returns the tokens before it and
// a *syntaxError.
func lex(src string, line int) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		if isSpace(c) {
			if c == '\n' {
				line++
			}
			i++
			continue
		}
		t := token{start: i, line: line}
		var err *syntaxError
		switch {
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			t.kind = tokComment
			t.end = len(src)
			if nl := strings.IndexByte(src[i:], '\n'); nl >= 0 {
				t.end = i + nl
			}
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			t.kind = tokComment
			t.end, err = blockComment(src, i, line)
		case c == '\'':
			t.kind = tokString
			t.end, t.val, err = quoted(src, i, '\'', false, line)
		case c == '"':
			t.kind = tokIdent
			t.end, t.val, err = quoted(src, i, '"', false, line)
		case (c == 'e' || c == 'E') && i+1 < len(src) && src[i+1] == '\'':
			t.kind = tokString
			t.escapes = true
			t.end, t.val, err = quoted(src, i+1, '\'', true, line)
		case isIdentStart(c):
			t.kind = tokWord
			t.end = i + 1
			for t.end < len(src) && isIdentCont(src[t.end]) {
				t.end++
			}
			t.val = strings.ToLower(src[i:t.end])
		case isDigit(c):
			t.kind = tokNumber
			t.end = i + 1
			for t.end < len(src) && (isIdentCont(src[t.end]) && src[t.end] != '$' || src[t.end] == '.') {
				t.end++
			}
		case c == '$':
			t.kind, t.end, t.val, err = dollar(src, i, line)
		default:
			t.kind = tokPunct
			t.end = i + 1
			t.val = src[i:t.end]
		}
		if err != nil {
			return toks, err
		}
		toks = append(toks, t)
		line += strings.Count(src[i:t.end], "\n")
		i = t.end
	}
	return toks, nil
}

// blockComment returns the end of the /* */ comment at src[i:], which may
// nest.
func blockComment(src string, i, line int) (int, *syntaxError) {
	depth := 0
	for j := i; j+1 < len(src); {
		switch {
		case src[j] == '/' && src[j+1] == '*':
			depth++
			j += 2
		case src[j] == '*' && src[j+1] == '/':
			depth--
			j += 2
			if depth == 0 {
				return j, nil
			}
		default:
			j++
		}
	}
	return 0, &syntaxError{line, "unterminated /* comment: add the closing */ (block comments nest, so each /* inside it needs its own */ too)"}
}

// quoted returns the end and the value of the string or identifier quoted by
// q at src[i]. A doubled q stands for one; with backslashes, a backslash
// escapes the next character (E'...' strings).
func quoted(src string, i int, q byte, backslashes bool, line int) (int, string, *syntaxError) {
	var val strings.Builder
	for j := i + 1; j < len(src); j++ {
		c := src[j]
		switch {
		case backslashes && c == '\\' && j+1 < len(src):
			j++
			val.WriteByte(unescape(src[j]))
		case c == q && j+1 < len(src) && src[j+1] == q:
			j++
			val.WriteByte(q)
		case c == q:
			return j + 1, val.String(), nil
		default:
			val.WriteByte(c)
		}
	}
	switch {
	case q == '"':
		return 0, "", &syntaxError{line, `unterminated quoted identifier: add the closing " (a "" inside it stands for one ")`}
	case backslashes:
		return 0, "", &syntaxError{line, `unterminated E'...' string: add the closing ' (in an E'...' string \' is an escaped quote that does not close it)`}
	default:
		return 0, "", &syntaxError{line, "unterminated quoted string: add the closing ' (a '' inside it stands for one ')"}
	}
}

// unescape returns the character that a backslash followed by c stands for
// in an E'...' string, as far as the lint needs: octal, hex and Unicode
// escapes are left as their letter.
func unescape(c byte) byte {
	switch c {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return c
}

// dollar lexes the '$' at src[i]: a dollar-quoted string $tag$...$tag$, a
// positional parameter $1, or else a lone '$'.
func dollar(src string, i, line int) (tokKind, int, string, *syntaxError) {
	j := i + 1
	if j < len(src) && isDigit(src[j]) {
		for j < len(src) && isDigit(src[j]) {
			j++
		}
		return tokParam, j, "", nil
	}
	if j < len(src) && isIdentStart(src[j]) {
		for j < len(src) && isIdentCont(src[j]) && src[j] != '$' {
			j++
		}
	}
	if j >= len(src) || src[j] != '$' {
		return tokPunct, i + 1, "$", nil
	}
	tag := src[i : j+1]
	body := j + 1
	k := strings.Index(src[body:], tag)
	if k < 0 {
		return 0, 0, "", &syntaxError{line, fmt.Sprintf("unterminated dollar-quoted string: add the closing %s", tag)}
	}
	return tokDollar, body + k + len(tag), src[body : body+k], nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isIdentStart reports whether c may start an unquoted identifier; bytes of
// multi-byte UTF-8 characters count as letters, as in PostgreSQL.
func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentCont(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }
