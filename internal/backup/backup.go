package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"gocloud.dev/blob"

	"github.com/tenantstack/tenantstack/internal/migrate/source"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// Options say which tenant a backup is of.
type Options struct {
	Admin  Admin
	Tenant string
	Tier   tenantspec.Tier
	// SchemaVersion is the tenant's schema version, recorded so a restore
	// knows whether to migrate the rows forward.
	SchemaVersion int64
	// Spec is the tenant's spec, kept in the manifest for a restore into
	// a new tenant.
	Spec     json.RawMessage
	Key      Key
	Tool     string
	Progress io.Writer
}

// Result is one archive written.
type Result struct {
	Tenant   string        `json:"tenant"`
	URL      string        `json:"url"`
	Key      string        `json:"key"`
	Bytes    int64         `json:"bytes"`
	Tables   []TableSum    `json:"tables"`
	Rows     int64         `json:"rows"`
	Redis    int           `json:"redisKeys"`
	Objects  []string      `json:"kubernetesObjects"`
	Version  int64         `json:"schemaVersion"`
	Duration time.Duration `json:"durationNanos"`
}

func progress(w io.Writer, format string, a ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", a...)
	}
}

// Backup writes one archive of the tenant to store and returns what it
// holds. A backup that fails leaves no archive behind.
func Backup(ctx context.Context, store *Store, o Options) (*Result, error) {
	start := time.Now()
	to, err := o.Key.encryptTo()
	if err != nil {
		return nil, err
	}
	m := &Manifest{Format: Format, Tenant: o.Tenant, Tier: string(o.Tier), Created: start.UTC(), SchemaVersion: o.SchemaVersion, Spec: o.Spec, Tool: o.Tool, Tables: []TableInfo{}}
	key := ArchiveKey(o.Tenant, start)
	// The writer is cancelled, leaving nothing, unless everything succeeds.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bw, err := store.bucket.NewWriter(wctx, key, &blob.WriterOptions{ContentType: "application/octet-stream", Metadata: m.metadata()})
	if err != nil {
		return nil, fmt.Errorf("writing %s to %s: %w", key, store.URL, err)
	}
	counter := &countingWriter{w: bw}
	aw, err := newArchiveWriter(counter, to)
	if err != nil {
		return nil, err
	}
	tr := &Trailer{Tables: []TableSum{}, Objects: []string{}}

	loc := o.Admin.location(o.Tenant, o.Tier)
	conn, err := o.Admin.connect(ctx, loc.Database)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// The manifest goes first and lists the tables; the snapshot lists
	// them again, and a difference (a migration in between) is refused.
	tables, err := tenantTables(ctx, conn, loc.Schema)
	if err != nil {
		return nil, fmt.Errorf("listing the tenant tables of %s: %w", loc.Schema, err)
	}
	for _, t := range tables {
		m.Tables = append(m.Tables, TableInfo{Name: t.Name, Columns: t.Columns})
	}
	mb, err := aw.json(manifestEntry, m)
	if err != nil {
		return nil, err
	}
	tr.ManifestSHA256 = sha256Hex(mb)
	var snap Manifest
	if err := dumpPostgres(ctx, conn, loc, o.Tenant, aw, &snap, tr); err != nil {
		return nil, err
	}
	if !sameTables(m.Tables, snap.Tables) {
		return nil, fmt.Errorf("the tenant's tables changed while the backup started (a migration ran?); run the backup again")
	}
	var rows int64
	for _, t := range tr.Tables {
		rows += t.Rows
	}
	progress(o.Progress, "%s: %d rows of %d tables read from one snapshot", o.Tenant, rows, len(tr.Tables))

	rdb, err := o.Admin.redis()
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	rw := aw.stream(redisStream)
	if tr.RedisKeys, err = dumpRedis(ctx, rdb, tenantspec.KeyPrefix(o.Tenant), rw); err != nil {
		return nil, fmt.Errorf("reading the tenant's Redis keys: %w", err)
	}
	if err := rw.Close(); err != nil {
		return nil, err
	}

	objs, err := o.Admin.ownObjects(ctx, tenantspec.Namespace(o.Tenant))
	if err != nil {
		return nil, fmt.Errorf("reading the tenant's Kubernetes objects: %w", err)
	}
	kw := aw.stream(kubernetesStream)
	if err := json.NewEncoder(kw).Encode(objs); err != nil {
		return nil, err
	}
	if err := kw.Close(); err != nil {
		return nil, err
	}
	for _, obj := range objs {
		tr.Objects = append(tr.Objects, obj.id())
	}
	tr.Streams = aw.streams
	if _, err := aw.json(trailerEntry, tr); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	if err := bw.Close(); err != nil {
		return nil, fmt.Errorf("writing %s to %s: %w", key, store.URL, err)
	}
	res := &Result{Tenant: o.Tenant, URL: store.URL, Key: key, Bytes: counter.n, Tables: tr.Tables, Rows: rows,
		Redis: tr.RedisKeys, Objects: tr.Objects, Version: o.SchemaVersion, Duration: time.Since(start)}
	progress(o.Progress, "%s: %d Redis keys, %d Kubernetes objects; %d bytes written to %s in %s", o.Tenant, tr.RedisKeys, len(objs), counter.n, key, res.Duration.Round(time.Millisecond))
	return res, nil
}

