package speke

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// SPEKE v2.0 HTTP protocol constants.
const (
	// Version is the SPEKE version both sides send in HeaderVersion; it
	// goes with CPIX@version 2.3 (cpix.Version).
	Version = "2.0"
	// HeaderVersion carries the SPEKE version on requests and responses.
	HeaderVersion = "X-Speke-Version"
	// HeaderUserAgent identifies the key provider in its responses (SPEKE
	// v1 called it Speke-User-Agent; v2 renamed it).
	HeaderUserAgent = "X-Speke-User-Agent"
	// HeaderUserAgentV1 is the SPEKE v1 name of HeaderUserAgent, still
	// read by Client from providers that send it.
	HeaderUserAgentV1 = "Speke-User-Agent"
	// ContentType is the media type of CPIX documents on the wire.
	ContentType = "application/xml"
)

// Errors callers branch on.
var (
	// ErrVersion: the other side does not speak SPEKE v2.0 (missing or
	// different X-Speke-Version, or CPIX@version not 2.3).
	ErrVersion = errors.New("speke: unsupported SPEKE version")
	// ErrTooLarge: a request or response body exceeds its size limit.
	ErrTooLarge = errors.New("speke: document too large")
	// ErrInvalidResponse: the key provider's answer is not a usable
	// response to the request (invalid CPIX, a key or signaling value
	// missing or malformed, another scheme or content ID).
	ErrInvalidResponse = errors.New("speke: invalid response")
	// ErrInvalidRequest: Fetch was given a Request it cannot send.
	ErrInvalidRequest = errors.New("speke: invalid request")
	// ErrKeyRefused is what a KeySource returns (wrapped) when it will not
	// issue a key for this content ID and KID (unknown content, a KID that
	// belongs to other content...). The provider answers 403.
	ErrKeyRefused = errors.New("speke: key refused")
)

// HTTPError is a key provider's answer with a status other than 200.
type HTTPError struct {
	StatusCode int
	// Body is the start of the response body (at most 512 bytes,
	// control characters replaced), usually the provider's reason.
	Body string
}

// Error returns "speke: key provider answered 400 Bad Request: <body>".
func (e *HTTPError) Error() string {
	s := fmt.Sprintf("speke: key provider answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// isXML reports whether a Content-Type header names an XML media type
// with no charset or charset UTF-8.
func isXML(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	if mt != "application/xml" && mt != "text/xml" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

// excerpt returns the start of b as printable text for error messages.
func excerpt(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	s := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(string(b), "?"))
	return strings.TrimSpace(s)
}
