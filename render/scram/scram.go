// Package scram computes SCRAM-SHA-256 password verifiers exactly as PostgreSQL
// stores them in pg_authid.rolpassword (RFC 5802, RFC 7677; PostgreSQL
// src/common/scram-common.c scram_build_secret, src/backend/libpq/auth-scram.c):
//
//	SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
//
// pgcc writes verifiers instead of plaintext (README "Secrets"). Verifiers are
// salted with random bytes; Check lets the build reuse an existing verifier that
// still matches the plaintext so an unchanged inventory rebuilds byte-identically.
//
// The password is normalized with SASLprep the way PostgreSQL does it (see prep.go):
// exact for ASCII passwords, for invalid UTF-8 and for prohibited characters (both
// fall back to the raw bytes, like PostgreSQL), and for a documented set of non-ASCII
// characters; other non-ASCII passwords are refused with ErrUnsupportedPassword
// because computing their NFKC form needs Unicode tables the standard library lacks.
//
// Standard library only. Errors never contain the password.
package scram

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

const (
	// DefaultIterations is PostgreSQL's scram_iterations default (4096, SCRAM_DEFAULT_ITERATIONS).
	DefaultIterations = 4096
	// DefaultSaltLen is PostgreSQL's SCRAM_DEFAULT_SALT_LEN (16 bytes).
	DefaultSaltLen = 16
	// MaxPasswordLen is PostgreSQL's MAX_PASSWORD_LENGTH in saslprep.c: longer
	// passwords make the server fail with "password too long" and libpq fail the login.
	MaxPasswordLen = 1024

	keyLen = sha256.Size
	prefix = "SCRAM-SHA-256$"
)

// Errors; callers branch with errors.Is. None of them carries the password.
var (
	ErrEmptyPassword       = errors.New("scram: empty password")
	ErrPasswordTooLong     = fmt.Errorf("scram: password longer than %d bytes", MaxPasswordLen)
	ErrUnsupportedPassword = errors.New("scram: password has non-ASCII characters whose SASLprep form pgcc cannot compute; give a SCRAM-SHA-256 verifier instead")
	ErrBadSalt             = errors.New("scram: empty salt")
	ErrBadIterations       = errors.New("scram: iterations must be positive")
)

// Verifier returns the verifier for password with the given salt and iteration count.
func Verifier(password string, salt []byte, iterations int) (string, error) {
	if len(salt) == 0 {
		return "", ErrBadSalt
	}
	if iterations <= 0 {
		return "", ErrBadIterations
	}
	prepped, err := Prepare(password)
	if err != nil {
		return "", err
	}
	stored, server, err := keys(prepped, salt, iterations)
	if err != nil {
		return "", err
	}
	enc := base64.StdEncoding
	return prefix + strconv.Itoa(iterations) + ":" + enc.EncodeToString(salt) + "$" +
		enc.EncodeToString(stored) + ":" + enc.EncodeToString(server), nil
}

// New returns a verifier with a fresh 16-byte salt read from rand (crypto/rand.Reader
// in production) and 4096 iterations, as PostgreSQL's default.
func New(password string, rand io.Reader) (string, error) {
	salt := make([]byte, DefaultSaltLen)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", fmt.Errorf("scram: reading salt: %w", err)
	}
	return Verifier(password, salt, DefaultIterations)
}

// keys computes StoredKey and ServerKey (RFC 5802 §3).
func keys(password string, salt []byte, iterations int) (stored, server []byte, err error) {
	salted, err := saltedPassword(password, salt, iterations)
	if err != nil {
		return nil, nil, fmt.Errorf("scram: pbkdf2: %w", err)
	}
	clientKey := mac(salted, "Client Key")
	s := sha256.Sum256(clientKey)
	return s[:], mac(salted, "Server Key"), nil
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// Parsed is a decoded verifier.
type Parsed struct {
	Iterations int
	Salt       []byte
	StoredKey  []byte
	ServerKey  []byte
}

// Parse decodes a verifier. It is stricter than PostgreSQL's parse_scram_secret
// (which tokenizes with strtok and tolerates blanks in base64): exactly
// "SCRAM-SHA-256$" digits ":" base64 "$" base64 ":" base64, iterations > 0, a
// non-empty salt and 32-byte keys, canonical padded base64 as PostgreSQL writes it.
func Parse(v string) (Parsed, error) {
	bad := func(what string) (Parsed, error) {
		return Parsed{}, fmt.Errorf("scram: not a SCRAM-SHA-256 verifier: %s", what)
	}
	rest, ok := strings.CutPrefix(v, prefix)
	if !ok {
		return bad("missing SCRAM-SHA-256$ prefix")
	}
	iterStr, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return bad("missing ':' after iterations")
	}
	saltStr, keysStr, ok := strings.Cut(rest, "$")
	if !ok {
		return bad("missing '$' after salt")
	}
	storedStr, serverStr, ok := strings.Cut(keysStr, ":")
	if !ok {
		return bad("missing ':' between keys")
	}
	if iterStr == "" || len(iterStr) > 9 || strings.Trim(iterStr, "0123456789") != "" {
		return bad("bad iteration count")
	}
	iter, _ := strconv.Atoi(iterStr)
	if iter <= 0 {
		return bad("bad iteration count")
	}
	var p Parsed
	p.Iterations = iter
	var err error
	if p.Salt, err = b64(saltStr); err != nil || len(p.Salt) == 0 {
		return bad("bad salt")
	}
	if p.StoredKey, err = b64(storedStr); err != nil || len(p.StoredKey) != keyLen {
		return bad("bad stored key")
	}
	if p.ServerKey, err = b64(serverStr); err != nil || len(p.ServerKey) != keyLen {
		return bad("bad server key")
	}
	return p, nil
}

func b64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	if base64.StdEncoding.EncodeToString(b) != s { // no newlines or other non-canonical forms
		return nil, errors.New("non-canonical base64")
	}
	return b, nil
}

// IsVerifier reports whether s is a SCRAM-SHA-256 verifier (see Parse).
func IsVerifier(s string) bool {
	_, err := Parse(s)
	return err == nil
}

// LooksLikeVerifier reports whether s starts with the SCRAM-SHA-256$ prefix; a value
// that does but fails IsVerifier is probably a damaged verifier rather than a
// plaintext password, and callers should report it instead of hashing it.
func LooksLikeVerifier(s string) bool { return strings.HasPrefix(s, prefix) }

// IsMD5 reports whether s is an MD5 password hash as PostgreSQL recognizes it
// (get_password_type: "md5" followed by 32 lower-case hex digits).
func IsMD5(s string) bool {
	if len(s) != 35 || !strings.HasPrefix(s, "md5") {
		return false
	}
	for i := 3; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Check reports whether verifier validates against password, i.e. a client logging
// in with password would be accepted. False for anything that is not a verifier
// and for passwords Prepare refuses.
func Check(verifier, password string) bool {
	p, err := Parse(verifier)
	if err != nil {
		return false
	}
	prepped, err := Prepare(password)
	if err != nil {
		return false
	}
	stored, server, err := keys(prepped, p.Salt, p.Iterations)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(stored, p.StoredKey) == 1 &&
		subtle.ConstantTimeCompare(server, p.ServerKey) == 1
}