func sameTables(a, b []TableInfo) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || fmt.Sprint(a[i].Columns) != fmt.Sprint(b[i].Columns) {
			return false
		}
	}
	return true
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Archive is an archive checked from end to end with its key.
type Archive struct {
	Key      string    `json:"key"`
	Manifest *Manifest `json:"manifest"`
	Trailer  *Trailer  `json:"trailer"`
}

// Inspect reads the archive at key with k and checks it whole (every
// checksum, the manifest, the trailer) without changing anything.
func Inspect(ctx context.Context, store *Store, key string, k Key) (*Archive, error) {
	ids, err := k.decryptWith()
	if err != nil {
		return nil, err
	}
	r, err := store.open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	ar, err := openArchive(r, ids)
	if err != nil {
		return nil, err
	}
	m, mb, err := readManifest(ar)
	if err != nil {
		return nil, err
	}
	var streams []*streamReader
	for _, t := range m.Tables {
		s := ar.stream(tableStream(t.Name))
		if _, err := io.Copy(io.Discard, s); err != nil {
			return nil, err
		}
		streams = append(streams, s)
	}
	for _, name := range []string{redisStream, kubernetesStream} {
		s := ar.stream(name)
		if _, err := io.Copy(io.Discard, s); err != nil {
			return nil, err
		}
		streams = append(streams, s)
	}
	tr, err := readTrailer(ar, mb)
	if err != nil {
		return nil, err
	}
	for _, s := range streams {
		if err := s.check(tr); err != nil {
			return nil, err
		}
	}
	if len(tr.Tables) != len(m.Tables) {
		return nil, fmt.Errorf("%w: the trailer counts %d tables, the manifest lists %d", ErrArchive, len(tr.Tables), len(m.Tables))
	}
	return &Archive{Key: key, Manifest: m, Trailer: tr}, nil
}

func readManifest(ar *archiveReader) (*Manifest, []byte, error) {
	var m Manifest
	mb, err := ar.readJSON(manifestEntry, &m)
	if err != nil {
		return nil, nil, err
	}
	if m.Format != Format {
		return nil, nil, fmt.Errorf("%w: its format is %q, not %q: it is not a tenantstack archive, or one this tenantctl cannot read", ErrArchive, m.Format, Format)
	}
	if err := tenantspec.ValidateTenantID(m.Tenant); err != nil {
		return nil, nil, fmt.Errorf("%w: its manifest names no valid tenant: %v", ErrArchive, err)
	}
	if !tenantspec.Tier(m.Tier).Valid() {
		return nil, nil, fmt.Errorf("%w: its manifest names no valid tier (%q)", ErrArchive, m.Tier)
	}
	return &m, mb, nil
}

