package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/redis/go-redis/v9"
)

// ACLUser manages a Redis ACL user (tenantstack:redis:AclUser). Its id is
// the username.
type ACLUser struct{}

// ACLUserArgs are the inputs of an ACLUser; the outputs echo them.
type ACLUserArgs struct {
	Username string `pulumi:"username"`
	Enabled  *bool  `pulumi:"enabled,optional"`
	Password string `pulumi:"password,optional" provider:"secret"`
	// PreviousPassword stays valid beside Password while a rotation's
	// applications move to the new one (Redis holds both natively).
	PreviousPassword string   `pulumi:"previousPassword,optional" provider:"secret"`
	KeyPatterns      []string `pulumi:"keyPatterns,optional"`
	ChannelPatterns  []string `pulumi:"channelPatterns,optional"`
	Commands         []string `pulumi:"commands,optional"`
	AllowPrivileged  bool     `pulumi:"allowPrivileged,optional"`
}

// ACLUserState is the recorded state: the inputs, and Redis's own
// description of the user's rules when the provider applied them and when
// it last read them. They differ when someone changed the user by hand.
type ACLUserState struct {
	ACLUserArgs
	AppliedRules string `pulumi:"appliedRules"`
	LiveRules    string `pulumi:"liveRules"`
}

// Annotate sets the token and documents the resource.
func (*ACLUser) Annotate(a infer.Annotator) {
	a.SetToken("redis", "AclUser")
	a.Describe(&ACLUser{}, "A Redis ACL user: ACL SETUSER name reset on|off >password ~keys resetchannels &channels -@all +commands, "+
		"saved with ACL SAVE when the server has an aclfile. Renaming replaces it; everything else is rewritten in place.")
}

// Annotate documents the inputs.
func (u *ACLUserArgs) Annotate(a infer.Annotator) {
	a.Describe(&u.Username, "Username. Changing it replaces the user (and drops its connections).")
	a.Describe(&u.Enabled, "Whether the user can authenticate (on/off).")
	a.SetDefault(&u.Enabled, true)
	a.Describe(&u.Password, "Password. Empty means the user has no password and cannot authenticate (never nopass).")
	a.Describe(&u.PreviousPassword, "A second password that also authenticates, during a credential rotation; empty means none. "+
		"Removing it refuses new logins with it (connections already authenticated stay open).")
	a.Describe(&u.KeyPatterns, "Key patterns without the ~, e.g. t:acme:*. Without allowPrivileged each must start with a literal prefix.")
	a.Describe(&u.ChannelPatterns, "Pub/Sub channel patterns without the &, e.g. t:acme:*.")
	a.Describe(&u.Commands, "Command rules applied after -@all: +get, +client|setname, +@read, -del. "+
		"Without allowPrivileged, +@all, +@admin, +@dangerous, allcommands, allkeys, allchannels and administrative or key-less "+
		"commands (KEYS, SCAN, FLUSH*, SELECT, CONFIG, ...) are refused, and those commands are removed again after the rules.")
	a.Describe(&u.AllowPrivileged, "Platform-only: permits privileged rules and patterns.")
}

// Annotate documents the outputs.
func (u *ACLUserState) Annotate(a infer.Annotator) {
	a.Describe(&u.AppliedRules, "Redis's description of the user's rules right after the provider applied them.")
	a.Describe(&u.LiveRules, "Redis's description of the user's rules at the last read; differs from appliedRules after a change by hand.")
}

// Check validates and normalises the inputs without contacting the server.
func (*ACLUser) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[ACLUserArgs], error) {
	args, fails, err := infer.DefaultCheck[ACLUserArgs](ctx, req.NewInputs)
	if err != nil || len(fails) > 0 {
		return infer.CheckResponse[ACLUserArgs]{Inputs: args, Failures: fails}, err
	}
	return infer.CheckResponse[ACLUserArgs]{Inputs: args, Failures: checkACLUser(req, &args)}, nil
}

