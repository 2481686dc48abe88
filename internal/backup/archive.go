package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"filippo.io/age"
)

// Format names the archive format; a manifest with another is refused.
const Format = "tenantstack-backup/1"

// The archive's entries, in this order: the manifest, the chunks of each
// stream (postgres/<table>/000000, ..., redis/..., kubernetes/...), the
// trailer. Data are cut into chunks so that a stream of any size is written
// without knowing its size up front and without a plaintext temporary file.
const (
	manifestEntry = "manifest.json"
	trailerEntry  = "trailer.json"
	chunkSize     = 4 << 20
)

// Stream names besides postgres/<table>.
const (
	redisStream      = "redis"
	kubernetesStream = "kubernetes"
)

func tableStream(table string) string { return "postgres/" + table }

// Manifest is what an archive holds, written before the data.
type Manifest struct {
	Format  string    `json:"format"`
	Tenant  string    `json:"tenant"`
	Tier    string    `json:"tier"`
	Created time.Time `json:"created"`
	// SchemaVersion is the version of the application's schema the
	// tenant's tables were at.
	SchemaVersion int64 `json:"schemaVersion"`
	// Spec is the tenant's spec (quota, flags, workload) as its stack had it.
	Spec json.RawMessage `json:"spec,omitempty"`
	// Tables are the tenant tables, with their stored columns in order.
	Tables []TableInfo `json:"tables"`
	// Tool is the tenantctl version that wrote the archive.
	Tool string `json:"tool,omitempty"`
}

// TableInfo is one tenant table of the archive.
type TableInfo struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
}

// Trailer is written after the data: counts and checksums.
type Trailer struct {
	// ManifestSHA256 binds the trailer to the manifest it follows.
	ManifestSHA256 string               `json:"manifestSha256"`
	Tables         []TableSum           `json:"tables"`
	RedisKeys      int                  `json:"redisKeys"`
	Objects        []string             `json:"kubernetesObjects"`
	Streams        map[string]StreamSum `json:"streams"`
}

// TableSum is one table's rows in the archive. Checksum sums a 64-bit hash
// of each row's text without the tenant column, as PostgreSQL computes it,
// so it is the same after a restore under another tenant's id.
type TableSum struct {
	Name     string `json:"name"`
	Rows     int64  `json:"rows"`
	Checksum string `json:"checksum"`
}

// StreamSum is the SHA-256 and size of one stream's bytes.
type StreamSum struct {
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	Chunks int    `json:"chunks"`
}

// archiveWriter writes the tar stream, compressed and encrypted.
type archiveWriter struct {
	enc     io.WriteCloser
	gz      *gzip.Writer
	tw      *tar.Writer
	now     time.Time
	streams map[string]StreamSum
}