func readTrailer(ar *archiveReader, manifest []byte) (*Trailer, error) {
	var tr Trailer
	if _, err := ar.readJSON(trailerEntry, &tr); err != nil {
		return nil, err
	}
	if tr.ManifestSHA256 != sha256Hex(manifest) {
		return nil, fmt.Errorf("%w: its trailer belongs to another manifest", ErrArchive)
	}
	if err := ar.end(); err != nil {
		return nil, err
	}
	return &tr, nil
}

// RestoreOptions say what a restore does.
type RestoreOptions struct {
	Admin Admin
	Key   Key
	// From is the tenant the archive must be of.
	From string
	// Into is the tenant whose data are replaced (From, or another tenant
	// that exists), on IntoTier at schema version IntoVersion.
	Into        string
	IntoTier    tenantspec.Tier
	IntoVersion int64
	// Migrations is the application's migrations directory, needed when
	// the archive is of an older schema version.
	Migrations string
	Progress   io.Writer
}

// RestoreResult is what a restore did.
type RestoreResult struct {
	Tenant         string        `json:"tenant"`
	From           string        `json:"from"`
	Key            string        `json:"key"`
	Tier           string        `json:"tier"`
	ArchiveTier    string        `json:"archiveTier"`
	ArchiveVersion int64         `json:"archiveSchemaVersion"`
	SchemaVersion  int64         `json:"schemaVersion"`
	Migrated       bool          `json:"migrated"`
	Tables         []TableResult `json:"tables"`
	RedisKeys      int           `json:"redisKeys"`
	RedisRemoved   int           `json:"redisKeysRemoved"`
	Objects        []string      `json:"kubernetesObjects"`
	ObjectsRemoved []string      `json:"kubernetesObjectsRemoved"`
	Duration       time.Duration `json:"durationNanos"`
}

// Check refuses an archive that cannot be restored as o says: of another
// tenant, or of a newer schema version; an older one needs the migrations.
func (o RestoreOptions) Check(a *Archive) (*source.Set, error) {
	m := a.Manifest
	if m.Tenant != o.From {
		return nil, fmt.Errorf("%w: %s is an archive of tenant %q, not %q; restore it as \"tenantctl restore %s ... --as %s\"",
			ErrArchive, a.Key, m.Tenant, o.From, m.Tenant, o.From)
	}
	if m.SchemaVersion > o.IntoVersion {
		return nil, fmt.Errorf("%w: the archive is at schema version %d and tenant %q at %d; bring the tenant forward first (\"tenantctl migrate up\")",
			ErrArchive, m.SchemaVersion, o.Into, o.IntoVersion)
	}
	if m.SchemaVersion == o.IntoVersion {
		return nil, nil
	}
	if o.Migrations == "" {
		return nil, fmt.Errorf("%w: the archive is at schema version %d and tenant %q at %d, and the platform names no migrations directory to bring the rows forward with",
			ErrArchive, m.SchemaVersion, o.Into, o.IntoVersion)
	}
	set, err := source.Load(o.Migrations)
	if err != nil {
		return nil, fmt.Errorf("reading the migrations %s: %w", o.Migrations, err)
	}
	if _, ok := set.Find(o.IntoVersion); !ok {
		return nil, fmt.Errorf("%w: the migrations in %s do not reach the tenant's version %d", ErrArchive, o.Migrations, o.IntoVersion)
	}
	if m.SchemaVersion > 0 {
		if _, ok := set.Find(m.SchemaVersion); !ok {
			return nil, fmt.Errorf("%w: the migrations in %s have no version %d, the archive's", ErrArchive, o.Migrations, m.SchemaVersion)
		}
	}
	return set, nil
}

