package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// CertFiles are PEM files of the test PKI written into one directory. Private keys
// are mode 0600 and owned by the daemon user (PostgreSQL refuses a key readable by
// others: "private key file has group or world access").
type CertFiles struct {
	Dir        string
	CACert     string // ca.crt
	ServerCert string // server.crt: SANs localhost, ::1 and 127.0.0.1 plus extra IPs
	ServerKey  string // server.key
	ClientCert string // client.crt (CN "client"), for etcd clients
	ClientKey  string // client.key
	CAPEM      []byte
}

type pki struct {
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caPEM  []byte
	serial int64

	mu     sync.Mutex
	leaves map[string][2][]byte // key: sorted SANs + usage → cert PEM, key PEM
}

var (
	pkiOnce sync.Once
	thePKI  *pki
	pkiErr  error
)

// The CA is made once per test binary (testing.md §3); leaf certificates are cached
// per SAN set.
func getPKI() (*pki, error) {
	pkiOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			pkiErr = err
			return
		}
		now := time.Now()
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "pgcc test CA"},
			NotBefore:             now.Add(-time.Hour),
			NotAfter:              now.Add(7 * 24 * time.Hour),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			pkiErr = err
			return
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			pkiErr = err
			return
		}
		thePKI = &pki{caCert: cert, caKey: key, serial: 1, leaves: map[string][2][]byte{},
			caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
	})
	return thePKI, pkiErr
}

func (p *pki) leaf(cn string, ips []string, usage []x509.ExtKeyUsage) (certPEM, keyPEM []byte, err error) {
	sorted := append([]string(nil), ips...)
	sort.Strings(sorted)
	cacheKey := fmt.Sprintf("%s|%s|%v", cn, strings.Join(sorted, ","), usage)
	p.mu.Lock()
	defer p.mu.Unlock()
	if l, ok := p.leaves[cacheKey]; ok {
		return l[0], l[1], nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	p.serial++
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  usage,
		DNSNames:     []string{"localhost"},
	}
	seen := map[string]bool{}
	for _, s := range append([]string{"127.0.0.1", "::1"}, sorted...) {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, nil, fmt.Errorf("certificate SAN %q is not an IP address", s)
		}
		if !seen[ip.String()] {
			seen[ip.String()] = true
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	p.leaves[cacheKey] = [2][]byte{certPEM, keyPEM}
	return certPEM, keyPEM, nil
}

// Certs writes the test CA, a server certificate (SANs: localhost, 127.0.0.1, ::1
// and extraIPs, e.g. an HA test's 127.A.B.11–13; usable for client auth too) and a
// client certificate into dir/certs. The CA and keys are generated once per test
// binary. dir is usually a TempDir.
func Certs(t testing.TB, dir string, extraIPs ...string) *CertFiles {
	t.Helper()
	p, err := getPKI()
	if err != nil {
		t.Fatalf("test CA: %v", err)
	}
	srvCert, srvKey, err := p.leaf("server", extraIPs, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth})
	if err != nil {
		t.Fatalf("server certificate: %v", err)
	}
	cliCert, cliKey, err := p.leaf("client", nil, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	if err != nil {
		t.Fatalf("client certificate: %v", err)
	}
	cd := filepath.Join(dir, "certs")
	MkdirDaemon(t, cd, 0o755)
	f := &CertFiles{Dir: cd, CAPEM: p.caPEM,
		CACert: filepath.Join(cd, "ca.crt"), ServerCert: filepath.Join(cd, "server.crt"),
		ServerKey: filepath.Join(cd, "server.key"), ClientCert: filepath.Join(cd, "client.crt"),
		ClientKey: filepath.Join(cd, "client.key")}
	WriteDaemonFile(t, f.CACert, p.caPEM, 0o644)
	WriteDaemonFile(t, f.ServerCert, srvCert, 0o644)
	WriteDaemonFile(t, f.ServerKey, srvKey, 0o600)
	WriteDaemonFile(t, f.ClientCert, cliCert, 0o644)
	WriteDaemonFile(t, f.ClientKey, cliKey, 0o600)
	return f
}

// CAPool returns the test CA as a pool for TLS clients.
func CAPool(t testing.TB) *x509.CertPool {
	t.Helper()
	p, err := getPKI()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.caCert)
	return pool
}
