//go:build integration

package provider_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	goredis "github.com/redis/go-redis/v9"
)

// expectNoPerm requires err to be Redis's NOPERM.
func expectNoPerm(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Fatalf("%s: err = %v, want NOPERM", what, err)
	}
}

// TestACLUserLifecycle creates a tenant's ACL user with a nasty password,
// proves the user reaches its own keys and channels only and no key-less or
// dangerous command even through +@read, sees ACL SETUSER by hand as drift
// and rewrites it, checks ACL SAVE persisted it, imports it, and deletes it,
// which drops its live connection.
func TestACLUserLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.redisAdmin()
	ctx := context.Background()
	user := strings.ReplaceAll(uniqueName("ts-user"), "_", "-")
	prefix := "t:" + user + ":"
	teardown(t, "ACL user "+user, func(ctx context.Context) error {
		return admin.Do(ctx, "ACL", "DELUSER", user).Err()
	})

	in := props(map[string]any{
		"username": user, "password": nastyPassword,
		"keyPatterns": []string{prefix + "*"}, "channelPatterns": []string{prefix + "*"},
		"commands": []string{"+@read", "+SET", "+del", "+publish", "+subscribe", "+client|setname"},
	}, "password")
	checked := h.mustCheck(aclUserToken, in)
	if got := strs(checked, "commands"); got[1] != "+set" {
		t.Fatalf("Check did not normalise commands: %v", got)
	}
	id, state := h.mustCreate(aclUserToken, in)
	if id != user || !state.Get("password").Secret() || str(state, "appliedRules") == "" {
		t.Fatalf("id %q state %v", id, state)
	}

	u := h.redisAs(user, nastyPassword)
	if err := u.Set(ctx, prefix+"k", "v", 0).Err(); err != nil {
		t.Fatalf("SET own key with the provider's password: %v", err)
	}
	if v, err := u.Get(ctx, prefix+"k").Result(); err != nil || v != "v" {
		t.Fatalf("GET own key: %q %v", v, err)
	}
	expectNoPerm(t, "SET another tenant's key", u.Set(ctx, "t:other:k", "v", 0).Err())
	expectNoPerm(t, "GET another tenant's key", u.Get(ctx, "t:other:k").Err())
	expectNoPerm(t, "KEYS (in @read)", u.Keys(ctx, "*").Err())
	expectNoPerm(t, "SCAN (in @read)", u.Scan(ctx, 0, "*", 10).Err())
	expectNoPerm(t, "DBSIZE (in @read)", u.DBSize(ctx).Err())
	expectNoPerm(t, "RANDOMKEY (in @read)", u.RandomKey(ctx).Err())
	expectNoPerm(t, "FLUSHALL", u.FlushAll(ctx).Err())
	expectNoPerm(t, "CONFIG GET", u.ConfigGet(ctx, "*").Err())
	expectNoPerm(t, "PUBLISH to another tenant's channel", u.Publish(ctx, "t:other:c", "x").Err())
	if err := u.Publish(ctx, prefix+"c", "x").Err(); err != nil {
		t.Fatalf("PUBLISH to own channel: %v", err)
	}
	if err := admin.Do(ctx, "AUTH", user, nastyPassword+"x").Err(); err == nil {
		t.Fatal("AUTH with a wrong password succeeded")
	}

	// Persisted: the aclfile holds the user (when it is readable from here).
	if files, err := admin.ConfigGet(ctx, "aclfile").Result(); err == nil && files["aclfile"] != "" {
		if b, err := os.ReadFile(files["aclfile"]); err == nil && !strings.Contains(string(b), "user "+user+" ") {
			t.Fatalf("ACL SAVE did not persist %s to %s", user, files["aclfile"])
		}
	}

	h.expectNoDrift(aclUserToken, id, state, checked)

	// Changed by hand: a dangerous command, another key pattern, another password.
	if err := admin.Do(ctx, "ACL", "SETUSER", user, "+flushall", "~*", ">by-hand").Err(); err != nil {
		t.Fatal(err)
	}
	read := h.read(aclUserToken, id, state, checked)
	if str(read.Properties, "liveRules") == str(read.Properties, "appliedRules") {
		t.Fatal("Read missed ACL SETUSER by hand")
	}
	if !slices.Contains(strs(read.Properties, "keyPatterns"), "*") || str(read.Properties, "password") == nastyPassword {
		t.Fatalf("Read does not show what changed: %v", read.Properties)
	}
	expectUpdateOnly(t, h.diff(aclUserToken, id, read.Properties, checked), "liveRules", "keyPatterns", "password")
	state = h.mustUpdate(aclUserToken, id, read.Properties, checked)
	expectNoPerm(t, "FLUSHALL after repair", u.FlushAll(ctx).Err())
	expectNoPerm(t, "another tenant's key after repair", u.Get(ctx, "t:other:k").Err())
	if err := h.redisAs(user, "by-hand").Ping(ctx).Err(); err == nil {
		t.Fatal("the password set by hand still works after repair")
	}
	h.expectNoDrift(aclUserToken, id, state, checked)

	// In place: disable and change the password; a rename replaces.
	off := props(map[string]any{"username": user, "enabled": false, "password": unicodePassword, "keyPatterns": []string{prefix + "*"}}, "password")
	offChecked := h.mustCheck(aclUserToken, off)
	expectUpdateOnly(t, h.diff(aclUserToken, id, state, offChecked), "enabled", "password", "commands", "channelPatterns")
	state = h.mustUpdate(aclUserToken, id, state, offChecked)
	if err := h.redisAs(user, unicodePassword).Ping(ctx).Err(); err == nil {
		t.Fatal("a disabled user authenticated")
	}
	on := h.mustCheck(aclUserToken, props(map[string]any{"username": user, "password": unicodePassword, "keyPatterns": []string{prefix + "*"}, "commands": []string{"+get"}}, "password"))
	state = h.mustUpdate(aclUserToken, id, state, on)
	u2 := h.redisAs(user, unicodePassword)
	if err := u2.Get(ctx, prefix+"k").Err(); err != nil {
		t.Fatalf("GET with the unicode password: %v", err)
	}
	expectNoPerm(t, "SET without +set", u2.Set(ctx, prefix+"k", "w", 0).Err())
	expectReplace(t, h.diff(aclUserToken, id, state, h.mustCheck(aclUserToken, props(map[string]any{"username": user + "x"}))), "username")

	imp := h.read(aclUserToken, user, property.Map{}, property.Map{})
	if imp.ID != user || !slices.Equal(strs(imp.Inputs, "keyPatterns"), []string{prefix + "*"}) || !slices.Contains(strs(imp.Inputs, "commands"), "+get") {
		t.Fatalf("import read: %q %v", imp.ID, imp.Inputs)
	}

	// Delete drops the user and its live connection.
	h.mustDeleteTwice(aclUserToken, id, state)
	if n, err := admin.Do(ctx, "ACL", "GETUSER", user).Result(); err != goredis.Nil {
		t.Fatalf("user still exists after delete: %v %v", n, err)
	}
	if err := u2.Ping(ctx).Err(); err == nil {
		t.Fatal("the deleted user's connection is still open")
	}
	if gone := h.read(aclUserToken, id, state, on); gone.ID != "" {
		t.Fatalf("Read of a deleted user returned %q", gone.ID)
	}
}

