//go:build integration

package attacks_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	test_structure "github.com/gruntwork-io/terratest/modules/test-structure"
	"github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

// TestRedisIsolation attacks Redis with A's ACL user.
func TestRedisIsolation(t *testing.T) {
	t.Parallel()
	env := testenv.Platform(t)
	dir := workDir("redis")
	tiers := tierIndependentTiers()

	defer test_structure.RunTestStage(t, "teardown", func() {
		teardownPairs(t, dir, tiers)
	})
	test_structure.RunTestStage(t, "setup", func() {
		setupPairs(t, dir, "rd", tiers)
	})
	test_structure.RunTestStage(t, "validate", func() {
		admin := redisAdmin(t, env.Redis.AdminURL)
		defer admin.Close()
		for _, p := range loadPairs(t, dir, tiers) {
			t.Run(p.tier, func(t *testing.T) {
				target := newRedisTarget(t, admin, p)
				defer target.cleanup(t)
				for _, a := range redisAttacks() {
					t.Run(a.name, func(t *testing.T) { prove(t, target, a) })
				}
			})
		}
	})
}

func redisAdmin(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("the platform's admin Redis URL does not parse: %v", err)
	}
	opt.Protocol, opt.DisableIdentity = 2, true
	return redis.NewClient(opt)
}

// tenantRedis logs in as a tenant's ACL user, on one connection of its own
// so that state such as SELECT or SUBSCRIBE reaches no other attempt, and
// without retries or CLIENT SETINFO (which the ACL refuses).
func tenantRedis(c fleet.Credentials) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:     net.JoinHostPort(c.Redis.Host, strconv.Itoa(c.Redis.Port)),
		Username: c.Redis.Username, Password: c.Redis.Password,
		Protocol: 2, DisableIdentity: true, MaxRetries: -1, PoolSize: 1,
		DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second,
	})
}

// redisRefused reports whether Redis refused for want of an ACL permission,
// directly or inside a script.
func redisRefused(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) {
		return false
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "NOPERM") || strings.Contains(msg, "NOPERM") ||
		strings.Contains(msg, "no permissions") || strings.Contains(msg, "can't access")
}

// redisRefusal makes a blocked outcome of an ACL refusal; anything else is
// an error that proves nothing.
func redisRefusal(err error) (outcome, error) {
	if redisRefused(err) {
		return blockedf("refused: %v", err), nil
	}
	return outcome{}, err
}

// redisTarget is one pair attacked in Redis.
type redisTarget struct {
	admin *redis.Client
	a, b  fleet.Credentials
	// rules is A's ACL as the platform made it, restored after each
	// weakening.
	rules []string
	// sha and fn are a script and a function the admin loaded that read
	// the key they are given.
	sha, lib, fn string
}

const readKeyScript = "return redis.call('GET', KEYS[1])"

func newRedisTarget(t *testing.T, admin *redis.Client, p *pair) *redisTarget {
	t.Helper()
	ctx := context.Background()
	r := &redisTarget{admin: admin, a: p.ca, b: p.cb}
	rules, err := r.aclRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.rules = rules
	if r.sha, err = admin.ScriptLoad(ctx, readKeyScript).Result(); err != nil {
		t.Fatalf("SCRIPT LOAD as the admin: %v", err)
	}
	base := "attack_" + pgIdent(p.a)
	r.lib, r.fn = base, base+"_get"
	code := "#!lua name=" + r.lib + "\nredis.register_function('" + r.fn + "', function(keys, args) return redis.call('GET', keys[1]) end)"
	if err := admin.FunctionLoadReplace(ctx, code).Err(); err != nil {
		t.Fatalf("FUNCTION LOAD as the admin: %v", err)
	}
	r.seed(t)
	return r
}

func (r *redisTarget) cleanup(t *testing.T) {
	t.Helper()
	for _, lib := range []string{r.lib, r.lib + "_a"} {
		if err := r.admin.FunctionDelete(context.Background(), lib).Err(); err != nil && !strings.Contains(err.Error(), "not found") {
			t.Errorf("FUNCTION DELETE %s: %v", lib, err)
		}
	}
}

func (r *redisTarget) keyA(suffix string) string { return r.a.Redis.KeyPrefix + "attack-" + suffix }
func (r *redisTarget) keyB(suffix string) string { return r.b.Redis.KeyPrefix + "attack-" + suffix }
func (r *redisTarget) chanB() string             { return r.b.Redis.ChannelPrefix + "attack" }

