package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// Redis probes. The tenant logs in as its ACL user and tries the other
// tenant's keys (GET, SET, DEL, SORT ... GET) and channels (SUBSCRIBE,
// PUBLISH), and the commands that reach keys without naming them or act on
// the server. Destructive commands (FLUSHALL, SHUTDOWN, ...) are never run:
// the admin asks ACL DRYRUN whether the tenant could.

// liveCommands are refused key-less or server commands that are harmless
// to run if the ACL wrongly allows them.
var liveCommands = [][]any{
	{"KEYS", "*"},
	{"SCAN", "0", "COUNT", "1000"},
	{"RANDOMKEY"},
	{"DBSIZE"},
	{"SELECT", "1"},
	{"CONFIG", "GET", "maxmemory"},
	{"CLIENT", "LIST"},
	{"ACL", "LIST"},
	{"EVAL", "return 1", "0"},
	{"PSUBSCRIBE", "*"},
}

// dryRunCommands would do damage if the ACL allowed them; the admin asks
// ACL DRYRUN instead of running them.
var dryRunCommands = [][]string{
	{"FLUSHALL"},
	{"FLUSHDB"},
	{"MONITOR"},
	{"CONFIG", "SET", "maxmemory", "0"},
	{"SHUTDOWN"},
	{"DEBUG", "SLEEP", "0"},
	{"SWAPDB", "0", "1"},
	{"ACL", "SETUSER", "tenantstack-probe"},
}

type redisSuite struct {
	admin *redis.Client
	runID string
	keys  []string // seeded by the admin
}

func redisOpener(admin Admin, runID string) opener {
	return func(ctx context.Context) (suite, error) {
		if admin.RedisURL == "" {
			return nil, errors.New("no admin Redis URL given; pass the platform's redis admin_url (tenantctl dev env -o json)")
		}
		opt, err := redis.ParseURL(admin.RedisURL)
		if err != nil {
			return nil, errors.New("cannot parse the admin Redis URL (redis://USER:PASSWORD@HOST:PORT; not repeated here since it holds a password)")
		}
		opt.Protocol, opt.DisableIdentity, opt.PoolSize = 2, true, 2
		c := redis.NewClient(opt)
		if err := c.Ping(ctx).Err(); err != nil {
			c.Close()
			return nil, fmt.Errorf("connecting to the platform's Redis as the admin (%s@%s): %w; is the platform up?", opt.Username, opt.Addr, err)
		}
		return &redisSuite{admin: c, runID: runID}, nil
	}
}

// tenantClient logs in as c's ACL user, on its own single connection so
// that no probe's state (SELECT, SUBSCRIBE) reaches another.
func tenantClient(c tenantspec.RedisCredentials) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:     net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
		Username: c.Username, Password: c.Password,
		Protocol: 2, DisableIdentity: true,
		MaxRetries: -1, PoolSize: 1,
		DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second,
	})
}

// redisRefused reports whether Redis refused a command for want of an ACL
// permission.
func redisRefused(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) {
		return false
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "NOPERM") || strings.Contains(msg, "insufficient ACL permissions") ||
		strings.Contains(msg, "no permissions")
}

func commandString(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprint(a)
		if strings.ContainsAny(parts[i], " \"") {
			parts[i] = strconv.Quote(parts[i])
		}
	}
	return strings.Join(parts, " ")
}

func (s *redisSuite) key(c tenantspec.Credentials, suffix string) string {
	return c.Redis.KeyPrefix + "tenantstack-probe-" + s.runID + suffix
}