func checkACLUser(req infer.CheckRequest, args *ACLUserArgs) []p.CheckFailure {
	f := newFailures(req.NewInputs)
	// The platform may manage the built-in default user, to keep it off.
	if !(args.Username == "default" && args.AllowPrivileged && !boolOr(args.Enabled, true)) {
		f.add("username", checkRedisUsername(args.Username))
	}
	f.add("password", checkPassword(args.Password))
	f.add("previousPassword", checkPassword(args.PreviousPassword))
	if args.PreviousPassword != "" && args.Password == "" {
		f.add("previousPassword", "previousPassword needs a password: it is the old password kept valid beside the new one during a rotation")
	}
	for i, k := range args.KeyPatterns {
		f.add("keyPatterns", checkPattern(fmt.Sprintf("keyPatterns[%d]", i), k, "~", args.AllowPrivileged))
	}
	for i, c := range args.ChannelPatterns {
		f.add("channelPatterns", checkPattern(fmt.Sprintf("channelPatterns[%d]", i), c, "&", args.AllowPrivileged))
	}
	if f.known("commands") {
		for i, c := range args.Commands {
			args.Commands[i] = strings.ToLower(strings.TrimSpace(c))
			f.add("commands", checkCommandRule(fmt.Sprintf("commands[%d]", i), args.Commands[i], args.AllowPrivileged))
		}
	}
	return f.list
}

// Diff replaces on a new username and rewrites the user for anything else,
// including changes made by hand.
func (*ACLUser) Diff(_ context.Context, req infer.DiffRequest[ACLUserArgs, ACLUserState]) (infer.DiffResponse, error) {
	return diffACLUser(req.State, req.Inputs), nil
}

func diffACLUser(old ACLUserState, new ACLUserArgs) infer.DiffResponse {
	c := newChanges()
	c.deleteFirst = true // the username is the identity on the server
	c.replace("username", old.Username != new.Username)
	c.update("enabled", boolOr(old.Enabled, true) != boolOr(new.Enabled, true))
	c.update("password", old.Password != new.Password)
	c.update("previousPassword", old.PreviousPassword != new.PreviousPassword)
	c.update("keyPatterns", !slices.Equal(old.KeyPatterns, new.KeyPatterns))
	c.update("channelPatterns", !slices.Equal(old.ChannelPatterns, new.ChannelPatterns))
	c.update("commands", !slices.Equal(old.Commands, new.Commands))
	c.update("allowPrivileged", old.AllowPrivileged != new.AllowPrivileged)
	c.drift("liveRules", old.LiveRules != old.AppliedRules)
	return c.response()
}

// getUser returns the user, or ok=false when it does not exist.
func getUser(ctx context.Context, rdb *redis.Client, name string) (u aclUser, ok bool, err error) {
	reply, err := rdb.Do(ctx, "ACL", "GETUSER", name).Result()
	if errors.Is(err, redis.Nil) {
		return u, false, nil
	}
	if err != nil {
		return u, false, fmt.Errorf("ACL GETUSER %s: %w", name, err)
	}
	if reply == nil {
		return u, false, nil
	}
	u, err = parseGetUser(reply)
	return u, err == nil, err
}

// aclSave persists the ACLs when the server has an aclfile; a server
// without one keeps them in memory only, which is not an error.
func aclSave(ctx context.Context, rdb *redis.Client) error {
	err := rdb.Do(ctx, "ACL", "SAVE").Err()
	if err != nil && strings.Contains(err.Error(), "not configured to use an ACL file") {
		p.GetLogger(ctx).Warning("the Redis server has no aclfile: ACL changes are not persisted across restarts")
		return nil
	}
	if err != nil {
		return fmt.Errorf("ACL SAVE: %w", err)
	}
	return nil
}

// apply writes the user with one ACL SETUSER, saves, and reads back Redis's
// description of its rules.
func applyACLUser(ctx context.Context, rdb *redis.Client, a ACLUserArgs) (string, error) {
	if err := rdb.Do(ctx, aclSetUserArgs(a)...).Err(); err != nil {
		// The error may quote a rule, never the password: Redis names the
		// offending rule only for syntax errors, and ">..." is always valid.
		return "", fmt.Errorf("ACL SETUSER %s: %w", a.Username, redactErr(redactErr(err, a.Password), a.PreviousPassword))
	}
	if err := aclSave(ctx, rdb); err != nil {
		return "", err
	}
	u, ok, err := getUser(ctx, rdb, a.Username)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("ACL user %q vanished right after it was written", a.Username)
	}
	return u.rules(), nil
}

