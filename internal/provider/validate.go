package provider

import (
	"fmt"
	"strings"
	"unicode/utf8"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// maxIdentifierBytes is PostgreSQL's NAMEDATALEN-1: longer names are silently
// truncated by the server, so two long names could collide.
const maxIdentifierBytes = 63

// identifierRule is the allowed form, quoted in every refusal.
const identifierRule = `allowed: ASCII letters, digits, "_" and "-", starting with a letter or "_", at most 63 bytes`

// describeRune names a character for an error message without echoing
// invisible or confusing bytes as they are.
func describeRune(r rune) string {
	switch {
	case r == '\'':
		return "a single quote (')"
	case r == '"':
		return `a double quote (")`
	case r == '`':
		return "a backquote (`)"
	case r == ';':
		return "a semicolon (;)"
	case r == ' ':
		return "a space"
	case r == '\t', r == '\n', r == '\r', r == '\v', r == '\f':
		return fmt.Sprintf("whitespace (%U)", r)
	case r == utf8.RuneError:
		return "invalid UTF-8"
	case r < 0x20 || r == 0x7f:
		return fmt.Sprintf("a control character (%U)", r)
	case r > 0x7f:
		return fmt.Sprintf("a non-ASCII character %q (%U)", r, r)
	default:
		return fmt.Sprintf("%q", r)
	}
}

// checkIdentifier returns why v is not an acceptable PostgreSQL identifier
// (role, database, schema, table, column or function name), or "" when it is.
func checkIdentifier(what, v string) string {
	if v == "" {
		return fmt.Sprintf("%s is required and must not be empty; %s", what, identifierRule)
	}
	if len(v) > maxIdentifierBytes {
		return fmt.Sprintf("%s %q is %d bytes long, more than PostgreSQL's limit of %d (the server would truncate it); %s",
			what, v, len(v), maxIdentifierBytes, identifierRule)
	}
	for i, r := range v {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
			(i > 0 && (r == '-' || (r >= '0' && r <= '9')))
		if !ok {
			return fmt.Sprintf("%s %q contains %s at byte %d; %s", what, v, describeRune(r), i, identifierRule)
		}
	}
	return ""
}

// checkRoleName adds the names PostgreSQL reserves for roles.
func checkRoleName(what, v string) string {
	if reason := checkIdentifier(what, v); reason != "" {
		return reason
	}
	switch strings.ToLower(v) {
	case "public", "none", "current_user", "session_user", "current_role":
		return fmt.Sprintf("%s %q is reserved by PostgreSQL; choose another name", what, v)
	}
	if strings.HasPrefix(strings.ToLower(v), "pg_") {
		return fmt.Sprintf("%s %q starts with \"pg_\", which PostgreSQL reserves for its own roles; choose another name", what, v)
	}
	return ""
}

// checkSchemaName adds the prefix PostgreSQL reserves for system schemas.
func checkSchemaName(what, v string) string {
	if reason := checkIdentifier(what, v); reason != "" {
		return reason
	}
	if strings.HasPrefix(strings.ToLower(v), "pg_") {
		return fmt.Sprintf("%s %q starts with \"pg_\", which PostgreSQL reserves for system schemas; choose another name", what, v)
	}
	return ""
}

// checkPassword refuses what no client can send. Every printable character,
// including quotes, backslashes, "$" and spaces, is accepted.
func checkPassword(v string) string {
	if !utf8.ValidString(v) {
		return "password is not valid UTF-8"
	}
	if strings.ContainsRune(v, 0) {
		return "password contains a NUL byte, which no PostgreSQL client can send"
	}
	return ""
}

// checkTenantID holds tenant ids to the tenant domain's rule (a DNS label
// of at most 40 characters that is not reserved), the form the rest of the
// platform (role names, namespaces, key prefixes) builds on.
func checkTenantID(v string) string {
	if err := tenantspec.ValidateTenantID(v); err != nil {
		return "tenantId: " + err.Error()
	}
	return ""
}

// failures collects check failures, skipping properties whose value is not
// known yet (a preview with inputs computed from other resources).
type failures struct {
	inputs property.Map
	list   []p.CheckFailure
}

func newFailures(inputs property.Map) *failures { return &failures{inputs: inputs} }

// known reports whether the input named prop is known at this point.
func (f *failures) known(prop string) bool {
	return !f.inputs.Get(prop).HasComputed()
}

// add records reason against prop unless reason is empty or prop is unknown.
func (f *failures) add(prop, reason string) {
	if reason == "" || !f.known(prop) {
		return
	}
	f.list = append(f.list, p.CheckFailure{Property: prop, Reason: reason})
}
