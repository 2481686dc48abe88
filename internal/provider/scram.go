package provider

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/secure/precis"
)

// scramIterations matches PostgreSQL's default scram_iterations.
const scramIterations = 4096

// scramPassword normalises a password the way clients do before SCRAM
// (SASLprep, approximated by PRECIS OpaqueString as pgx does). Passwords that
// normalisation rejects are used as they are, like PostgreSQL does.
func scramPassword(password string) []byte {
	if n, err := precis.OpaqueString.String(password); err == nil {
		return []byte(n)
	}
	return []byte(password)
}

func scramKeys(password string, salt []byte, iterations int) (storedKey, serverKey []byte, err error) {
	salted, err := pbkdf2.Key(sha256.New, string(scramPassword(password)), salt, iterations, sha256.Size)
	if err != nil {
		return nil, nil, err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	sum := sha256.Sum256(clientKey)
	return sum[:], mac(salted, "Server Key"), nil
}

// scramVerifier computes the SCRAM-SHA-256 verifier PostgreSQL stores for
// password, so the clear password never reaches the server (nor its logs).
func scramVerifier(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	stored, server, err := scramKeys(password, salt, scramIterations)
	if err != nil {
		return "", err
	}
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", scramIterations, b64(salt), b64(stored), b64(server)), nil
}

// scramMatches reports whether verifier (as in pg_authid.rolpassword) was
// made from password.
func scramMatches(verifier, password string) bool {
	rest, ok := strings.CutPrefix(verifier, "SCRAM-SHA-256$")
	if !ok {
		return false
	}
	params, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return false
	}
	iterStr, saltB64, ok := strings.Cut(params, ":")
	if !ok {
		return false
	}
	storedB64, _, ok := strings.Cut(keys, ":")
	if !ok {
		return false
	}
	iterations, err := strconv.Atoi(iterStr)
	if err != nil || iterations <= 0 {
		return false
	}
	salt, err := base64.StdEncoding.DecodeString(saltB64)
	if err != nil {
		return false
	}
	want, err := base64.StdEncoding.DecodeString(storedB64)
	if err != nil {
		return false
	}
	got, _, err := scramKeys(password, salt, iterations)
	return err == nil && hmac.Equal(got, want)
}

// sqlLiteral quotes s as a standard SQL string literal. It is used only for
// the one value PostgreSQL cannot take as a bind parameter: the SCRAM
// verifier in CREATE/ALTER ROLE ... PASSWORD, whose alphabet (base64, "$",
// ":" and "-") holds no quote; doubling quotes keeps it safe regardless.
func sqlLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