// seed writes, each as itself, B's secrets and A's list of ids; both must
// work or no refusal proves anything.
func (r *redisTarget) seed(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	b := tenantRedis(r.b)
	defer b.Close()
	for _, k := range []string{r.keyB("secret"), r.keyB("secret_1"), r.keyB("victim")} {
		if err := b.Set(ctx, k, markerFor(r.b.Tenant), 0).Err(); err != nil {
			t.Fatalf("%s cannot write its own key %s: %v", r.b.Tenant, k, err)
		}
	}
	a := tenantRedis(r.a)
	defer a.Close()
	if err := a.Del(ctx, r.keyA("ids")).Err(); err != nil {
		t.Fatalf("%s cannot use its own keys: %v", r.a.Tenant, err)
	}
	if err := a.RPush(ctx, r.keyA("ids"), "1").Err(); err != nil {
		t.Fatalf("%s cannot use its own keys: %v", r.a.Tenant, err)
	}
}

// reseedVictim puts B's victim key back, as B.
func (r *redisTarget) reseedVictim(ctx context.Context) error {
	b := tenantRedis(r.b)
	defer b.Close()
	return b.Set(ctx, r.keyB("victim"), markerFor(r.b.Tenant), 0).Err()
}

// aclRules returns A's ACL rules as ACL LIST prints them.
func (r *redisTarget) aclRules(ctx context.Context) ([]string, error) {
	lines, err := r.admin.Do(ctx, "ACL", "LIST").StringSlice()
	if err != nil {
		return nil, fmt.Errorf("ACL LIST as the admin: %w", err)
	}
	prefix := "user " + r.a.Redis.Username + " "
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			return strings.Fields(rest), nil
		}
	}
	return nil, fmt.Errorf("ACL LIST has no user %q", r.a.Redis.Username)
}

// weakenACL adds rules to A's ACL user; the undo puts back exactly what the
// platform had made.
func weakenACL(rules ...string) func(ctx context.Context, r *redisTarget) (undoFunc, error) {
	return func(ctx context.Context, r *redisTarget) (undoFunc, error) {
		undo := func(ctx context.Context) error {
			args := []any{"ACL", "SETUSER", r.a.Redis.Username, "reset"}
			for _, rule := range r.rules {
				args = append(args, rule)
			}
			if err := r.admin.Do(ctx, args...).Err(); err != nil {
				return fmt.Errorf("restoring the ACL of %s: %w", r.a.Redis.Username, err)
			}
			now, err := r.aclRules(ctx)
			if err != nil {
				return err
			}
			if !slices.Equal(now, r.rules) {
				return fmt.Errorf("the ACL of %s is %q after restoring, not %q", r.a.Redis.Username, now, r.rules)
			}
			return nil
		}
		args := []any{"ACL", "SETUSER", r.a.Redis.Username}
		for _, rule := range rules {
			args = append(args, rule)
		}
		if err := r.admin.Do(ctx, args...).Err(); err != nil {
			return nil, errors.Join(fmt.Errorf("weakening the ACL of %s: %w", r.a.Redis.Username, err), undo(ctx))
		}
		return undo, nil
	}
}

// withA runs fn with a fresh client logged in as A.
func (r *redisTarget) withA(ctx context.Context, fn func(c *redis.Client) (outcome, error)) (outcome, error) {
	c := tenantRedis(r.a)
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		return outcome{}, fmt.Errorf("%s cannot log in to Redis: %w", r.a.Tenant, err)
	}
	return fn(c)
}

// allowed is the outcome of a command that touches no key: running at all
// is getting through, since it reaches every tenant's data or the server.
func allowed(cmd string, res any, err error) (outcome, error) {
	if err != nil && !errors.Is(err, redis.Nil) {
		return redisRefusal(err)
	}
	return throughf("%s ran: %v", cmd, res), nil
}

// readB judges a reply that may hold B's secret.
func (r *redisTarget) readB(how string, v any, err error) (outcome, error) {
	if err != nil {
		return redisRefusal(err)
	}
	if strings.Contains(fmt.Sprint(v), markerFor(r.b.Tenant)) {
		return throughf("%s returned %s's secret %v", how, r.b.Tenant, v), nil
	}
	return outcome{}, fmt.Errorf("%s ran but returned %v, not %s's secret", how, v, r.b.Tenant)
}

