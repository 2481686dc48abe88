package devplatform

import (
	"encoding/base64"
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestEnsureEncryptionConfig(t *testing.T) {
	l := layout{dir: t.TempDir()}
	if err := ensureEncryptionConfig(l); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(l.encryptionConfig())
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`secret: (\S+)`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("no key in\n%s", b)
	}
	key, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil || len(key) != 32 {
		t.Fatalf("key %q: %d bytes, %v; want 32", m[1], len(key), err)
	}
	for _, want := range []string{"kind: EncryptionConfiguration", "resources: [secrets]", "- secretbox:", "- identity: {}", "name: " + encryptionKeyName} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config lacks %q", want)
		}
	}
	// secretbox comes first: it is the one that writes.
	if strings.Index(string(b), "secretbox") > strings.Index(string(b), "identity") {
		t.Error("identity is listed before secretbox, so Secrets would be written in clear")
	}
	fi, err := os.Stat(l.encryptionConfig())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	// A second start keeps the key: a new one would make every stored
	// Secret unreadable.
	if err := ensureEncryptionConfig(l); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(l.encryptionConfig())
	if string(again) != string(b) {
		t.Error("the key changed on the second start")
	}
	// A file that is not ours is refused, not overwritten.
	if err := os.WriteFile(l.encryptionConfig(), []byte("kind: Something"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ensureEncryptionConfig(l); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Errorf("a foreign file: %v; want a refusal saying what to do", err)
	}
}
