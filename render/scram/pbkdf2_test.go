package scram

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha256"
	"strings"
	"testing"
)

// TestSaltedPasswordMatchesPBKDF2: the same bytes as crypto/pbkdf2 for keys
// shorter than, equal to and longer than the SHA-256 block (those are hashed
// first), salts of every length around the block boundaries and iteration
// counts from 1 up.
func TestSaltedPasswordMatchesPBKDF2(t *testing.T) {
	passwords := []string{"p", "pencil", "DBUser.DBA", strings.Repeat("x", 63), strings.Repeat("y", 64),
		strings.Repeat("z", 65), strings.Repeat("long password ", 40), "pässwörd", "\x00\xff\x01"}
	salts := [][]byte{{1}, []byte("W22ZaJ0SNY7soEsU"), bytes.Repeat([]byte{0xa5}, 51), bytes.Repeat([]byte{7}, 52),
		bytes.Repeat([]byte{8}, 55), bytes.Repeat([]byte{9}, 56), bytes.Repeat([]byte{3}, 64), bytes.Repeat([]byte{4}, 200)}
	for _, p := range passwords {
		for _, s := range salts {
			for _, n := range []int{1, 2, 3, 17, 4096} {
				want, err := pbkdf2.Key(sha256.New, p, s, n, 32)
				if err != nil {
					t.Fatal(err)
				}
				got, err := saltedPassword(p, s, n)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("saltedPassword(len %d, salt len %d, %d) = %x, want %x", len(p), len(s), n, got, want)
				}
			}
		}
	}
}

// BenchmarkSaltedPassword compares with crypto/pbkdf2 (the 4096 iterations
// of a PostgreSQL verifier).
func BenchmarkSaltedPassword(b *testing.B) {
	salt := []byte("0123456789abcdef")
	b.Run("scram", func(b *testing.B) {
		for b.Loop() {
			if _, err := saltedPassword("DBUser.Viewer", salt, 4096); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("crypto-pbkdf2", func(b *testing.B) {
		for b.Loop() {
			if _, err := pbkdf2.Key(sha256.New, "DBUser.Viewer", salt, 4096, 32); err != nil {
				b.Fatal(err)
			}
		}
	})
}
