package tenant

import (
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/sdk/redis"
)

// redisCommands is the tenant's Redis command allowlist, applied after
// -@all. Every data command here names the keys it touches, so the key
// patterns confine it. Left out on purpose: commands that reach keys
// without naming them (KEYS, SCAN, RANDOMKEY, DBSIZE, SORT with BY/GET,
// EVAL and FUNCTION, whose scripts can compute key names), that leave the
// database (SELECT, MOVE, COPY ... DB, SWAPDB, FLUSH*), that act on the server
// or other connections (CONFIG, CLIENT, MONITOR, INFO, DEBUG, ACL), and
// OBJECT, DUMP and RESTORE. AUTH and HELLO need no rule: Redis lets every
// user run them. MULTI/EXEC/DISCARD only frame commands that are each
// checked when queued.
var redisCommands = []string{
	// strings
	"+get", "+set", "+setnx", "+setex", "+psetex", "+getset", "+getdel", "+getex", "+append", "+strlen",
	"+incr", "+incrby", "+incrbyfloat", "+decr", "+decrby", "+mget", "+mset", "+msetnx", "+getrange", "+setrange",
	// keys
	"+del", "+unlink", "+exists", "+expire", "+pexpire", "+expireat", "+pexpireat", "+ttl", "+pttl", "+persist", "+type",
	// hashes
	"+hget", "+hset", "+hsetnx", "+hmget", "+hdel", "+hexists", "+hgetall", "+hkeys", "+hvals", "+hlen",
	"+hincrby", "+hincrbyfloat", "+hscan",
	// lists
	"+lpush", "+rpush", "+lpop", "+rpop", "+llen", "+lrange", "+lindex", "+lset", "+lrem", "+ltrim", "+blpop", "+brpop",
	// sets
	"+sadd", "+srem", "+smembers", "+sismember", "+scard", "+spop", "+srandmember", "+sscan",
	// sorted sets
	"+zadd", "+zrem", "+zrange", "+zrangebyscore", "+zrevrange", "+zscore", "+zincrby", "+zcard", "+zcount",
	"+zrank", "+zrevrank", "+zscan",
	// Pub/Sub, confined by the channel patterns (PSUBSCRIBE patterns must
	// equal an allowed pattern literally)
	"+publish", "+subscribe", "+unsubscribe", "+psubscribe", "+punsubscribe",
	// transactions
	"+multi", "+exec", "+discard", "+watch", "+unwatch",
	// connection
	"+ping",
}

// RedisCommands returns the command rules of every tenant's Redis ACL user,
// applied after -@all.
func RedisCommands() []string { return slices.Clone(redisCommands) }

// newRedisUser creates the tenant's ACL user and returns its username.
func newRedisUser(ctx *pulumi.Context, name string, c *TenantStack, s *settings) (pulumi.StringOutput, error) {
	args := &redis.ACLUserArgs{
		Username:        pulumi.String(RedisUsername(s.id)),
		Enabled:         pulumi.Bool(!s.suspended),
		Password:        s.redisPass,
		KeyPatterns:     pulumi.StringArray{pulumi.String(KeyPrefix(s.id) + "*")},
		ChannelPatterns: pulumi.StringArray{pulumi.String(ChannelPrefix(s.id) + "*")},
		Commands:        pulumi.ToStringArray(redisCommands),
	}
	if s.hasStandbyR {
		args.PreviousPassword = s.standbyRedis
	}
	u, err := redis.NewACLUser(ctx, name+"-redis-user", args, pulumi.Parent(c), pulumi.Provider(s.redisProv))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return u.Username, nil
}
