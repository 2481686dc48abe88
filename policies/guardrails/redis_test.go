package guardrails

import "testing"

func TestRedisACLScoped(t *testing.T) {
	// Our provider takes patterns without the ~ and & sigils.
	tenant := m{
		"username": "t:acme", "enabled": true, "password": secret{"pw"},
		"keyPatterns": l{"t:acme:*"}, "channelPatterns": l{"t:acme:*"},
		"commands": l{"-@all", "+get", "+set", "+del", "+expire"},
	}
	user := func(props m) Resource { return res(TypeRedisACLUser, "acme-redis", props) }
	keys := func(p string) string {
		return `Redis ACL user "t:acme" has key pattern "` + p + `", which does not start with a literal prefix ` +
			`and so reaches other tenants' keys; restrict keyPatterns to the tenant's prefix (for example ` +
			`"t:<tenant>:*")`
	}
	channels := func(p string) string {
		return `Redis ACL user "t:acme" has channel pattern "` + p + `", which does not start with a literal ` +
			`prefix and so reaches other tenants' Pub/Sub channels; restrict channelPatterns to the tenant's ` +
			`prefix (for example "t:<tenant>:*")`
	}
	allCommands := func(c string) string {
		return `Redis ACL user "t:acme" allows "` + c + `", which grants every command (FLUSHALL, CONFIG and ACL ` +
			`among them); start commands from "-@all" and add an explicit allowlist`
	}
	keyless := func(c string) string {
		return `Redis ACL user "t:acme" allows "` + c + `", a command that names no key and so is not confined ` +
			`to the tenant's prefix; remove it from commands`
	}
	tests := []struct {
		name string
		r    Resource
		want []string
	}{
		{name: "scoped tenant user", r: user(tenant)},
		{name: "patterns in raw ACL syntax", r: user(with(tenant, m{
			"keyPatterns": l{"~t:acme:*", "%R~t:acme:ro:*"}, "channelPatterns": l{"&t:acme:*"},
		}))},
		{name: "commands as one ACL string", r: user(with(tenant, m{"commands": "-@all +get +set"}))},
		{name: "key patterns unknown during preview", r: user(with(tenant, m{"keyPatterns": unknown}))},
		{name: "* key pattern", r: user(with(tenant, m{"keyPatterns": l{"t:acme:*", "*"}})), want: []string{keys("*")}},
		{name: "~* key pattern", r: user(with(tenant, m{"keyPatterns": l{"~*"}})), want: []string{keys("~*")}},
		{name: "allkeys", r: user(with(tenant, m{"keyPatterns": l{"allkeys"}})), want: []string{keys("allkeys")}},
		{name: "read selector on every key", r: user(with(tenant, m{"keyPatterns": l{"%R~*"}})), want: []string{keys("%R~*")}},
		{name: "pattern starting with a glob", r: user(with(tenant, m{"keyPatterns": l{"*:acme:*"}})), want: []string{keys("*:acme:*")}},
		{name: "pattern starting with ?", r: user(with(tenant, m{"keyPatterns": l{"?:acme:*"}})), want: []string{keys("?:acme:*")}},
		{name: "pattern starting with a class", r: user(with(tenant, m{"keyPatterns": l{"[st]:acme:*"}})), want: []string{keys("[st]:acme:*")}},
		{name: "* channel pattern", r: user(with(tenant, m{"channelPatterns": l{"*"}})), want: []string{channels("*")}},
		{name: "&* channel pattern", r: user(with(tenant, m{"channelPatterns": l{"&*"}})), want: []string{channels("&*")}},
		{name: "allchannels", r: user(with(tenant, m{"channelPatterns": l{"allchannels"}})), want: []string{channels("allchannels")}},
		{name: "+@all", r: user(with(tenant, m{"commands": l{"+@all"}})), want: []string{allCommands("+@all")}},
		{name: "allcommands", r: user(with(tenant, m{"commands": l{"allcommands"}})), want: []string{allCommands("allcommands")}},
		{name: "+@all inside one ACL string", r: user(with(tenant, m{"commands": "+@all -flushall"})), want: []string{allCommands("+@all")}},
		{
			name: "+@admin",
			r:    user(with(tenant, m{"commands": l{"-@all", "+get", "+@admin"}})),
			want: []string{`Redis ACL user "t:acme" allows "+@admin", which includes administrative commands that ` +
				`act on the whole server; remove it from commands`},
		},
		{name: "+keys", r: user(with(tenant, m{"commands": l{"-@all", "+get", "+KEYS"}})), want: []string{keyless("+KEYS")}},
		{name: "+flushdb", r: user(with(tenant, m{"commands": l{"-@all", "+flushdb"}})), want: []string{keyless("+flushdb")}},
		{name: "denying a key-less command is fine", r: user(with(tenant, m{"commands": l{"+@read", "-keys", "-scan"}}))},
		{
			name: "wide open user",
			r: user(with(tenant, m{
				"keyPatterns": l{"~*"}, "channelPatterns": l{"&*"}, "commands": l{"+@all"},
			})),
			want: []string{keys("~*"), channels("&*"), allCommands("+@all")},
		},
		{name: "privileged user allowed explicitly", r: user(with(tenant, m{
			"allowPrivileged": true, "keyPatterns": l{"*"}, "commands": l{"+@all"},
		}))},
		{name: "other type", r: res(TypePostgresRole, "r", m{"keyPatterns": l{"*"}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertMessages(t, RedisACLScoped(tt.r), tt.want)
		})
	}
}
