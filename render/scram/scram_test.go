package scram

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// Verifiers computed by PostgreSQL 15.20 (SET password_encryption = 'scram-sha-256';
// CREATE ROLE v PASSWORD '…'; SELECT rolpassword FROM pg_authid).
var pgVectors = []struct{ password, verifier string }{
	{"pencil", "SCRAM-SHA-256$4096:oztm5Xr1d9q14A5OuFHq/g==$ARurmRhwXycpm6JyN0yKRGtSXVU81qwfwjOcgDcdZXs=:2xKLpFJSA+H7Gj3awoMBpftGRX1K/9qjOLq7HIyg5EQ="},
	{"DBUser.DBA", "SCRAM-SHA-256$4096:/UDohoDnBhv5rlxV5Iec2Q==$MBZ2Ot3b/jw9keFe+U6A+7RJmDD7EqNFUF4YqrTGtMk=:B9WEkxCIqEkCMEKsDP9LnNLWHLM+adCFOneliRZafmg="},
	{"pässwörd", "SCRAM-SHA-256$4096:b7CRvVI2zlRrdAYlzbDn7w==$t30B8u7VyX2Vn9ZaOLw5EjV+xm3Cv22gfphIoSX6l2g=:rovogPAsp4mS4lMjT5i/xsueZquUKpsVaxMu8hKkqxA="},
}

func TestPostgresVectors(t *testing.T) {
	for _, v := range pgVectors {
		p, err := Parse(v.verifier)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		got, err := Verifier(v.password, p.Salt, p.Iterations)
		if err != nil {
			t.Fatal(err)
		}
		if got != v.verifier {
			t.Errorf("Verifier(%q) = %s\nwant %s", v.password, got, v.verifier)
		}
		if !Check(v.verifier, v.password) {
			t.Errorf("Check(%q) = false", v.password)
		}
		if Check(v.verifier, v.password+"x") {
			t.Errorf("Check(%q+x) = true", v.password)
		}
	}
}

// RFC 7677 §3 example exchange: user "user", password "pencil", salt
// W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations. The verifier must let a server check
// the RFC's ClientProof and produce the RFC's ServerSignature, exactly as
// PostgreSQL's auth-scram.c does with the stored keys.
func TestRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	got, err := Verifier("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	want := "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	p, _ := Parse(got)
	authMessage := "n=user,r=rOprNGfwEbeRWgbNEkqO," +
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	proof, _ := base64.StdEncoding.DecodeString("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
	clientSig := mac(p.StoredKey, authMessage)
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ clientSig[i]
	}
	if h := sha256.Sum256(clientKey); !bytes.Equal(h[:], p.StoredKey) {
		t.Error("RFC 7677 ClientProof rejected by StoredKey")
	}
	if sig := base64.StdEncoding.EncodeToString(mac(p.ServerKey, authMessage)); sig != "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" {
		t.Errorf("ServerSignature %s", sig)
	}
}

func TestNew(t *testing.T) {
	r := bytes.NewReader(bytes.Repeat([]byte{7}, 16))
	v, err := New("pencil", r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "SCRAM-SHA-256$4096:BwcHBwcHBwcHBwcHBwcHBw==$") {
		t.Errorf("New = %s", v)
	}
	if !Check(v, "pencil") || !IsVerifier(v) {
		t.Errorf("New verifier does not check")
	}
	if _, err := New("pencil", bytes.NewReader([]byte{1, 2})); err == nil {
		t.Error("short rand accepted")
	}
	if _, err := New("", bytes.NewReader(make([]byte, 16))); !errors.Is(err, ErrEmptyPassword) {
		t.Errorf("empty password: %v", err)
	}
	if _, err := Verifier("x", nil, 4096); !errors.Is(err, ErrBadSalt) {
		t.Errorf("nil salt: %v", err)
	}
	if _, err := Verifier("x", []byte{1}, 0); !errors.Is(err, ErrBadIterations) {
		t.Errorf("0 iterations: %v", err)
	}
	if _, err := Verifier(strings.Repeat("x", 1025), []byte{1}, 1); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("long password: %v", err)
	}
	if _, err := Verifier(strings.Repeat("x", 1024), []byte{1}, 1); err != nil {
		t.Errorf("1024-byte password: %v", err)
	}
}