func redisAttacks() []attack[*redisTarget] {
	bKeys := func(r *redisTarget) string { return "~" + r.b.Redis.KeyPrefix + "*" }
	weakenBKeys := func(ctx context.Context, r *redisTarget) (undoFunc, error) {
		return weakenACL(bKeys(r))(ctx, r)
	}
	weakenBChannels := func(ctx context.Context, r *redisTarget) (undoFunc, error) {
		return weakenACL("&"+r.b.Redis.ChannelPrefix+"*")(ctx, r)
	}
	// weakenBKeysAnd adds commands along with B's keys: a script reads
	// keys under the caller's key patterns.
	weakenBKeysAnd := func(cmds ...string) func(ctx context.Context, r *redisTarget) (undoFunc, error) {
		return func(ctx context.Context, r *redisTarget) (undoFunc, error) {
			return weakenACL(append(cmds, bKeys(r))...)(ctx, r)
		}
	}
	return []attack[*redisTarget]{
		{
			name:     "GET B's key",
			weakness: "ACL SETUSER A ~t:B:*", weaken: weakenBKeys,
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					v, err := c.Get(ctx, r.keyB("secret")).Result()
					return r.readB("GET", v, err)
				})
			},
		},
		{
			name:     "SET B's key",
			weakness: "ACL SETUSER A ~t:B:*", weaken: weakenBKeys,
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				if err := r.reseedVictim(ctx); err != nil {
					return outcome{}, err
				}
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					if err := c.Set(ctx, r.keyB("victim"), "overwritten by "+r.a.Tenant, 0).Err(); err != nil {
						return redisRefusal(err)
					}
					got, _ := r.admin.Get(ctx, r.keyB("victim")).Result()
					return throughf("overwrote %s, which now holds %q", r.keyB("victim"), got), r.reseedVictim(ctx)
				})
			},
		},
		{
			name:     "DEL B's key",
			weakness: "ACL SETUSER A ~t:B:*", weaken: weakenBKeys,
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				if err := r.reseedVictim(ctx); err != nil {
					return outcome{}, err
				}
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					n, err := c.Del(ctx, r.keyB("victim")).Result()
					if err != nil {
						return redisRefusal(err)
					}
					if n == 0 {
						return outcome{}, fmt.Errorf("DEL ran but found no %s, which B had just written", r.keyB("victim"))
					}
					return throughf("deleted %s", r.keyB("victim")), r.reseedVictim(ctx)
				})
			},
		},
		{
			name:     "KEYS",
			weakness: "ACL SETUSER A +keys", weaken: weakenACL("+keys"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					keys, err := c.Keys(ctx, r.b.Redis.KeyPrefix+"*").Result()
					if err != nil {
						return redisRefusal(err)
					}
					return throughf("KEYS listed %d of %s's keys: %v", len(keys), r.b.Tenant, keys), nil
				})
			},
		},
		{
			name:     "SCAN",
			weakness: "ACL SETUSER A +scan", weaken: weakenACL("+scan"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					var found []string
					var cursor uint64
					for {
						keys, next, err := c.Scan(ctx, cursor, r.b.Redis.KeyPrefix+"*", 1000).Result()
						if err != nil {
							return redisRefusal(err)
						}
						found, cursor = append(found, keys...), next
						if cursor == 0 {
							break
						}
					}
					return throughf("SCAN listed %d of %s's keys: %v", len(found), r.b.Tenant, found), nil
				})
			},
		},
		{
			name:     "RANDOMKEY",
			weakness: "ACL SETUSER A +randomkey", weaken: weakenACL("+randomkey"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					k, err := c.RandomKey(ctx).Result()
					return allowed("RANDOMKEY", k, err)
				})
			},
		},
		{
			name:     "DBSIZE",
			weakness: "ACL SETUSER A +dbsize", weaken: weakenACL("+dbsize"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					n, err := c.DBSize(ctx).Result()
					return allowed("DBSIZE", n, err)
				})
			},
		},
		{
			name:     "SELECT another database",
			weakness: "ACL SETUSER A +select", weaken: weakenACL("+select"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					res, err := c.Do(ctx, "SELECT", "1").Result()
					return allowed("SELECT 1", res, err)
				})
			},
		},
		{
			// Queued in a transaction that is always discarded, never
			// executed: Redis checks the ACL when it queues a command.
			name:     "FLUSHALL and FLUSHDB",
			weakness: "ACL SETUSER A +flushall +flushdb", weaken: weakenACL("+flushall", "+flushdb"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					conn := c.Conn()
					defer conn.Close()
					if err := conn.Do(ctx, "MULTI").Err(); err != nil {
						return outcome{}, fmt.Errorf("MULTI: %w", err)
					}
					defer conn.Do(context.WithoutCancel(ctx), "DISCARD")
					var queued, refused []string
					for _, cmd := range []string{"FLUSHALL", "FLUSHDB"} {
						err := conn.Do(ctx, cmd).Err()
						switch {
						case err == nil:
							queued = append(queued, cmd)
						case redisRefused(err):
							refused = append(refused, cmd+": "+err.Error())
						default:
							return outcome{}, fmt.Errorf("%s: %w", cmd, err)
						}
					}
					if len(queued) > 0 {
						return throughf("Redis queued %s (the transaction was discarded)", strings.Join(queued, " and ")), nil
					}
					return blockedf("refused: %s", strings.Join(refused, "; ")), nil
				})
			},
		},
		{
			name:     "CLIENT LIST",
			weakness: "ACL SETUSER A +client", weaken: weakenACL("+client"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				b := tenantRedis(r.b)
				defer b.Close()
				if err := b.Ping(ctx).Err(); err != nil {
					return outcome{}, err
				}
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					list, err := c.ClientList(ctx).Result()
					if err != nil {
						return redisRefusal(err)
					}
					return throughf("CLIENT LIST ran, showing %s's connection: %v", r.b.Tenant, strings.Contains(list, "user="+r.b.Redis.Username)), nil
				})
			},
		},
		{
			name:     "CLIENT KILL B's connections",
			weakness: "ACL SETUSER A +client", weaken: weakenACL("+client"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				b := tenantRedis(r.b)
				defer b.Close()
				if err := b.Ping(ctx).Err(); err != nil {
					return outcome{}, err
				}
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					n, err := c.Do(ctx, "CLIENT", "KILL", "USER", r.b.Redis.Username).Int64()
					if err != nil {
						return redisRefusal(err)
					}
					return throughf("CLIENT KILL ended %d of %s's connections", n, r.b.Tenant), nil
				})
			},
		},
		{
			name:     "CONFIG GET",
			weakness: "ACL SETUSER A +config", weaken: weakenACL("+config"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					v, err := c.ConfigGet(ctx, "dir").Result()
					return allowed("CONFIG GET dir", v, err)
				})
			},
		},
		{
			// Set to the value it has, so that nothing changes either way.
			name:     "CONFIG SET",
			weakness: "ACL SETUSER A +config", weaken: weakenACL("+config"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				cur, err := r.admin.ConfigGet(ctx, "maxmemory-samples").Result()
				if err != nil || cur["maxmemory-samples"] == "" {
					return outcome{}, fmt.Errorf("CONFIG GET maxmemory-samples as the admin: %v %v", cur, err)
				}
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					err := c.ConfigSet(ctx, "maxmemory-samples", cur["maxmemory-samples"]).Err()
					return allowed("CONFIG SET maxmemory-samples", cur["maxmemory-samples"], err)
				})
			},
		},
		{
			name:     "MONITOR",
			weakness: "ACL SETUSER A +monitor", weaken: weakenACL("+monitor"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					conn := c.Conn()
					defer conn.Close()
					res, err := conn.Do(ctx, "MONITOR").Result()
					return allowed("MONITOR", res, err)
				})
			},
		},
		{
			name:     "SUBSCRIBE to B's channel",
			weakness: "ACL SETUSER A &t:B:*", weaken: weakenBChannels,
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					ps := c.Subscribe(ctx, r.chanB())
					defer ps.Close()
					return r.listen(ctx, ps, r.chanB())
				})
			},
		},
		{
			name:     "PSUBSCRIBE to every channel",
			weakness: "ACL SETUSER A allchannels", weaken: weakenACL("allchannels"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					ps := c.PSubscribe(ctx, "*")
					defer ps.Close()
					return r.listen(ctx, ps, r.chanB())
				})
			},
		},
		{
			name:     "PUBLISH to B's channel",
			weakness: "ACL SETUSER A &t:B:*", weaken: weakenBChannels,
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				b := tenantRedis(r.b)
				defer b.Close()
				ps := b.Subscribe(ctx, r.chanB())
				defer ps.Close()
				if _, err := ps.ReceiveTimeout(ctx, 5*time.Second); err != nil {
					return outcome{}, fmt.Errorf("%s cannot subscribe to its own channel: %w", r.b.Tenant, err)
				}
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					msg := "attack-publish-" + r.a.Tenant
					n, err := c.Publish(ctx, r.chanB(), msg).Result()
					if err != nil {
						return redisRefusal(err)
					}
					got, err := ps.ReceiveTimeout(ctx, 5*time.Second)
					if m, ok := got.(*redis.Message); ok && err == nil && m.Payload == msg {
						return throughf("%s received A's message on %s", r.b.Tenant, r.chanB()), nil
					}
					return throughf("PUBLISH to %s ran (%d receivers)", r.chanB(), n), nil
				})
			},
		},
		{
			name:     "EVAL a script reading B's key",
			weakness: "ACL SETUSER A +eval ~t:B:*", weaken: weakenBKeysAnd("+eval"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					v, err := c.Eval(ctx, readKeyScript, []string{r.keyB("secret")}).Result()
					if redisRefused(err) {
						// A script may name keys it was not given.
						v, err = c.Eval(ctx, "return redis.call('GET', ARGV[1])", nil, r.keyB("secret")).Result()
					}
					return r.readB("EVAL", v, err)
				})
			},
		},
		{
			name:     "EVALSHA a loaded script reading B's key",
			weakness: "ACL SETUSER A +evalsha ~t:B:*", weaken: weakenBKeysAnd("+evalsha"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					v, err := c.EvalSha(ctx, r.sha, []string{r.keyB("secret")}).Result()
					return r.readB("EVALSHA", v, err)
				})
			},
		},
		{
			name:     "FUNCTION LOAD and FCALL reading B's key",
			weakness: "ACL SETUSER A +fcall +function ~t:B:*", weaken: weakenBKeysAnd("+fcall", "+function"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					code := "#!lua name=" + r.lib + "_a\nredis.register_function('" + r.fn + "_a', function(keys, args) return 1 end)"
					if err := c.FunctionLoadReplace(ctx, code).Err(); err == nil {
						return throughf("FUNCTION LOAD of library %s_a ran", r.lib), nil
					} else if !redisRefused(err) {
						return outcome{}, fmt.Errorf("FUNCTION LOAD: %w", err)
					}
					v, err := c.FCall(ctx, r.fn, []string{r.keyB("secret")}).Result()
					return r.readB("FCALL", v, err)
				})
			},
		},
		{
			// Redis lets BY and GET patterns through only with access to
			// every key.
			name:     "SORT with a GET pattern over B's keys",
			weakness: "ACL SETUSER A +sort ~*", weaken: weakenACL("+sort", "~*"),
			run: func(ctx context.Context, r *redisTarget) (outcome, error) {
				return r.withA(ctx, func(c *redis.Client) (outcome, error) {
					v, err := c.Sort(ctx, r.keyA("ids"), &redis.Sort{By: "nosort", Get: []string{r.keyB("secret_*")}}).Result()
					return r.readB("SORT ... GET "+r.keyB("secret_*"), v, err)
				})
			},
		},
	}
}

// listen waits for A's subscription to be confirmed (or refused), then has
// B publish on its own channel until A hears it.
func (r *redisTarget) listen(ctx context.Context, ps *redis.PubSub, channel string) (outcome, error) {
	got, err := ps.ReceiveTimeout(ctx, 5*time.Second)
	if err != nil {
		return redisRefusal(err)
	}
	if _, ok := got.(*redis.Subscription); !ok {
		return outcome{}, fmt.Errorf("subscribing answered %T %v", got, got)
	}
	b := tenantRedis(r.b)
	defer b.Close()
	msg := "attack-listen-" + r.b.Tenant
	for range 5 {
		if err := b.Publish(ctx, channel, msg).Err(); err != nil {
			return outcome{}, fmt.Errorf("%s cannot publish on its own channel: %w", r.b.Tenant, err)
		}
		got, err := ps.ReceiveTimeout(ctx, time.Second)
		if m, ok := got.(*redis.Message); ok && err == nil && m.Payload == msg {
			return throughf("received %s's message on %s", r.b.Tenant, m.Channel), nil
		}
	}
	return throughf("subscribed to %s's channels (no message arrived)", r.b.Tenant), nil
}
