package devplatform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis 7 with ACLs: the default user is off, the admin is an ACL user, and
// users live in an aclfile so that users other tools add (one per tenant)
// survive a restart once they run ACL SAVE.

func (p *Platform) redisService() *service {
	l := p.layout
	return &service{
		name:    "redis",
		program: "redis-server",
		// Redis rewrites its command line into its process title; the
		// template in redis.conf keeps the config path in it.
		marker:  l.redisConfig(),
		stopSig: syscall.SIGTERM, // saves the RDB, then exits
		grace:   30 * time.Second,
		ports:   func() []listener { return []listener{{"redis", p.state().Ports.Redis}} },
		address: func() string { return loopback(p.state().Ports.Redis) },
		prepare: p.prepareRedis,
		spec: func() procSpec {
			return procSpec{bin: p.bins.redis, args: []string{l.redisConfig()}, dir: l.redisDir()}
		},
		check: func(ctx context.Context) (string, error) {
			st := p.state()
			return redisVersion(ctx, loopback(st.Ports.Redis), st.Redis)
		},
	}
}

// redisQuote quotes s for redis.conf.
func redisQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func redisConf(l layout, port int) string {
	return fmt.Sprintf(`# Written by "tenantctl dev up" before every start.
bind 127.0.0.1
port %d
protected-mode yes
daemonize no
logfile ""
dir %s
# Users, the admin's included, live here; ACL SAVE writes here.
aclfile %s
# Keeps the config path in the command line, which tenantctl checks before
# it signals the process.
proc-title-template "{title} {listen-addr} {server-mode} {config-file}"
save 3600 1 300 100 60 10000
appendonly no
`, port, redisQuote(l.redisDir()), redisQuote(l.redisACL()))
}

// redisACL is the initial aclfile: the default user off, the admin with its
// password stored as a SHA-256 hash, as ACL SAVE would store it.
func redisACL(admin Credentials) string {
	sum := sha256.Sum256([]byte(admin.Password))
	return "user default off resetkeys resetchannels -@all\n" +
		"user " + admin.User + " on #" + hex.EncodeToString(sum[:]) + " ~* &* +@all\n"
}

func (p *Platform) prepareRedis(context.Context) error {
	l := p.layout
	if err := os.MkdirAll(l.redisDir(), 0o700); err != nil {
		return err
	}
	// Written once: afterwards it is Redis's own, holding the users others
	// added and saved.
	if !fileExists(l.redisACL()) {
		if err := writeFileAtomic(l.redisACL(), []byte(redisACL(p.state().Redis)), 0o600); err != nil {
			return err
		}
	}
	return writeFileAtomic(l.redisConfig(), []byte(redisConf(l, p.state().Ports.Redis)), 0o600)
}

// redisVersion logs in as the admin (AUTH), PINGs, and reads the version.
func redisVersion(ctx context.Context, addr string, admin Credentials) (string, error) {
	c := redis.NewClient(&redis.Options{
		Addr: addr, Username: admin.User, Password: admin.Password,
		Protocol: 2, DisableIdentity: true, MaxRetries: -1, PoolSize: 1,
		DialTimeout: checkTimeout,
	})
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		return "", err
	}
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return "Redis " + v, nil
		}
	}
	return "Redis", nil
}