func TestIsVerifier(t *testing.T) {
	good := pgVectors[0].verifier
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{good, true},
		{"SCRAM-SHA-256$1:AA==$ARurmRhwXycpm6JyN0yKRGtSXVU81qwfwjOcgDcdZXs=:2xKLpFJSA+H7Gj3awoMBpftGRX1K/9qjOLq7HIyg5EQ=", true},
		{"", false},
		{"pencil", false},
		{strings.Replace(good, "SCRAM-SHA-256", "SCRAM-SHA-1", 1), false},
		{strings.Replace(good, "4096", "0", 1), false},
		{strings.Replace(good, "4096", "-1", 1), false},
		{strings.Replace(good, "4096", "x", 1), false},
		{strings.Replace(good, "4096:", "4096", 1), false},
		{good[:len(good)-4], false},
		{good + "\n", false},
		{good + "AA==", false},
		{strings.Replace(good, "==$", "=$", 1), false},
		{"SCRAM-SHA-256$4096:$ARurmRhwXycpm6JyN0yKRGtSXVU81qwfwjOcgDcdZXs=:2xKLpFJSA+H7Gj3awoMBpftGRX1K/9qjOLq7HIyg5EQ=", false},
		{"md5e5e28b8e6ba1d5f8c8d8c19a82b3a4f1", false},
	} {
		if got := IsVerifier(tc.in); got != tc.want {
			t.Errorf("IsVerifier(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if !LooksLikeVerifier(good[:30]) || LooksLikeVerifier("md5") {
		t.Error("LooksLikeVerifier")
	}
	if Check("md5e5e28b8e6ba1d5f8c8d8c19a82b3a4f1", "x") || Check(good, "") {
		t.Error("Check accepted a non-verifier or an empty password")
	}
}

func TestIsMD5(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"md5e5e28b8e6ba1d5f8c8d8c19a82b3a4f1", true},
		{"md500000000000000000000000000000000", true},
		{"md5E5E28B8E6BA1D5F8C8D8C19A82B3A4F1", false},
		{"MD5e5e28b8e6ba1d5f8c8d8c19a82b3a4f1", false},
		{"md5e5e28b8e6ba1d5f8c8d8c19a82b3a4f", false},
		{"md5e5e28b8e6ba1d5f8c8d8c19a82b3a4f11", false},
		{"md5e5e28b8e6ba1d5f8c8d8c19a82b3a4fg", false},
		{"md5", false},
	} {
		if got := IsMD5(tc.in); got != tc.want {
			t.Errorf("IsMD5(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestPrepare(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"pencil", "pencil", nil},
		{"tab\there\x01\x7f", "tab\there\x01\x7f", nil}, // ASCII: untouched, controls included
		{"\xff\xfe", "\xff\xfe", nil},                   // invalid UTF-8: raw
		{"pässwörd", "pässwörd", nil},
		{"a\u00a0b", "a b", nil},  // non-ASCII space → space
		{"a\u3000b", "a b", nil},  // ideographic space
		{"a\u200bb", "a b", nil},  // U+200B in C.1.2 and B.1: PostgreSQL maps it to space
		{"I\u00adX", "IX", nil},   // soft hyphen → nothing (RFC 4013 §3 example)
		{"\u00ad", "\u00ad", nil}, // empty after mapping: raw
		{"\u00aa", "a", nil},      // RFC 4013 §3 example: ª → a
		{"x\u00b2\u00bd\u017f", "x21\u20442s", nil},
		{"\u00b5", "\u03bc", nil},
		{"é\t", "é\t", nil},                   // prohibited (C.2.1) after the ASCII fast path: raw
		{"é\u0085", "é\u0085", nil},           // C.2.2: raw
		{"\ue000", "\ue000", nil},             // private use: raw
		{"\u4e2d\u0007", "\u4e2d\u0007", nil}, // prohibited wins over unsupported
		{"пароль", "пароль", nil},
		{"αβγ", "αβγ", nil},
		{"\u4e2d\u6587", "", ErrUnsupportedPassword},
		{"\u2168", "", ErrUnsupportedPassword},  // Ⅸ (NFKC → IX): not implemented
		{"e\u0301", "", ErrUnsupportedPassword}, // combining mark: NFKC composes it
		{"", "", ErrEmptyPassword},
	} {
		got, err := Prepare(tc.in)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("Prepare(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestErrorsHaveNoPassword(t *testing.T) {
	const secret = "\u4e2dSecretPW"
	_, err := Verifier(secret, []byte{1}, 1)
	if err == nil || strings.Contains(err.Error(), "SecretPW") {
		t.Errorf("error %v", err)
	}
}

func FuzzVerifier(f *testing.F) {
	f.Add("pencil", []byte("salt"), "pencil")
	f.Add("pässwörd", []byte{0}, "passwort")
	f.Add("\xff", []byte{1, 2, 3}, "\xfe")
	f.Fuzz(func(t *testing.T, pw string, salt []byte, other string) {
		v, err := Verifier(pw, salt, 2)
		if err != nil {
			return
		}
		p, err := Parse(v)
		if err != nil {
			t.Fatalf("own verifier %q does not parse: %v", v, err)
		}
		if !bytes.Equal(p.Salt, salt) || p.Iterations != 2 {
			t.Fatalf("round trip: %+v", p)
		}
		if !Check(v, pw) {
			t.Fatalf("Check(%q) false", pw)
		}
		po, err1 := Prepare(other)
		pp, _ := Prepare(pw)
		if err1 == nil && po != pp && Check(v, other) {
			t.Fatalf("Check(%q) true for verifier of %q", other, pw)
		}
		if strings.ContainsAny(v, "\n\r\"' \x00") {
			t.Fatalf("verifier %q has characters that need quoting", v)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add(pgVectors[0].verifier)
	f.Add("SCRAM-SHA-256$1:AA==$:")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		enc := base64.StdEncoding
		re := "SCRAM-SHA-256$" + itoa(p.Iterations) + ":" + enc.EncodeToString(p.Salt) + "$" +
			enc.EncodeToString(p.StoredKey) + ":" + enc.EncodeToString(p.ServerKey)
		if re != s {
			t.Fatalf("Parse accepted non-canonical %q (canonical %q)", s, re)
		}
	})
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

// BenchmarkNew: one verifier (PBKDF2-SHA-256, 4096 rounds); a build computes one per
// new password and one Check per reused verifier.
func BenchmarkNew(b *testing.B) {
	r := bytes.NewReader(make([]byte, 16*b.N+16))
	for i := 0; i < b.N; i++ {
		if _, err := New("DBUser.Viewer", r); err != nil {
			b.Fatal(err)
		}
	}
}