// Create writes a new user, refusing to take over an existing one.
func (*ACLUser) Create(ctx context.Context, req infer.CreateRequest[ACLUserArgs]) (infer.CreateResponse[ACLUserState], error) {
	a := req.Inputs
	resp := infer.CreateResponse[ACLUserState]{ID: a.Username, Output: ACLUserState{ACLUserArgs: a}}
	if req.DryRun {
		return resp, nil
	}
	cfg := infer.GetConfig[Config](ctx)
	err := cfg.withRedis(ctx, func(rdb *redis.Client) error {
		_, exists, err := getUser(ctx, rdb, a.Username)
		if err != nil {
			return err
		}
		// The built-in default user always exists; the platform manages
		// it in place (Check allows it only to keep it off).
		if exists && a.Username != "default" {
			return fmt.Errorf("ACL user %q already exists; adopt it with \"pulumi import tenantstack:redis:AclUser <resource-name> %s\" or choose another name", a.Username, a.Username)
		}
		rules, err := applyACLUser(ctx, rdb, a)
		resp.Output.AppliedRules, resp.Output.LiveRules = rules, rules
		return err
	})
	return resp, err
}

// Read compares the user with what was applied. After a change by hand the
// inputs are replaced by what Redis reports, so the diff shows it, and the
// password is checked against Redis's SHA-256 digests.
func (*ACLUser) Read(ctx context.Context, req infer.ReadRequest[ACLUserArgs, ACLUserState]) (infer.ReadResponse[ACLUserArgs, ACLUserState], error) {
	cfg := infer.GetConfig[Config](ctx)
	st := req.State
	imported := st.Username == ""
	var found bool
	err := cfg.withRedis(ctx, func(rdb *redis.Client) error {
		u, ok, err := getUser(ctx, rdb, req.ID)
		if err != nil || !ok {
			return err
		}
		found = true
		st.Username = req.ID
		st.LiveRules = u.rules()
		if imported {
			st.AppliedRules = st.LiveRules
		}
		if imported || st.LiveRules != st.AppliedRules {
			st.Enabled = ptr(u.enabled())
			st.KeyPatterns = u.keyPatterns()
			st.ChannelPatterns = u.channelPatterns()
			st.Commands = u.commandRules()
		}
		switch {
		case imported: // the password cannot be recovered from its digest
		case st.Password == "" && len(u.Passwords) > 0,
			st.Password != "" && (len(u.Passwords) != wantPasswords(st.ACLUserArgs) || !u.hasPassword(st.Password)):
			st.Password = passwordChangedByHand
		case st.PreviousPassword != "" && !u.hasPassword(st.PreviousPassword):
			st.PreviousPassword = passwordChangedByHand
		}
		return nil
	})
	if err != nil || !found {
		return infer.ReadResponse[ACLUserArgs, ACLUserState]{}, err
	}
	return infer.ReadResponse[ACLUserArgs, ACLUserState]{ID: req.ID, Inputs: st.ACLUserArgs, State: st}, nil
}

// wantPasswords is how many passwords the user has on the server.
func wantPasswords(a ACLUserArgs) int {
	n := 0
	if a.Password != "" {
		n++
	}
	if a.PreviousPassword != "" && a.PreviousPassword != a.Password {
		n++
	}
	return n
}

// Update rewrites the user in place with reset and the full rule list.
func (*ACLUser) Update(ctx context.Context, req infer.UpdateRequest[ACLUserArgs, ACLUserState]) (infer.UpdateResponse[ACLUserState], error) {
	a := req.Inputs
	resp := infer.UpdateResponse[ACLUserState]{Output: ACLUserState{ACLUserArgs: a}}
	if req.DryRun {
		return resp, nil
	}
	cfg := infer.GetConfig[Config](ctx)
	err := cfg.withRedis(ctx, func(rdb *redis.Client) error {
		rules, err := applyACLUser(ctx, rdb, a)
		resp.Output.AppliedRules, resp.Output.LiveRules = rules, rules
		return err
	})
	return resp, err
}

// Delete removes the user, which also closes its connections; a user
// already gone is fine.
func (*ACLUser) Delete(ctx context.Context, req infer.DeleteRequest[ACLUserState]) (infer.DeleteResponse, error) {
	cfg := infer.GetConfig[Config](ctx)
	err := cfg.withRedis(ctx, func(rdb *redis.Client) error {
		n, err := rdb.Do(ctx, "ACL", "DELUSER", req.ID).Int()
		if err != nil {
			return fmt.Errorf("ACL DELUSER %s: %w", req.ID, err)
		}
		if n == 0 {
			return nil
		}
		return aclSave(ctx, rdb)
	})
	return infer.DeleteResponse{}, err
}
