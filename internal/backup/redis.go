package backup

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisKey is one key in the archive: its name under the tenant's prefix
// (so it can go under another tenant's), its remaining TTL in milliseconds
// (-1: none) and its DUMP payload.
type redisKey struct {
	Key   string `json:"k"`
	TTLMs int64  `json:"t"`
	Dump  string `json:"d"`
}

func (a Admin) redis() (*redis.Client, error) {
	opt, err := redis.ParseURL(a.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("the platform's Redis admin URL: %w", err)
	}
	return redis.NewClient(opt), nil
}

// keyPattern is the SCAN MATCH pattern of the keys under prefix, with glob
// characters escaped.
func keyPattern(prefix string) string {
	var b strings.Builder
	for _, r := range prefix {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String() + "*"
}

// dumpRedis writes every key under prefix as JSON lines. Redis has no
// snapshot of a key range: each key is read whole, keys one after another.
func dumpRedis(ctx context.Context, rdb *redis.Client, prefix string, w io.Writer) (int, error) {
	enc := json.NewEncoder(w)
	n := 0
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		pipe := rdb.Pipeline()
		dumps := make([]*redis.StringCmd, len(batch))
		ttls := make([]*redis.DurationCmd, len(batch))
		for i, k := range batch {
			dumps[i] = pipe.Dump(ctx, k)
			ttls[i] = pipe.PTTL(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for i, k := range batch {
			d, err := dumps[i].Result()
			if errors.Is(err, redis.Nil) {
				continue // expired or deleted since the SCAN
			}
			if err != nil {
				return fmt.Errorf("DUMP %s: %w", k, err)
			}
			ttl := int64(-1)
			if t := ttls[i].Val(); t > 0 {
				ttl = t.Milliseconds()
				if ttl == 0 {
					ttl = 1
				}
			}
			if err := enc.Encode(redisKey{Key: strings.TrimPrefix(k, prefix), TTLMs: ttl, Dump: base64.StdEncoding.EncodeToString([]byte(d))}); err != nil {
				return err
			}
			n++
		}
		batch = batch[:0]
		return nil
	}
	iter := rdb.Scan(ctx, 0, keyPattern(prefix), 1000).Iterator()
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// readRedis reads the archive's keys.
func readRedis(r io.Reader) ([]redisKey, error) {
	var out []redisKey
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for sc.Scan() {
		var k redisKey
		if err := json.Unmarshal(sc.Bytes(), &k); err != nil {
			return nil, fmt.Errorf("%w: a Redis key record is not valid: %v", ErrArchive, err)
		}
		out = append(out, k)
	}
	if err := sc.Err(); err != nil {
		return nil, damaged(err)
	}
	return out, nil
}

// restoreRedis replaces the keys under prefix with keys.
func restoreRedis(ctx context.Context, rdb *redis.Client, prefix string, keys []redisKey) (removed int, err error) {
	var batch []string
	unlink := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
			return err
		}
		removed += len(batch)
		batch = batch[:0]
		return nil
	}
	iter := rdb.Scan(ctx, 0, keyPattern(prefix), 1000).Iterator()
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := unlink(); err != nil {
				return removed, err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return removed, err
	}
	if err := unlink(); err != nil {
		return removed, err
	}
	for i := 0; i < len(keys); i += 500 {
		pipe := rdb.Pipeline()
		for _, k := range keys[i:min(i+500, len(keys))] {
			d, err := base64.StdEncoding.DecodeString(k.Dump)
			if err != nil {
				return removed, fmt.Errorf("%w: the payload of key %s is not base64", ErrArchive, k.Key)
			}
			ttl := int64(0)
			if k.TTLMs > 0 {
				ttl = k.TTLMs
			}
			pipe.Do(ctx, "RESTORE", prefix+k.Key, ttl, d, "REPLACE")
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return removed, fmt.Errorf("restoring the Redis keys: %w", err)
		}
	}
	return removed, nil
}