func (s *redisSuite) probe(ctx context.Context, rec *recorder, self tenantspec.Credentials, others []tenantspec.Credentials) error {
	user := self.Redis.Username
	fresh := func(fn func(c *redis.Client) (string, error)) probeFunc {
		return func(ctx context.Context) (string, error) {
			c := tenantClient(self.Redis)
			defer c.Close()
			return fn(c)
		}
	}
	rec.check(ctx, LayerRedis, "use own keys", "", fresh(func(c *redis.Client) (string, error) {
		return s.ownKeys(ctx, c, self)
	}))
	rec.check(ctx, LayerRedis, "log in without a password", "", s.anonymous(self))
	for _, cmd := range liveCommands {
		rec.check(ctx, LayerRedis, "command "+commandString(cmd), "", fresh(func(c *redis.Client) (string, error) {
			return liveCommand(ctx, c, user, cmd)
		}))
	}
	for _, cmd := range dryRunCommands {
		rec.check(ctx, LayerRedis, "command "+strings.Join(cmd, " "), "", func(ctx context.Context) (string, error) {
			return s.dryRun(ctx, user, cmd)
		})
	}
	for _, b := range others {
		bKey := s.key(b, "")
		if err := s.seed(ctx, bKey, "marker of "+b.Tenant); err != nil {
			return err
		}
		rec.check(ctx, LayerRedis, "read other tenant's keys", b.Tenant, fresh(func(c *redis.Client) (string, error) {
			v, err := c.Get(ctx, bKey).Result()
			switch {
			case redisRefused(err):
				return "refused: " + err.Error(), nil
			case err != nil && !errors.Is(err, redis.Nil):
				return "", err
			}
			return "", leakf("%s ran GET %s and got %q", user, bKey, v)
		}))
		rec.check(ctx, LayerRedis, "sort by other tenant's keys", b.Tenant, fresh(func(c *redis.Client) (string, error) {
			return s.sortBy(ctx, c, self, b, bKey)
		}))
		rec.check(ctx, LayerRedis, "write other tenant's keys", b.Tenant, fresh(func(c *redis.Client) (string, error) {
			err := c.Set(ctx, bKey, "overwritten by "+self.Tenant, 0).Err()
			switch {
			case redisRefused(err):
				return "refused: " + err.Error(), nil
			case err != nil:
				return "", err
			}
			return "", leakf("%s ran SET %s and overwrote tenant %q's key", user, bKey, b.Tenant)
		}))
		rec.check(ctx, LayerRedis, "delete other tenant's keys", b.Tenant, fresh(func(c *redis.Client) (string, error) {
			n, err := c.Del(ctx, bKey).Result()
			switch {
			case redisRefused(err):
				return "refused: " + err.Error(), nil
			case err != nil:
				return "", err
			}
			return "", leakf("%s ran DEL %s (%d key deleted)", user, bKey, n)
		}))
		channel := b.Redis.ChannelPrefix + "tenantstack-probe-" + s.runID
		rec.check(ctx, LayerRedis, "subscribe to other tenant's channel", b.Tenant, fresh(func(c *redis.Client) (string, error) {
			sub := c.Subscribe(ctx, channel)
			defer sub.Close()
			msg, err := sub.Receive(ctx)
			switch {
			case redisRefused(err):
				return "refused: " + err.Error(), nil
			case err != nil:
				return "", err
			}
			return "", leakf("%s subscribed to tenant %q's channel %s (%v)", user, b.Tenant, channel, msg)
		}))
		rec.check(ctx, LayerRedis, "publish to other tenant's channel", b.Tenant, fresh(func(c *redis.Client) (string, error) {
			n, err := c.Publish(ctx, channel, "from "+self.Tenant).Result()
			switch {
			case redisRefused(err):
				return "refused: " + err.Error(), nil
			case err != nil:
				return "", err
			}
			return "", leakf("%s published to tenant %q's channel %s (%d receivers)", user, b.Tenant, channel, n)
		}))
	}
	return nil
}

// seed sets key to value as the admin and remembers it for close.
func (s *redisSuite) seed(ctx context.Context, key, value string) error {
	s.keys = append(s.keys, key)
	if err := s.admin.Set(ctx, key, value, time.Hour).Err(); err != nil {
		return fmt.Errorf("seeding Redis key %s as the admin: %w", key, err)
	}
	return nil
}

// ownKeys checks that the tenant can write, read and delete its own key
// and publish on its own channel.
func (s *redisSuite) ownKeys(ctx context.Context, c *redis.Client, self tenantspec.Credentials) (string, error) {
	user, key := self.Redis.Username, s.key(self, "-own")
	s.keys = append(s.keys, key)
	value := "written by " + self.Tenant
	if err := c.Set(ctx, key, value, time.Hour).Err(); err != nil {
		return "", brokenf("%s cannot SET its own key %s: %v", user, key, err)
	}
	got, err := c.Get(ctx, key).Result()
	if err != nil {
		return "", brokenf("%s cannot GET its own key %s: %v", user, key, err)
	}
	if got != value {
		return "", brokenf("%s read %q back from its own key %s, not %q", user, got, key, value)
	}
	if err := c.Del(ctx, key).Err(); err != nil {
		return "", brokenf("%s cannot DEL its own key %s: %v", user, key, err)
	}
	channel := self.Redis.ChannelPrefix + "tenantstack-probe-" + s.runID
	if err := c.Publish(ctx, channel, "self check").Err(); err != nil {
		return "", brokenf("%s cannot PUBLISH to its own channel %s: %v", user, channel, err)
	}
	return fmt.Sprintf("%s wrote, read and deleted %s and published to %s", user, key, channel), nil
}