// Restore replaces the data of tenant o.Into with the archive at key: first
// it checks the whole archive (nothing changes if it is refused), then it
// restores the PostgreSQL rows in one transaction, then the Redis keys and
// the Kubernetes objects.
func Restore(ctx context.Context, store *Store, key string, o RestoreOptions) (*RestoreResult, error) {
	start := time.Now()
	a, err := Inspect(ctx, store, key, o.Key)
	if err != nil {
		return nil, err
	}
	set, err := o.Check(a)
	if err != nil {
		return nil, err
	}
	progress(o.Progress, "%s: archive %s checked (schema version %d, %s tier)", o.Into, key, a.Manifest.SchemaVersion, a.Manifest.Tier)

	ids, err := o.Key.decryptWith()
	if err != nil {
		return nil, err
	}
	r, err := store.open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	ar, err := openArchive(r, ids)
	if err != nil {
		return nil, err
	}
	m, mb, err := readManifest(ar)
	if err != nil {
		return nil, err
	}
	loc := o.Admin.location(o.Into, o.IntoTier)
	conn, err := o.Admin.connect(ctx, loc.Database)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	pg := &pgRestore{conn: conn, loc: loc}
	defer pg.rollback(ctx)
	if err := pg.stage(ctx, m, o.Into, o.IntoVersion, set); err != nil {
		return nil, err
	}
	var streams []*streamReader
	for _, t := range m.Tables {
		s := ar.stream(tableStream(t.Name))
		if _, err := pg.load(ctx, t, s); err != nil {
			return nil, err
		}
		streams = append(streams, s)
	}
	rs := ar.stream(redisStream)
	keys, err := readRedis(rs)
	if err != nil {
		return nil, err
	}
	ks := ar.stream(kubernetesStream)
	var objs []object
	if err := json.NewDecoder(ks).Decode(&objs); err != nil {
		return nil, fmt.Errorf("%w: its Kubernetes objects are not valid: %v", ErrArchive, err)
	}
	if _, err := io.Copy(io.Discard, ks); err != nil {
		return nil, err
	}
	tr, err := readTrailer(ar, mb)
	if err != nil {
		return nil, err
	}
	// The archive read now must be the one checked (a store could change
	// it between the two reads).
	for _, s := range append(streams, rs, ks) {
		if err := s.check(tr); err != nil {
			return nil, err
		}
	}
	tables, err := pg.replace(ctx, m, tr, o.Into, o.IntoVersion, set)
	if err != nil {
		return nil, err
	}
	if err := pg.commit(ctx); err != nil {
		return nil, err
	}
	res := &RestoreResult{Tenant: o.Into, From: m.Tenant, Key: key, Tier: string(o.IntoTier), ArchiveTier: m.Tier, ArchiveVersion: m.SchemaVersion,
		SchemaVersion: o.IntoVersion, Migrated: pg.migrated, Tables: tables, RedisKeys: len(keys), Objects: []string{}, ObjectsRemoved: []string{}}
	var rows int64
	for _, t := range tables {
		rows += t.Rows
	}
	progress(o.Progress, "%s: %d rows of %d tables restored", o.Into, rows, len(tables))

	rdb, err := o.Admin.redis()
	if err != nil {
		return res, err
	}
	defer rdb.Close()
	if res.RedisRemoved, err = restoreRedis(ctx, rdb, tenantspec.KeyPrefix(o.Into), keys); err != nil {
		return res, fmt.Errorf("the PostgreSQL rows are restored, the Redis keys are not; run the restore again: %w", err)
	}
	applied, removed, err := o.Admin.restoreKubernetes(ctx, tenantspec.Namespace(o.Into), objs)
	if err != nil {
		return res, fmt.Errorf("the PostgreSQL rows and Redis keys are restored, the Kubernetes objects are not; run the restore again: %w", err)
	}
	res.Objects, res.ObjectsRemoved = append(res.Objects, applied...), append(res.ObjectsRemoved, removed...)
	res.Duration = time.Since(start)
	progress(o.Progress, "%s: %d Redis keys and %d Kubernetes objects restored in %s", o.Into, len(keys), len(applied), res.Duration.Round(time.Millisecond))
	return res, nil
}
