package backup

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"gocloud.dev/blob"
)

// writeArchive writes an archive of tenant "acme" with one table, two
// Redis keys and no objects to store under key, encrypted with k.
func writeArchive(t *testing.T, store *Store, key string, k Key, mutate func(*Manifest)) {
	t.Helper()
	to, err := k.encryptTo()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	aw, err := newArchiveWriter(&buf, to)
	if err != nil {
		t.Fatal(err)
	}
	m := &Manifest{Format: Format, Tenant: "acme", Tier: "shared", SchemaVersion: 3,
		Tables: []TableInfo{{Name: "accounts", Columns: []string{"tenant_id", "id", "name"}}}}
	if mutate != nil {
		mutate(m)
	}
	mb, err := aw.json(manifestEntry, m)
	if err != nil {
		t.Fatal(err)
	}
	tr := &Trailer{ManifestSHA256: sha256Hex(mb), Tables: []TableSum{{Name: "accounts", Rows: 2, Checksum: "7"}}}
	cw := aw.stream(tableStream("accounts"))
	// More than one chunk, to read across chunk boundaries.
	row := strings.Repeat("acme\t1\tx\n", chunkSize/9+10)
	if _, err := io.WriteString(cw, row); err != nil {
		t.Fatal(err)
	}
	if err := cw.Close(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{redisStream, kubernetesStream} {
		w := aw.stream(s)
		io.WriteString(w, "[]\n")
		w.Close()
	}
	tr.Streams = aw.streams
	if _, err := aw.json(trailerEntry, tr); err != nil {
		t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := store.bucket.WriteAll(context.Background(), key, buf.Bytes(), &blob.WriterOptions{Metadata: m.metadata()}); err != nil {
		t.Fatal(err)
	}
}

func init() { scryptWorkFactor = 10 }

func passphrase(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(p, []byte(s+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func testStore(t *testing.T) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "backups")
	s, err := OpenStore(context.Background(), "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func TestArchiveRoundTripAndRefusals(t *testing.T) {
	ctx := context.Background()
	store, dir := testStore(t)
	pass := Key{PassphraseFile: passphrase(t, "correct horse battery staple")}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	idFile := filepath.Join(t.TempDir(), "id")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)

	writeArchive(t, store, "acme/good"+Suffix, pass, nil)
	writeArchive(t, store, "acme/x25519"+Suffix, Key{Recipients: []string{id.Recipient().String()}}, nil)
	writeArchive(t, store, "acme/foreign"+Suffix, pass, func(m *Manifest) { m.Format = "something-else/9" })

	a, err := Inspect(ctx, store, "acme/good"+Suffix, pass)
	if err != nil {
		t.Fatalf("a good archive: %v", err)
	}
	if a.Manifest.Tenant != "acme" || a.Trailer.Streams[tableStream("accounts")].Chunks != 2 {
		t.Fatalf("read back %+v %+v", a.Manifest, a.Trailer)
	}
	if _, err := Inspect(ctx, store, "acme/x25519"+Suffix, Key{IdentityFile: idFile}); err != nil {
		t.Fatalf("an archive for an age recipient, read with its identity: %v", err)
	}

	good, err := os.ReadFile(filepath.Join(dir, "acme", "good"+Suffix))
	if err != nil {
		t.Fatal(err)
	}
	put := func(name string, b []byte) string {
		if err := store.bucket.WriteAll(ctx, "acme/"+name+Suffix, b, nil); err != nil {
			t.Fatal(err)
		}
		return "acme/" + name + Suffix
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	for _, tc := range []struct {
		name, key string
		k         Key
		says      string
	}{
		{"wrong passphrase", "acme/good" + Suffix, Key{PassphraseFile: passphrase(t, "not the passphrase at all")}, "does not decrypt"},
		{"identity for a passphrase archive", "acme/good" + Suffix, Key{IdentityFile: idFile}, "does not decrypt"},
		{"truncated", put("truncated", good[:len(good)*2/3]), pass, "damaged or truncated"},
		{"cut at the end", put("cut", good[:len(good)-20]), pass, "damaged or truncated"},
		{"a bit flipped", put("flipped", flipped), pass, "damaged or truncated"},
		{"not encrypted", put("plain", []byte("PGDMP this is a pg_dump file")), pass, "not an age-encrypted"},
		{"empty", put("empty", nil), pass, "not an age-encrypted"},
		{"foreign format", "acme/foreign" + Suffix, pass, "not a tenantstack archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Inspect(ctx, store, tc.key, tc.k)
			if !errors.Is(err, ErrArchive) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Inspect: %v; want ErrArchive saying %q", err, tc.says)
			}
		})
	}

	list, err := store.List(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 8 || list[4].Key != "acme/good"+Suffix || list[4].Tier != "shared" || list[4].SchemaVersion != 3 {
		t.Fatalf("List: %+v", list)
	}
	if _, err := Inspect(ctx, store, "acme/missing"+Suffix, pass); !errors.Is(err, ErrNoArchive) {
		t.Fatalf("a missing archive: %v", err)
	}
}

func TestKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		k    Key
		says string
	}{
		{"none", Key{}, "no key given"},
		{"both", Key{PassphraseFile: "/x", Recipients: []string{"age1x"}}, "not both"},
		{"short passphrase", Key{PassphraseFile: passphrase(t, "short")}, "shorter than 12"},
		{"missing file", Key{PassphraseFile: "/nonexistent/pass"}, "reading the passphrase file"},
		{"bad recipient", Key{Recipients: []string{"ssh-rsa AAAA"}}, "not an age public key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.k.encryptTo()
			if !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("encryptTo: %v; want ErrKey saying %q", err, tc.says)
			}
		})
	}
}