func newArchiveWriter(w io.Writer, to []age.Recipient) (*archiveWriter, error) {
	enc, err := age.Encrypt(w, to...)
	if err != nil {
		return nil, err
	}
	gz, err := gzip.NewWriterLevel(enc, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	return &archiveWriter{enc: enc, gz: gz, tw: tar.NewWriter(gz), now: time.Now().UTC(), streams: map[string]StreamSum{}}, nil
}

func (a *archiveWriter) entry(name string, b []byte) error {
	if err := a.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: a.now, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := a.tw.Write(b)
	return err
}

func (a *archiveWriter) json(name string, v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return b, a.entry(name, b)
}

// stream returns a writer that cuts what it is given into chunk entries.
func (a *archiveWriter) stream(name string) *chunkWriter {
	return &chunkWriter{a: a, name: name, sum: sha256.New()}
}

// Close ends the tar, gzip and age streams; the archive is complete only
// once it returns nil.
func (a *archiveWriter) Close() error {
	if err := a.tw.Close(); err != nil {
		return err
	}
	if err := a.gz.Close(); err != nil {
		return err
	}
	return a.enc.Close()
}

// chunkWriter is one stream being written.
type chunkWriter struct {
	a      *archiveWriter
	name   string
	buf    bytes.Buffer
	sum    hash.Hash
	bytes  int64
	chunks int
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		room := chunkSize - c.buf.Len()
		if room > len(p) {
			room = len(p)
		}
		c.buf.Write(p[:room])
		p = p[room:]
		if c.buf.Len() == chunkSize {
			if err := c.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (c *chunkWriter) flush() error {
	if c.buf.Len() == 0 {
		return nil
	}
	b := c.buf.Bytes()
	c.sum.Write(b)
	c.bytes += int64(len(b))
	if err := c.a.entry(fmt.Sprintf("%s/%06d", c.name, c.chunks), b); err != nil {
		return err
	}
	c.chunks++
	c.buf.Reset()
	return nil
}

// Close writes what is left and records the stream's checksum.
func (c *chunkWriter) Close() error {
	if err := c.flush(); err != nil {
		return err
	}
	c.a.streams[c.name] = StreamSum{SHA256: hex.EncodeToString(c.sum.Sum(nil)), Bytes: c.bytes, Chunks: c.chunks}
	return nil
}

// ErrArchive is an archive that is refused: not decryptable with the key,
// not a tenantstack archive, corrupt, truncated, or of another tenant. When
// it is returned by restore, nothing was changed.
var ErrArchive = errors.New("archive refused")

// archiveReader reads an archive's entries in order.
type archiveReader struct {
	tr      *tar.Reader
	pending *tar.Header
	eof     bool
}

func openArchive(r io.Reader, ids []age.Identity) (*archiveReader, error) {
	dec, err := age.Decrypt(r, ids...)
	if err != nil {
		var none *age.NoIdentityMatchError
		if errors.As(err, &none) {
			return nil, fmt.Errorf("%w: the key does not decrypt it (%v); give the passphrase file or identity it was written with", ErrArchive, err)
		}
		return nil, fmt.Errorf("%w: it is not an age-encrypted tenantstack archive, or its header is damaged: %v", ErrArchive, err)
	}
	gz, err := gzip.NewReader(dec)
	if errors.Is(err, gzip.ErrHeader) {
		return nil, fmt.Errorf("%w: decrypted, but not a tenantstack archive: %v", ErrArchive, err)
	}
	if err != nil {
		return nil, damaged(err)
	}
	return &archiveReader{tr: tar.NewReader(gz)}, nil
}

// damaged wraps a read error of the archive's body.
func damaged(err error) error {
	if errors.Is(err, ErrArchive) {
		return err
	}
	return fmt.Errorf("%w: it is damaged or truncated: %v", ErrArchive, err)
}

func (a *archiveReader) peek() (*tar.Header, error) {
	if a.pending != nil || a.eof {
		return a.pending, nil
	}
	h, err := a.tr.Next()
	if errors.Is(err, io.EOF) {
		a.eof = true
		return nil, nil
	}
	if err != nil {
		return nil, damaged(err)
	}
	a.pending = h
	return h, nil
}

// readJSON reads the next entry, which must be name, into v, and returns
// its bytes.
func (a *archiveReader) readJSON(name string, v any) ([]byte, error) {
	h, err := a.peek()
	if err != nil {
		return nil, err
	}
	if h == nil || h.Name != name {
		got := "the end"
		if h != nil {
			got = h.Name
		}
		return nil, fmt.Errorf("%w: expected %s, found %s: it is truncated or not a tenantstack archive", ErrArchive, name, got)
	}
	a.pending = nil
	b, err := io.ReadAll(io.LimitReader(a.tr, 64<<20))
	if err != nil {
		return nil, damaged(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("%w: its %s is not valid: %v", ErrArchive, name, err)
	}
	return b, nil
}

// stream returns a reader over the chunks of stream name, in order, and
// the checksum of what was read once it is drained.
func (a *archiveReader) stream(name string) *streamReader {
	return &streamReader{a: a, name: name, sum: sha256.New()}
}

// streamReader reads one stream's chunks as one byte stream.
type streamReader struct {
	a      *archiveReader
	name   string
	open   bool
	sum    hash.Hash
	bytes  int64
	chunks int
}

func (s *streamReader) Read(p []byte) (int, error) {
	for {
		if s.open {
			n, err := s.a.tr.Read(p)
			s.sum.Write(p[:n])
			s.bytes += int64(n)
			if errors.Is(err, io.EOF) {
				s.open = false
				if n > 0 {
					return n, nil
				}
				continue
			}
			if err != nil {
				return n, damaged(err)
			}
			return n, nil
		}
		h, err := s.a.peek()
		if err != nil {
			return 0, err
		}
		if h == nil || !strings.HasPrefix(h.Name, s.name+"/") {
			return 0, io.EOF
		}
		if want := fmt.Sprintf("%s/%06d", s.name, s.chunks); h.Name != want {
			return 0, fmt.Errorf("%w: found entry %s where %s was expected", ErrArchive, h.Name, want)
		}
		s.a.pending = nil
		s.open = true
		s.chunks++
	}
}

// check compares what was read with the trailer's record of the stream.
func (s *streamReader) check(t *Trailer) error {
	want, ok := t.Streams[s.name]
	got := StreamSum{SHA256: hex.EncodeToString(s.sum.Sum(nil)), Bytes: s.bytes, Chunks: s.chunks}
	if !ok || want != got {
		return fmt.Errorf("%w: stream %s does not match its checksum (read %d bytes, sha256 %s; the trailer says %d bytes, sha256 %s): it is corrupt",
			ErrArchive, s.name, got.Bytes, got.SHA256, want.Bytes, want.SHA256)
	}
	return nil
}

// end checks that nothing follows the trailer.
func (a *archiveReader) end() error {
	h, err := a.peek()
	if err != nil {
		return err
	}
	if h != nil {
		return fmt.Errorf("%w: unexpected entry %s after the trailer", ErrArchive, h.Name)
	}
	return nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
