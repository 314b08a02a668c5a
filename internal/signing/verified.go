package signing

import "sync"

// maxVerified bounds the tokens a Verifier remembers (about 4 MiB at the
// largest token size); the memory is cleared when it is full.
const maxVerified = 4096

// verifiedCache remembers tokens whose signature and policy checked out,
// by the whole token, for the key set they were checked with: a viewer's
// next request with the same token skips the Ed25519 check (~40 µs) and
// the policy parse. Time, address and path are still checked on every
// request. A new key set (SetKeys) empties it, so a removed key takes
// effect at once.
type verifiedCache struct {
	mu   sync.Mutex
	keys *KeySet
	m    map[string]verifiedToken
}

type verifiedToken struct {
	p   Policy
	kid string
}

func (c *verifiedCache) get(ks *KeySet, tok string) (verifiedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys != ks {
		return verifiedToken{}, false
	}
	t, ok := c.m[tok]
	return t, ok
}

func (c *verifiedCache) put(ks *KeySet, tok string, t verifiedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys != ks || len(c.m) >= maxVerified {
		c.keys, c.m = ks, make(map[string]verifiedToken, 64)
	}
	c.m[tok] = t
}