func TestRestoreCheck(t *testing.T) {
	a := &Archive{Key: "acme/x" + Suffix, Manifest: &Manifest{Tenant: "acme", SchemaVersion: 4}}
	for _, tc := range []struct {
		name string
		o    RestoreOptions
		says string
	}{
		{"another tenant's", RestoreOptions{From: "globex", Into: "globex", IntoVersion: 4}, `of tenant "acme", not "globex"`},
		{"newer", RestoreOptions{From: "acme", Into: "acme", IntoVersion: 3}, "bring the tenant forward"},
		{"older without migrations", RestoreOptions{From: "acme", Into: "acme", IntoVersion: 5}, "no migrations directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.o.Check(a); !errors.Is(err, ErrArchive) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Check: %v; want ErrArchive saying %q", err, tc.says)
			}
		})
	}
	if set, err := (RestoreOptions{From: "acme", Into: "acme2", IntoVersion: 4}).Check(a); err != nil || set != nil {
		t.Fatalf("same version: %v %v", set, err)
	}
}

func TestObjectsOwnAndPortable(t *testing.T) {
	mk := func(kind, name string, labels map[string]any, typ string) object {
		o := object{"kind": kind, "metadata": map[string]any{"name": name, "namespace": "tenant-acme", "uid": "u", "resourceVersion": "1", "labels": labels}}
		if typ != "" {
			o["type"] = typ
		}
		return o
	}
	for _, tc := range []struct {
		o   object
		own bool
	}{
		{mk("ConfigMap", "settings", nil, ""), true},
		{mk("Secret", "api-token", nil, "Opaque"), true},
		{mk("Secret", "tenant-credentials", map[string]any{"app.kubernetes.io/managed-by": "tenantstack"}, "Opaque"), false},
		{mk("ConfigMap", "kube-root-ca.crt", nil, ""), false},
		{mk("Secret", "default-token", nil, "kubernetes.io/service-account-token"), false},
	} {
		if got := tc.o.own(); got != tc.own {
			t.Errorf("%s own() = %v, want %v", tc.o.id(), got, tc.own)
		}
	}
	p := mk("ConfigMap", "settings", nil, "").portable()
	if _, ok := p.meta()["uid"]; ok {
		t.Errorf("portable kept the uid: %v", p)
	}
	if _, ok := p.meta()["namespace"]; ok {
		t.Errorf("portable kept the namespace: %v", p)
	}
}

func TestKeyPattern(t *testing.T) {
	if got := keyPattern("t:a*b:"); got != `t:a\*b:*` {
		t.Fatalf("keyPattern = %q", got)
	}
	if got := ArchiveKey("acme", mustTime(t)); got != "acme/acme-20261203T101500.000Z.tsbackup" {
		t.Fatalf("ArchiveKey = %q", got)
	}
}

func mustTime(t *testing.T) (tm time.Time) {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, "2026-12-03T10:15:00Z")
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
