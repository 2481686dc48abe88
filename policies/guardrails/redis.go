package guardrails

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// keylessCommands run without naming a key, so a key pattern cannot confine
// them to the tenant's prefix.
var keylessCommands = []string{"keys", "scan", "randomkey", "dbsize", "flushall", "flushdb", "select", "move"}

// RedisACLScoped confines a tenant's Redis ACL user (one without
// allowPrivileged: true) to its own keys, channels and an explicit command
// allowlist: every key and channel pattern starts with a literal prefix (no
// "*", "~*", "&*", allkeys or allchannels), no +@all, and none of the
// administrative or key-less commands.
func RedisACLScoped(r Resource) []string {
	if r.Type != TypeRedisACLUser || isTrue(r.Props.Get("allowPrivileged")) {
		return nil
	}
	name := displayName(r, "username")
	var msgs []string
	for _, p := range stringList(r.Props.Get("keyPatterns")) {
		if unconfinedPattern(p, "~", "allkeys") {
			msgs = append(msgs, fmt.Sprintf(
				"Redis ACL user %q has key pattern %q, which does not start with a literal prefix and so reaches "+
					"other tenants' keys; restrict keyPatterns to the tenant's prefix (for example \"t:<tenant>:*\")",
				name, p))
		}
	}
	for _, p := range stringList(r.Props.Get("channelPatterns")) {
		if unconfinedPattern(p, "&", "allchannels") {
			msgs = append(msgs, fmt.Sprintf(
				"Redis ACL user %q has channel pattern %q, which does not start with a literal prefix and so reaches "+
					"other tenants' Pub/Sub channels; restrict channelPatterns to the tenant's prefix (for example "+
					"\"t:<tenant>:*\")",
				name, p))
		}
	}
	for _, c := range commandTokens(r.Props.Get("commands")) {
		switch lc := strings.ToLower(c); {
		case lc == "+@all" || lc == "@all" || lc == "allcommands":
			msgs = append(msgs, fmt.Sprintf(
				"Redis ACL user %q allows %q, which grants every command (FLUSHALL, CONFIG and ACL among them); "+
					"start commands from \"-@all\" and add an explicit allowlist",
				name, c))
		case lc == "+@admin" || lc == "+@dangerous":
			msgs = append(msgs, fmt.Sprintf(
				"Redis ACL user %q allows %q, which includes administrative commands that act on the whole "+
					"server; remove it from commands",
				name, c))
		case strings.HasPrefix(lc, "+") && isKeyless(lc[1:]):
			msgs = append(msgs, fmt.Sprintf(
				"Redis ACL user %q allows %q, a command that names no key and so is not confined to the tenant's "+
					"prefix; remove it from commands",
				name, c))
		}
	}
	return msgs
}

// unconfinedPattern reports whether an ACL key or channel pattern can match
// another tenant's names: it is all (allkeys, allchannels), or it starts with
// a glob character instead of a literal prefix once an optional %R/%W/%RW
// selector and the sigil (~ or &) are removed. Our provider takes patterns
// without the sigil; raw ACL syntax is recognised too.
func unconfinedPattern(p, sigil, all string) bool {
	lp := strings.ToLower(strings.TrimSpace(p))
	if lp == all {
		return true
	}
	if sigil == "~" && strings.HasPrefix(lp, "%") {
		i := strings.Index(lp, "~")
		if i < 0 {
			return false
		}
		lp = lp[i:]
	}
	lp = strings.TrimPrefix(lp, sigil)
	return lp != "" && strings.ContainsRune("*?[", rune(lp[0]))
}

// commandTokens splits commands, one string or a list, into ACL rules such as
// "+get" or "-@all".
func commandTokens(v property.Value) []string {
	var out []string
	for _, s := range stringList(v) {
		out = append(out, strings.Fields(s)...)
	}
	return out
}

func isKeyless(cmd string) bool { return slices.Contains(keylessCommands, cmd) }
