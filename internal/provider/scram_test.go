package provider

import (
	"regexp"
	"testing"
)

func TestSCRAMVerifier(t *testing.T) {
	for _, pw := range []string{"simple", `'; DROP ROLE x; -- "\$$`, "pässwörd 🔐", " spaced "} {
		v, err := scramVerifier(pw)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$`).MatchString(v) {
			t.Fatalf("verifier %q is not in PostgreSQL's format", v)
		}
		if !scramMatches(v, pw) {
			t.Fatalf("verifier of %q does not match it", pw)
		}
		if scramMatches(v, pw+"x") {
			t.Fatalf("verifier of %q matches another password", pw)
		}
		if again, _ := scramVerifier(pw); again == v {
			t.Fatal("two verifiers share a salt")
		}
	}
	// A verifier PostgreSQL 15 made for "postgres" (CREATE ROLE ... PASSWORD 'postgres').
	const pg = "SCRAM-SHA-256$4096:VsWbjPFwAYVVRNzf8ZS2eQ==$/0N/E8QqQKseirir/1vRBtQTePbttpHi7k6Tpf+oQAM=:4w9lXzOHgLCrhFs01UmMKv/UhdRlFMhWnnVFkIpubjg="
	if !scramMatches(pg, "postgres") || scramMatches(pg, "Postgres") {
		t.Fatal("scramMatches disagrees with PostgreSQL's own verifier")
	}
	for _, bad := range []string{"", "md5abc", "SCRAM-SHA-256$x:y$z:w", "SCRAM-SHA-256$4096:!!$a:b"} {
		if scramMatches(bad, "pw") {
			t.Fatalf("scramMatches(%q) accepted a malformed verifier", bad)
		}
	}
	if got := sqlLiteral("a'b"); got != "'a''b'" {
		t.Fatalf("sqlLiteral = %s", got)
	}
}