// TestACLUserBadInput refuses privileged and malformed rules unless
// allowPrivileged, and leaves an existing user untouched on a clash.
func TestACLUserBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct {
		name      string
		in        map[string]any
		prop      string
		fragments []string
	}{
		{"all commands category", map[string]any{"username": "u", "commands": []string{"+@all"}}, "commands", []string{"allowPrivileged"}},
		{"dangerous category", map[string]any{"username": "u", "commands": []string{"+@dangerous"}}, "commands", []string{"allowPrivileged"}},
		{"allcommands", map[string]any{"username": "u", "commands": []string{"allcommands"}}, "commands", []string{"allowPrivileged"}},
		{"allkeys rule", map[string]any{"username": "u", "commands": []string{"allkeys"}}, "commands", []string{"allowPrivileged"}},
		{"keys command", map[string]any{"username": "u", "commands": []string{"+keys"}}, "commands", []string{"KEYS"}},
		{"flushall", map[string]any{"username": "u", "commands": []string{"+flushall"}}, "commands", []string{"allowPrivileged"}},
		{"client kill", map[string]any{"username": "u", "commands": []string{"+client|kill"}}, "commands", []string{"allowPrivileged"}},
		{"not a rule", map[string]any{"username": "u", "commands": []string{"get"}}, "commands", []string{"not a command rule"}},
		{"password rule smuggled", map[string]any{"username": "u", "commands": []string{">secret"}}, "commands", []string{"not a command rule"}},
		{"unknown category", map[string]any{"username": "u", "commands": []string{"+@nope"}}, "commands", []string{"no Redis command category"}},
		{"every key", map[string]any{"username": "u", "keyPatterns": []string{"*"}}, "keyPatterns", []string{"literal prefix"}},
		{"every channel", map[string]any{"username": "u", "channelPatterns": []string{"*"}}, "channelPatterns", []string{"literal prefix"}},
		{"prefixed pattern", map[string]any{"username": "u", "keyPatterns": []string{"~t:a:*"}}, "keyPatterns", []string{"bare pattern"}},
		{"space in pattern", map[string]any{"username": "u", "keyPatterns": []string{"t:a b"}}, "keyPatterns", []string{"a space"}},
		{"space in username", map[string]any{"username": "a b"}, "username", []string{"a space"}},
		{"quote in username", map[string]any{"username": "a'b"}, "username", []string{"single quote"}},
		{"default user", map[string]any{"username": "default"}, "username", []string{"built-in"}},
		{"64-byte username", map[string]any{"username": strings.Repeat("u", 64)}, "username", []string{"64 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, failures := h.check(aclUserToken, props(tc.in))
			expectFailure(t, failures, tc.prop, tc.fragments...)
		})
	}
	if _, failures := h.check(aclUserToken, props(map[string]any{"username": "platform", "keyPatterns": []string{"*"}, "commands": []string{"+@all"}, "allowPrivileged": true})); len(failures) > 0 {
		t.Fatalf("allowPrivileged user refused: %+v", failures)
	}

	// Creating over an existing user refuses and leaves it as it was.
	admin := h.redisAdmin()
	ctx := context.Background()
	user := strings.ReplaceAll(uniqueName("ts-clash"), "_", "-")
	teardown(t, "ACL user "+user, func(ctx context.Context) error { return admin.Do(ctx, "ACL", "DELUSER", user).Err() })
	if err := admin.Do(ctx, "ACL", "SETUSER", user, "on", ">keep", "~keep:*", "+get").Err(); err != nil {
		t.Fatal(err)
	}
	before := aclLine(t, admin, user)
	_, _, err := h.create(aclUserToken, h.mustCheck(aclUserToken, props(map[string]any{"username": user, "password": "new", "keyPatterns": []string{"t:x:*"}})))
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("create over an existing user: %v", err)
	}
	if after := aclLine(t, admin, user); after != before {
		t.Fatalf("a refused create changed the user: %q -> %q", before, after)
	}
}

// aclLine returns the user's line of ACL LIST.
func aclLine(t *testing.T, admin *goredis.Client, user string) string {
	t.Helper()
	lines, err := admin.Do(context.Background(), "ACL", "LIST").StringSlice()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "user "+user+" ") {
			return l
		}
	}
	t.Fatalf("user %s not in ACL LIST", user)
	return ""
}
