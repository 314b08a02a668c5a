package signing

import (
	"encoding/base64"
	"strings"
)

// Token grammar (see the package doc):
//
//	token     = policy "." signature "." kid
//	policy    = base64url(policy JSON)      ; RFC 4648 section 5, no padding
//	signature = base64url(Ed25519 signature) ; 64 bytes: 86 characters
//	kid       = 1*32( ALPHA / DIGIT / "-" / "_" )
//
// The signature is Ed25519 (RFC 8032, pure, no context) over
// signedPrefix + kid + "\n" + policy JSON.
const (
	// signedPrefix starts every signed message: it separates onair
	// signatures from anything else the key might sign and versions the
	// format.
	signedPrefix = "onair-signing-v1\n"
	// maxKid is the longest key ID.
	maxKid = 32
	// sigLen is the length of an encoded signature.
	sigLen = 86
	// maxMessage bounds a signed message.
	maxMessage = len(signedPrefix) + maxKid + 1 + MaxPolicySize
)

// b64 is the token's base64 alphabet, strict about the unused bits of the
// last character so every byte string has exactly one encoding. It is
// never modified.
var b64 = base64.RawURLEncoding.Strict()

// tokenByte reports whether c may appear in a token: the base64url
// alphabet (also the kid alphabet) and the '.' separator. Checking this
// first also rules out the CR and LF the base64 decoder would skip.
func tokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
}

// ValidKid reports whether kid is a valid key ID: 1 to 32 characters of
// A-Z a-z 0-9 '-' '_'.
func ValidKid(kid string) bool {
	if len(kid) == 0 || len(kid) > maxKid {
		return false
	}
	for i := 0; i < len(kid); i++ {
		if c := kid[i]; c == '.' || !tokenByte(c) {
			return false
		}
	}
	return true
}

// appendMessage appends the signed message for kid and policy JSON.
func appendMessage(b []byte, kid string, policy []byte) []byte {
	b = append(b, signedPrefix...)
	b = append(b, kid...)
	b = append(b, '\n')
	return append(b, policy...)
}

// tokenParts is a token split into its three fields, still encoded.
type tokenParts struct {
	policy, sig, kid string
}

// splitToken checks a token's size, alphabet and shape and splits it.
// It does not decode.
func splitToken(tok string) (tokenParts, bool) {
	if len(tok) > MaxTokenSize {
		return tokenParts{}, false
	}
	for i := 0; i < len(tok); i++ {
		if !tokenByte(tok[i]) {
			return tokenParts{}, false
		}
	}
	policy, rest, ok1 := strings.Cut(tok, ".")
	sig, kid, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || len(sig) != sigLen || !ValidKid(kid) ||
		policy == "" || b64.DecodedLen(len(policy)) > MaxPolicySize {
		return tokenParts{}, false
	}
	return tokenParts{policy: policy, sig: sig, kid: kid}, true
}

// decodeToken decodes the parts of a split token: the signature into sig
// and the signed message into msg (which must have room for maxMessage
// bytes), returning the message's length and where the policy JSON
// starts in it. The encoded text is copied to stack buffers first, so
// decoding does not allocate.
func decodeToken(t tokenParts, sig *[64]byte, msg []byte) (n, policyAt int, ok bool) {
	var src [MaxTokenSize]byte
	s := src[:copy(src[:], t.sig)]
	if k, err := b64.Decode(sig[:], s); err != nil || k != len(sig) {
		return 0, 0, false
	}
	m := appendMessage(msg[:0], t.kid, nil)
	policyAt = len(m)
	s = src[:copy(src[:], t.policy)]
	k, err := b64.Decode(msg[policyAt:policyAt+b64.DecodedLen(len(s))], s)
	if err != nil || k == 0 {
		return 0, 0, false
	}
	return policyAt + k, policyAt, true
}
