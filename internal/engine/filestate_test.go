package engine

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPulumiBackendURL(t *testing.T) {
	cases := map[string]string{
		"file:///s":                   "file:///s?metadata=skip",
		"file:///s?no_tmp_dir=true":   "file:///s?metadata=skip&no_tmp_dir=true",
		"file:///s?metadata=":         "file:///s?metadata=",
		"s3://bucket/prefix?region=x": "s3://bucket/prefix?region=x",
		"https://api.pulumi.com":      "https://api.pulumi.com",
	}
	for in, want := range cases {
		if got := pulumiBackendURL(in); got != want {
			t.Errorf("pulumiBackendURL(%q) = %q; want %q", in, got, want)
		}
	}
	if dir, ok := FileBackendDir("file:///a/b?metadata=skip"); !ok || dir != "/a/b" {
		t.Errorf("FileBackendDir = %q, %v", dir, ok)
	}
	if _, ok := FileBackendDir("s3://bucket"); ok {
		t.Error("FileBackendDir accepted an s3 URL")
	}
}

// A sidecar torn by a killed process (empty, or cut inside the JSON) is
// removed; a whole one and every other file stay; history is not walked.
func TestSweepSidecars(t *testing.T) {
	dir := t.TempDir()
	stacks := filepath.Join(dir, ".pulumi", "stacks", "tenant")
	history := filepath.Join(dir, ".pulumi", "history", "tenant", "acme")
	for _, d := range []string{stacks, history} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(stacks, "acme.json"):                  `{"version":3}`,
		filepath.Join(stacks, "acme.json.attrs"):            ``,
		filepath.Join(stacks, "globex.json"):                `{"version":3}`,
		filepath.Join(stacks, "globex.json.attrs"):          `{"user.content_type":"applica`,
		filepath.Join(stacks, "initech.json"):               `{"version":3}`,
		filepath.Join(stacks, "initech.json.attrs"):         `{"user.content_type":"application/octet-stream"}`,
		filepath.Join(history, "acme-1.history.json.attrs"): ``,
	}
	for p, body := range files {
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := sweepSidecars(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 {
		t.Errorf("removed %v; want the two torn sidecars of acme and globex", removed)
	}
	for p := range files {
		_, err := os.Stat(p)
		gone := os.IsNotExist(err)
		torn := p == filepath.Join(stacks, "acme.json.attrs") || p == filepath.Join(stacks, "globex.json.attrs")
		if gone != torn {
			t.Errorf("%s: removed=%v; want %v", p, gone, torn)
		}
	}
	if removed, err := sweepSidecars(t.TempDir()); err != nil || len(removed) != 0 {
		t.Errorf("an empty state directory: %v, %v", removed, err)
	}
}
