package signing

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// A token verified once is remembered, but expiry, address and path are
// checked again on every request.
func TestVerifiedTokenRechecked(t *testing.T) {
	s := testSigner(t, "k1", 1)
	now := testNow
	v, err := NewVerifier(VerifierConfig{Keys: testKeySet(t, s), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	p := newsPolicy()
	p.IP = netip.MustParsePrefix("192.0.2.0/24")
	tok := mustSign(t, s, p)
	check := func(target, remote string, want error) {
		t.Helper()
		_, err := v.Verify(request(target+"?onair_token="+tok, remote, nil))
		if (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
			t.Errorf("%s from %s: %v, want %v", target, remote, err, want)
		}
	}
	check("/live/news/1.m4s", "192.0.2.1:1", nil)
	check("/live/news/2.m4s", "192.0.2.1:1", nil) // from the cache
	check("/live/other/1.m4s", "192.0.2.1:1", ErrWrongResource)
	check("/live/news/3.m4s", "198.51.100.1:1", ErrWrongIP)
	now = p.Expires.Add(time.Second)
	check("/live/news/4.m4s", "192.0.2.1:1", ErrExpired)
}

// The cache stays bounded.
func TestVerifiedCacheBounded(t *testing.T) {
	var c verifiedCache
	ks := &KeySet{}
	for i := range maxVerified + 10 {
		c.put(ks, string(rune(i)), verifiedToken{})
	}
	if n := len(c.m); n > maxVerified {
		t.Fatalf("%d entries", n)
	}
	if _, ok := c.get(&KeySet{}, string(rune(maxVerified+9))); ok {
		t.Fatal("an entry survived a new key set")
	}
}
