package signing

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestGenerateKeyFiles(t *testing.T) {
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub.pem")
	got, err := GenerateKeyFiles(priv, pub)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(priv); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("private key file mode: %v, %v; want 0600", st.Mode(), err)
	}
	key, err := LoadPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := LoadKeySet(map[string]string{"gen": pub})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(key.Public().(ed25519.PublicKey), got) {
		t.Error("the private key file does not match the returned public key")
	}
	s, err := NewSigner("gen", key)
	if err != nil {
		t.Fatal(err)
	}
	v := testVerifier(t, ks, 0)
	if _, err := v.Verify(request("/live/news/1.m4s?onair_token="+mustSign(t, s, newsPolicy()), "192.0.2.1:1", nil)); err != nil {
		t.Errorf("token from generated key: %v", err)
	}

	before, _ := os.ReadFile(priv)
	if _, err := GenerateKeyFiles(priv, filepath.Join(dir, "other.pem")); err == nil {
		t.Error("GenerateKeyFiles overwrote an existing private key")
	}
	if after, _ := os.ReadFile(priv); !bytes.Equal(before, after) {
		t.Error("the existing private key changed")
	}
	priv2 := filepath.Join(dir, "k2.pem")
	if _, err := GenerateKeyFiles(priv2, pub); err == nil {
		t.Error("GenerateKeyFiles overwrote an existing public key")
	}
	if _, err := os.Stat(priv2); !os.IsNotExist(err) {
		t.Errorf("a failed generation left its private key behind: %v", err)
	}
}

func TestLoadKeyErrors(t *testing.T) {
	dir := t.TempDir()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaPriv, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	rsaPub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	edPub, _ := MarshalPublicKeyPEM(testKey(1).Public().(ed25519.PublicKey))
	edPriv, _ := MarshalPrivateKeyPEM(testKey(1))
	files := map[string][]byte{
		"empty":   nil,
		"garbage": []byte("not a key"),
		"rsaPriv": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaPriv}),
		"rsaPub":  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPub}),
		"edPub":   edPub,
		"edPriv":  edPriv,
		"badDER":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		file   string
		public bool
		ok     bool
	}{
		{"edPriv", false, true},
		{"edPub", true, true},
		{"missing", false, false},
		{"missing", true, false},
		{"empty", false, false},
		{"garbage", true, false},
		{"rsaPriv", false, false},
		{"rsaPub", true, false},
		{"edPub", false, false}, // a public key where a private one is expected
		{"edPriv", true, false}, // and the other way round
		{"badDER", false, false},
	}
	for _, tc := range cases {
		path := filepath.Join(dir, tc.file)
		var err error
		if tc.public {
			_, err = LoadPublicKey(path)
		} else {
			_, err = LoadPrivateKey(path)
		}
		if (err == nil) != tc.ok {
			t.Errorf("load %s (public %v): %v, want ok %v", tc.file, tc.public, err, tc.ok)
		}
	}
	if _, err := LoadKeySet(map[string]string{"k": filepath.Join(dir, "rsaPub")}); err == nil {
		t.Error("LoadKeySet accepted an RSA key")
	}
}

// TestOpenSSLKeys checks interoperability with openssl: a private key
// from `openssl genpkey -algorithm ed25519` signs tokens that verify with
// the public key from `openssl pkey -pubout`, and a token signed by
// openssl itself (pkeyutl over the documented message) verifies.
func TestOpenSSLKeys(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl not installed: run scripts/setup.sh (Debian package openssl)")
	}
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "priv.pem"), filepath.Join(dir, "pub.pem")
	openssl := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	openssl("genpkey", "-algorithm", "ed25519", "-out", priv)
	openssl("pkey", "-in", priv, "-pubout", "-out", pub)

	key, err := LoadPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := LoadKeySet(map[string]string{"ossl": pub})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner("ossl", key)
	if err != nil {
		t.Fatal(err)
	}
	v := testVerifier(t, ks, 0)

	// A token signed by openssl: the documented message, pkeyutl -rawin.
	policy := fmt.Sprintf(`{"expires":%d,"resource":"/live/news/*"}`, testNow.Add(time.Hour).Unix())
	msgFile, sigFile := filepath.Join(dir, "msg"), filepath.Join(dir, "sig")
	if err := os.WriteFile(msgFile, appendMessage(nil, "ossl", []byte(policy)), 0o600); err != nil {
		t.Fatal(err)
	}
	openssl("pkeyutl", "-sign", "-rawin", "-inkey", priv, "-in", msgFile, "-out", sigFile)
	sig, err := os.ReadFile(sigFile)
	if err != nil {
		t.Fatal(err)
	}
	byOpenSSL := b64.EncodeToString([]byte(policy)) + "." + b64.EncodeToString(sig) + ".ossl"

	for name, tok := range map[string]string{
		"signed here":       mustSign(t, s, newsPolicy()),
		"signed by openssl": byOpenSSL,
	} {
		if _, err := v.Verify(request("/live/news/1.m4s?onair_token="+tok, "192.0.2.1:1", nil)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := mustSign(t, s, Policy{Resource: "/live/news/*", Expires: testNow.Add(time.Hour)}); got != byOpenSSL {
		t.Errorf("the signer and openssl made different tokens for one policy:\n%s\n%s", got, byOpenSSL)
	}
}
