package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
)

func TestACLSetUserArgs(t *testing.T) {
	render := func(args []any) []string {
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = fmt.Sprint(a)
		}
		return out
	}
	tenant := ACLUserArgs{
		Username: "t-acme", Password: "p w>~&", KeyPatterns: []string{"t:acme:*"}, ChannelPatterns: []string{"t:acme:*"},
		Commands: []string{"+get", "+@read"},
	}
	got := render(aclSetUserArgs(tenant))
	want := []string{"ACL", "SETUSER", "t-acme", "reset", "on", ">p w>~&", "~t:acme:*", "resetchannels", "&t:acme:*", "-@all", "+get", "+@read",
		"-@dangerous", "-randomkey", "-scan", "-dbsize", "-select", "-move", "-swapdb", "-pubsub"}
	if !slices.Equal(got, want) {
		t.Fatalf("tenant rules\n got  %q\n want %q", got, want)
	}

	// During a rotation both passwords authenticate; the same one twice is one.
	rotating := tenant
	rotating.Password, rotating.PreviousPassword = "new-password", "old-password"
	got = render(aclSetUserArgs(rotating))
	if !slices.Equal(got[4:7], []string{"on", ">new-password", ">old-password"}) {
		t.Fatalf("rotating rules %q, want both passwords after on", got)
	}
	rotating.PreviousPassword = rotating.Password
	if n := len(render(aclSetUserArgs(rotating))); n != len(want) {
		t.Fatalf("the same password twice rendered %d args, want %d", n, len(want))
	}
	if wantPasswords(rotating) != 1 {
		t.Fatalf("wantPasswords counts the same password twice")
	}

	platform := ACLUserArgs{Username: "platform", Enabled: ptr(false), KeyPatterns: []string{"*"}, Commands: []string{"+@all"}, AllowPrivileged: true}
	got = render(aclSetUserArgs(platform))
	want = []string{"ACL", "SETUSER", "platform", "reset", "off", "~*", "resetchannels", "-@all", "+@all"}
	if !slices.Equal(got, want) {
		t.Fatalf("privileged rules\n got  %q\n want %q", got, want)
	}
	// No password means no ">" rule and never nopass: the user cannot log in.
	for _, a := range got {
		if a == "nopass" || (len(a) > 0 && a[0] == '>') {
			t.Fatalf("rule %q for a user without a password", a)
		}
	}
}

func TestParseGetUser(t *testing.T) {
	sum := sha256.Sum256([]byte("secret"))
	digest := hex.EncodeToString(sum[:])
	resp2 := []any{
		"flags", []any{"on", "sanitize-payload"},
		"passwords", []any{digest},
		"commands", "-@all +get +@read -keys",
		"keys", "~t:acme:* ~t:acme2:*",
		"channels", "&t:acme:*",
		"selectors", []any{},
	}
	resp3 := map[any]any{}
	for i := 0; i < len(resp2); i += 2 {
		resp3[resp2[i]] = resp2[i+1]
	}
	for name, reply := range map[string]any{"RESP2": resp2, "RESP3": resp3} {
		t.Run(name, func(t *testing.T) {
			u, err := parseGetUser(reply)
			if err != nil {
				t.Fatal(err)
			}
			if !u.enabled() || !u.hasPassword("secret") || u.hasPassword("Secret") {
				t.Fatalf("flags/passwords parsed wrong: %+v", u)
			}
			if got := u.keyPatterns(); !slices.Equal(got, []string{"t:acme:*", "t:acme2:*"}) {
				t.Fatalf("keys %v", got)
			}
			if got := u.channelPatterns(); !slices.Equal(got, []string{"t:acme:*"}) {
				t.Fatalf("channels %v", got)
			}
			if got := u.commandRules(); !slices.Equal(got, []string{"+get", "+@read", "-keys"}) {
				t.Fatalf("commands %v", got)
			}
			if got, want := u.rules(), "on sanitize-payload | ~t:acme:* ~t:acme2:* | &t:acme:* | -@all +get +@read -keys"; got != want {
				t.Fatalf("rules %q, want %q", got, want)
			}
		})
	}

	// Redis 6 listed keys as an array; a disabled user with nothing.
	u, err := parseGetUser([]any{"flags", []any{"off"}, "passwords", []any{}, "commands", "-@all", "keys", []any{"~a:*"}, "channels", ""})
	if err != nil {
		t.Fatal(err)
	}
	if u.enabled() || len(u.commandRules()) != 0 || !slices.Equal(u.keyPatterns(), []string{"a:*"}) || u.channelPatterns() != nil {
		t.Fatalf("parsed %+v", u)
	}

	for _, bad := range []any{[]any{"flags"}, []any{1, 2}, "text", map[any]any{1: "x"}} {
		if _, err := parseGetUser(bad); err == nil {
			t.Fatalf("parseGetUser(%#v) accepted a malformed reply", bad)
		}
	}
}