// anonymous checks that a connection without credentials cannot run
// commands: the default user is off.
func (s *redisSuite) anonymous(self tenantspec.Credentials) probeFunc {
	return func(ctx context.Context) (string, error) {
		c := tenantClient(tenantspec.RedisCredentials{Host: self.Redis.Host, Port: self.Redis.Port})
		defer c.Close()
		err := c.Ping(ctx).Err()
		switch {
		case err == nil:
			return "", leakf("a connection without credentials ran PING: the default user is on, so anyone who reaches Redis is logged in")
		case strings.HasPrefix(err.Error(), "NOAUTH"), redisRefused(err):
			return "refused: " + err.Error(), nil
		}
		return "", err
	}
}

func liveCommand(ctx context.Context, c *redis.Client, user string, cmd []any) (string, error) {
	var res any
	var err error
	if cmd[0] == "PSUBSCRIBE" {
		sub := c.PSubscribe(ctx, cmd[1].(string))
		defer sub.Close()
		res, err = sub.Receive(ctx)
	} else {
		res, err = c.Do(ctx, cmd...).Result()
	}
	switch {
	case redisRefused(err):
		return "refused: " + err.Error(), nil
	case err != nil && !errors.Is(err, redis.Nil):
		return "", err
	}
	return "", leakf("%s ran %s%s", user, commandString(cmd), describeReply(res))
}

// describeReply summarises what an allowed command returned, which is what
// leaked.
func describeReply(res any) string {
	switch v := res.(type) {
	case nil:
		return ""
	case []any:
		if len(v) == 2 { // SCAN: cursor and keys
			if keys, ok := v[1].([]any); ok {
				return " and got " + describeList(keys)
			}
		}
		return " and got " + describeList(v)
	case string:
		if len(v) > 120 {
			v = v[:120] + "..."
		}
		return fmt.Sprintf(" and got %q", v)
	default:
		return fmt.Sprintf(" and got %v", v)
	}
}

func describeList(items []any) string {
	shown := items
	if len(shown) > 5 {
		shown = shown[:5]
	}
	parts := make([]string, len(shown))
	for i, it := range shown {
		parts[i] = fmt.Sprintf("%v", it)
	}
	return fmt.Sprintf("%d entries (%s)", len(items), strings.Join(parts, ", "))
}

func (s *redisSuite) dryRun(ctx context.Context, user string, cmd []string) (string, error) {
	args := []any{"ACL", "DRYRUN", user}
	for _, a := range cmd {
		args = append(args, a)
	}
	verdict, err := s.admin.Do(ctx, args...).Text()
	if err != nil {
		return "", fmt.Errorf("ACL DRYRUN %s %s as the admin: %w", user, strings.Join(cmd, " "), err)
	}
	if verdict == "OK" {
		return "", leakf("%s may run %s (ACL DRYRUN says OK; not run)", user, strings.Join(cmd, " "))
	}
	return "refused (ACL DRYRUN, not run): " + verdict, nil
}

// sortBy tries SORT on the tenant's own list with BY and GET patterns in
// the other tenant's keys, which reads them without naming them.
func (s *redisSuite) sortBy(ctx context.Context, c *redis.Client, self, b tenantspec.Credentials, bKey string) (string, error) {
	list := s.key(self, "-list")
	s.keys = append(s.keys, list)
	if err := s.admin.RPush(ctx, list, s.runID).Err(); err != nil {
		return "", fmt.Errorf("seeding list %s as the admin: %w", list, err)
	}
	// The element is the run id, so the GET pattern names bKey.
	pattern := b.Redis.KeyPrefix + "tenantstack-probe-*"
	var refusals []string
	// ALPHA, so that sorting by a marker's text is not an error of its own.
	for _, opt := range []redis.Sort{{By: "nosort", Get: []string{pattern}}, {By: pattern, Alpha: true}} {
		vals, err := c.Sort(ctx, list, &opt).Result()
		switch {
		case redisRefused(err):
			refusals = append(refusals, err.Error())
			continue
		case err != nil:
			return "", err
		}
		what := "BY " + opt.By
		if len(opt.Get) > 0 {
			what += " GET " + opt.Get[0]
		} else {
			what += " ALPHA"
		}
		return "", leakf("%s ran SORT %s %s over tenant %q's keys and got %q (%s holds the marker)", self.Redis.Username, list, what, b.Tenant, vals, bKey)
	}
	return "refused: " + strings.Join(refusals, "; "), nil
}

func (s *redisSuite) close(ctx context.Context) error {
	var err error
	if len(s.keys) > 0 {
		if err = s.admin.Del(ctx, s.keys...).Err(); err != nil {
			err = fmt.Errorf("removing the probe's Redis keys: %w", err)
		}
	}
	return errors.Join(err, s.admin.Close())
}
