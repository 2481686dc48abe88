package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob:// buckets
	_ "gocloud.dev/blob/fileblob"  // file:// buckets
	_ "gocloud.dev/blob/gcsblob"   // gs:// buckets
	_ "gocloud.dev/blob/s3blob"    // s3:// buckets
	"gocloud.dev/gcerrors"
)

// Suffix ends the key of every archive.
const Suffix = ".tsbackup"

// Store is a bucket of archives, one folder per tenant:
// <tenant>/<tenant>-<UTC time>.tsbackup.
type Store struct {
	URL    string
	bucket *blob.Bucket
}

// ErrStore is a bucket URL that cannot be opened.
var ErrStore = errors.New("unusable backup location")

// OpenStore opens the bucket at rawURL (file:///dir, s3://bucket, gs://...,
// azblob://...). A file:// directory is created when missing.
func OpenStore(ctx context.Context, rawURL string) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("%w: %q is not a URL; use file:///path/to/dir, s3://bucket, gs://bucket or azblob://container", ErrStore, rawURL)
	}
	if u.Scheme == "file" {
		if u.Path == "" || !strings.HasPrefix(u.Path, "/") {
			return nil, fmt.Errorf("%w: %q: a file URL needs an absolute path, e.g. file:///var/backups/tenants", ErrStore, rawURL)
		}
		q := u.Query()
		q.Set("create_dir", "true")
		// Archives are written with mode 0600 and folders with 0700.
		q.Set("dir_file_mode", "0700")
		u.RawQuery = q.Encode()
	}
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("%w: opening %s: %v", ErrStore, rawURL, err)
	}
	return &Store{URL: rawURL, bucket: b}, nil
}

// Close releases the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

// ArchiveKey is the key of tenant's archive written at t.
func ArchiveKey(tenant string, t time.Time) string {
	return tenant + "/" + tenant + "-" + t.UTC().Format("20060102T150405.000Z") + Suffix
}

// Entry is one archive in a store.
type Entry struct {
	Key           string    `json:"key"`
	Tenant        string    `json:"tenant"`
	Tier          string    `json:"tier"`
	SchemaVersion int64     `json:"schemaVersion"`
	Created       time.Time `json:"created"`
	Bytes         int64     `json:"bytes"`
}

// metadata is what a store keeps beside an archive, unencrypted, so that it
// can be listed without the key: nothing but the tenant, tier, version and time.
func (m *Manifest) metadata() map[string]string {
	return map[string]string{
		"tenant":         m.Tenant,
		"tier":           m.Tier,
		"schema-version": strconv.FormatInt(m.SchemaVersion, 10),
		"created":        m.Created.Format(time.RFC3339Nano),
	}
}

// List returns tenant's archives, oldest first.
func (s *Store) List(ctx context.Context, tenant string) ([]Entry, error) {
	var out []Entry
	it := s.bucket.List(&blob.ListOptions{Prefix: tenant + "/"})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", s.URL, err)
		}
		if obj.IsDir || !strings.HasSuffix(obj.Key, Suffix) {
			continue
		}
		e := Entry{Key: obj.Key, Tenant: tenant, Bytes: obj.Size, Created: obj.ModTime.UTC()}
		if attrs, err := s.bucket.Attributes(ctx, obj.Key); err == nil {
			e.Tier = attrs.Metadata["tier"]
			e.SchemaVersion, _ = strconv.ParseInt(attrs.Metadata["schema-version"], 10, 64)
			if t, err := time.Parse(time.RFC3339Nano, attrs.Metadata["created"]); err == nil {
				e.Created = t
			}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Latest returns the key of tenant's newest archive.
func (s *Store) Latest(ctx context.Context, tenant string) (string, error) {
	list, err := s.List(ctx, tenant)
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		return "", fmt.Errorf("%w: %s holds no archive of tenant %q; \"tenantctl backups %s --in %s\" lists them", ErrNoArchive, s.URL, tenant, tenant, s.URL)
	}
	return list[len(list)-1].Key, nil
}

// ErrNoArchive is an archive that is not in the store.
var ErrNoArchive = errors.New("archive not found")

func (s *Store) open(ctx context.Context, key string) (io.ReadCloser, error) {
	r, err := s.bucket.NewReader(ctx, key, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, fmt.Errorf("%w: no %s in %s", ErrNoArchive, key, s.URL)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s from %s: %w", key, s.URL, err)
	}
	return r, nil
}

// Exists says whether key is in the store.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	return s.bucket.Exists(ctx, key)
}
