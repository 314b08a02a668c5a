package signing

import "net/http"

// Source is where Verify found the token it accepted.
type Source string

// Token sources.
const (
	SourceQuery  Source = "query"  // the ParamName URL parameter
	SourceCookie Source = "cookie" // a CookieName cookie
)

// Claims is what an accepted token granted, and how it came.
type Claims struct {
	Policy        // as signed: whole seconds, UTC
	Kid    string // the key that verified it
	Source Source
	Token  string // the token itself, e.g. to hand it back as a cookie
}

// Cookie returns a cookie carrying the accepted token, with the
// attributes Signer.Cookie would give it. An edge that accepted a token
// from the URL can set it, so that the player's later requests (relative
// URIs in playlists lose the query) carry the token as a cookie.
func (c Claims) Cookie(o CookieOptions) *http.Cookie {
	return tokenCookie(c.Token, c.Policy, o)
}
