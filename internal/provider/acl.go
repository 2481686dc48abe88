package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// aclCategories are Redis 7's command categories.
var aclCategories = []string{
	"admin", "bitmap", "blocking", "connection", "dangerous", "fast", "geo", "hash", "hyperloglog", "keyspace",
	"list", "pubsub", "read", "scripting", "set", "slow", "sortedset", "stream", "string", "transaction", "write",
}

// privilegedCategories may only be granted with allowPrivileged.
var privilegedCategories = []string{"all", "admin", "dangerous"}

// privilegedCommands may only be granted with allowPrivileged: Redis's
// @dangerous commands (server administration, ACL, replication, KEYS,
// FLUSH*, SORT with BY/GET) and the commands that reach beyond a tenant's
// key patterns because they take no key (SCAN, RANDOMKEY, DBSIZE, SELECT,
// MOVE, SWAPDB, PUBSUB).
var privilegedCommands = []string{
	"acl", "bgrewriteaof", "bgsave", "cluster", "config", "debug", "failover", "flushall", "flushdb", "info",
	"keys", "lastsave", "latency", "migrate", "module", "monitor", "pfdebug", "pfselftest", "psync", "replconf",
	"replicaof", "restore", "restore-asking", "role", "save", "shutdown", "slaveof", "slowlog", "sort", "sort_ro",
	"swapdb", "sync",
	"randomkey", "scan", "dbsize", "select", "move", "pubsub",
	"client|kill", "client|list", "client|no-evict", "client|pause", "client|unblock", "client|unpause",
}

// unprivilegedSuffix is appended after a tenant's rules so that categories
// such as @read or @keyspace, which include KEYS, SCAN and other key-less
// commands, cannot reach other tenants' keys.
var unprivilegedSuffix = []string{"-@dangerous", "-randomkey", "-scan", "-dbsize", "-select", "-move", "-swapdb", "-pubsub"}

var commandRule = regexp.MustCompile(`^[+-](@[a-z]+|[a-z][a-z0-9_-]*(\|[a-z][a-z0-9_-]*)?)$`)

// checkRedisUsername returns why name is not an acceptable ACL username.
func checkRedisUsername(name string) string {
	const rule = `allowed: ASCII letters, digits, "_", "-", "." and ":", starting with a letter, at most 63 bytes`
	if name == "" {
		return "username is required; " + rule
	}
	if len(name) > maxIdentifierBytes {
		return fmt.Sprintf("username %q is %d bytes long; %s", name, len(name), rule)
	}
	for i, r := range name {
		ok := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
			(i > 0 && ((r >= '0' && r <= '9') || r == '_' || r == '-' || r == '.' || r == ':'))
		if !ok {
			return fmt.Sprintf("username %q contains %s at byte %d; %s", name, describeRune(r), i, rule)
		}
	}
	if name == "default" {
		return `username "default" is the server's built-in user; only the platform manages it, with allowPrivileged and enabled: false, to keep it off`
	}
	return ""
}

// checkPattern returns why a key or channel pattern is not acceptable.
// prefix is the rule character Redis uses ("~" or "&"), added by us.
func checkPattern(what, pattern, prefix string, privileged bool) string {
	if pattern == "" {
		return what + " is empty"
	}
	for i, r := range pattern {
		if r <= ' ' || r >= 0x7f {
			return fmt.Sprintf("%s %q contains %s at byte %d; patterns are printable ASCII without spaces", what, pattern, describeRune(r), i)
		}
	}
	if strings.ContainsAny(pattern[:1], "~&%") {
		return fmt.Sprintf("%s %q starts with %q; give the bare pattern (the provider adds %q)", what, pattern, pattern[:1], prefix)
	}
	if !privileged && strings.ContainsAny(pattern[:1], "*?[\\") {
		return fmt.Sprintf("%s %q does not start with a literal prefix (such as t:acme:), so it can match other tenants'; "+
			"that requires allowPrivileged: true (platform users only)", what, pattern)
	}
	return ""
}

// checkCommandRule returns why one entry of commands is not acceptable.
func checkCommandRule(what, rule string, privileged bool) string {
	switch rule {
	case "nocommands":
		return ""
	case "allcommands", "allkeys", "allchannels":
		if privileged {
			return ""
		}
		return fmt.Sprintf("%s %q grants everything and requires allowPrivileged: true (platform users only)", what, rule)
	}
	if !commandRule.MatchString(rule) {
		return fmt.Sprintf("%s %q is not a command rule; use +command, +command|subcommand or +@category (or - to remove); "+
			"keys and channels go in keyPatterns and channelPatterns", what, rule)
	}
	if rule[0] == '-' {
		return ""
	}
	name := rule[1:]
	if cat, ok := strings.CutPrefix(name, "@"); ok {
		if !slices.Contains(aclCategories, cat) && cat != "all" {
			return fmt.Sprintf("%s %q names no Redis command category; known: %s", what, rule, strings.Join(aclCategories, ", "))
		}
		if slices.Contains(privilegedCategories, cat) && !privileged {
			return fmt.Sprintf("%s %q grants administrative or dangerous commands and requires allowPrivileged: true (platform users only)", what, rule)
		}
		return ""
	}
	if !privileged {
		base, _, _ := strings.Cut(name, "|")
		if slices.Contains(privilegedCommands, name) || slices.Contains(privilegedCommands, base) {
			return fmt.Sprintf("%s %q is an administrative command or one that reaches keys beyond the user's patterns "+
				"(KEYS, SCAN, FLUSH*, SELECT, ...); it requires allowPrivileged: true (platform users only)", what, rule)
		}
	}
	return ""
}

// aclSetUserArgs renders ACL SETUSER for a, replacing everything the user
// had (reset) in one atomic command. Every rule is its own argument, so no
// value is parsed by Redis as more than one rule.
func aclSetUserArgs(a ACLUserArgs) []any {
	args := []any{"ACL", "SETUSER", a.Username, "reset"}
	if boolOr(a.Enabled, true) {
		args = append(args, "on")
	} else {
		args = append(args, "off")
	}
	if a.Password != "" {
		args = append(args, ">"+a.Password)
	}
	if a.PreviousPassword != "" && a.PreviousPassword != a.Password {
		args = append(args, ">"+a.PreviousPassword)
	}
	for _, k := range a.KeyPatterns {
		args = append(args, "~"+k)
	}
	args = append(args, "resetchannels")
	for _, c := range a.ChannelPatterns {
		args = append(args, "&"+c)
	}
	args = append(args, "-@all")
	for _, c := range a.Commands {
		args = append(args, c)
	}
	if !a.AllowPrivileged {
		for _, c := range unprivilegedSuffix {
			args = append(args, c)
		}
	}
	return args
}

// aclUser is ACL GETUSER's reply.
type aclUser struct {
	Flags     []string
	Passwords []string
	Commands  string
	Keys      string
	Channels  string
}

// parseGetUser reads ACL GETUSER's reply, a flat list of field names and
// values in RESP2 or a map in RESP3.
func parseGetUser(reply any) (aclUser, error) {
	var u aclUser
	fields := map[string]any{}
	switch r := reply.(type) {
	case []any:
		if len(r)%2 != 0 {
			return u, fmt.Errorf("ACL GETUSER replied with an odd number of elements (%d)", len(r))
		}
		for i := 0; i < len(r); i += 2 {
			k, ok := r[i].(string)
			if !ok {
				return u, fmt.Errorf("ACL GETUSER replied with a non-string field name %T", r[i])
			}
			fields[k] = r[i+1]
		}
	case map[any]any:
		for k, v := range r {
			ks, ok := k.(string)
			if !ok {
				return u, fmt.Errorf("ACL GETUSER replied with a non-string field name %T", k)
			}
			fields[ks] = v
		}
	default:
		return u, fmt.Errorf("unexpected ACL GETUSER reply %T", reply)
	}
	strs := func(v any) []string {
		list, _ := v.([]any)
		out := make([]string, 0, len(list))
		for _, x := range list {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	str := func(v any) string {
		switch s := v.(type) {
		case string:
			return s
		case []any: // Redis 6 lists keys as an array
			return strings.Join(strs(s), " ")
		}
		return ""
	}
	u.Flags = strs(fields["flags"])
	u.Passwords = strs(fields["passwords"])
	u.Commands = str(fields["commands"])
	u.Keys = str(fields["keys"])
	u.Channels = str(fields["channels"])
	return u, nil
}

// rules is the user's permissions as Redis describes them, passwords left
// out. Redis normalises rules (+get disappears into +@read, ...), so drift
// is detected by comparing this description with the one read right after
// the provider applied the user.
func (u aclUser) rules() string {
	return strings.Join([]string{strings.Join(u.Flags, " "), u.Keys, u.Channels, u.Commands}, " | ")
}

// enabled reports the on/off flag.
func (u aclUser) enabled() bool { return slices.Contains(u.Flags, "on") }

// keyPatterns returns the key patterns without their "~".
func (u aclUser) keyPatterns() []string { return trimRules(u.Keys, "~") }

// channelPatterns returns the channel patterns without their "&".
func (u aclUser) channelPatterns() []string { return trimRules(u.Channels, "&") }

// commandRules returns the command rules without the leading -@all every
// user of this provider starts from.
func (u aclUser) commandRules() []string {
	f := strings.Fields(u.Commands)
	if len(f) > 0 && f[0] == "-@all" {
		f = f[1:]
	}
	if len(f) == 0 {
		return nil
	}
	return f
}

// hasPassword reports whether password is among the user's passwords, which
// Redis keeps as SHA-256 hex digests.
func (u aclUser) hasPassword(password string) bool {
	sum := sha256.Sum256([]byte(password))
	return slices.Contains(u.Passwords, hex.EncodeToString(sum[:]))
}

func trimRules(s, prefix string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		out = append(out, strings.TrimPrefix(f, prefix))
	}
	return out
}
