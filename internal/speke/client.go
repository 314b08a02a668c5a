package speke

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"onair/internal/cpix"
)

// DefaultTimeout bounds a Fetch when Client.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Client asks a SPEKE v2.0 key provider for keys. Its fields must not
// change while Fetch runs; Fetch is safe for concurrent use.
type Client struct {
	// URL is the key provider's SPEKE v2 endpoint.
	URL string
	// HTTPClient sends the requests. Nil: a zero http.Client (default
	// transport, redirects followed).
	HTTPClient *http.Client
	// Header is added to every request, e.g. "Authorization: Bearer ..."
	// or a vendor's API key header.
	Header http.Header
	// MaxResponseBytes bounds the response body. 0: cpix.MaxDocumentSize.
	MaxResponseBytes int64
	// Timeout bounds each Fetch, on top of the caller's ctx. 0:
	// DefaultTimeout.
	Timeout time.Duration
}

// Response is a key provider's checked answer.
type Response struct {
	// Keys has one key per requested KID, in request order.
	Keys []Key
	// DRM has the signaling of each requested DRM system for each KID, in
	// request order (system by system, then KID by KID).
	DRM []DRMData
	// UserAgent is the provider's X-Speke-User-Agent (or v1
	// Speke-User-Agent) header, for logs.
	UserAgent string
	// Document is the parsed response, for anything else it carries.
	Document *cpix.Document
}

// Key is one content key.
type Key struct {
	KID   [16]byte
	Value []byte // 16 bytes
	// IV is the provider's explicitIV (16 bytes), nil when it sent none.
	IV []byte
}

// DRMData is the signaling of one DRM system for one key, decoded from
// base64. A field is empty when it was not asked for (see Request).
type DRMData struct {
	SystemID string // lowercase UUID text
	KID      [16]byte
	// PSSH is one whole 'pssh' box, for the init segment.
	PSSH []byte
	// ContentProtectionData is the XML to put inside the system's DASH
	// ContentProtection element.
	ContentProtectionData string
	// HLSSignalingMedia is the EXT-X-KEY line(s) for media playlists.
	HLSSignalingMedia string
	// HLSSignalingMaster is the EXT-X-SESSION-KEY line(s) for the
	// multivariant playlist.
	HLSSignalingMaster string
}

// Fetch sends req and returns the checked answer. Errors: ErrInvalidRequest
// for a request it cannot send; *HTTPError for an answer other than 200
// (with the start of its body); ErrVersion when the answer lacks
// X-Speke-Version 2.0; ErrTooLarge past MaxResponseBytes;
// ErrInvalidResponse when the document is not a complete answer to req
// (every problem listed); the context's error on timeout or cancel.
func (c *Client) Fetch(ctx context.Context, req Request) (Response, error) {
	req, err := req.check()
	var resp Response
	if err == nil {
		resp, err = c.fetch(ctx, req)
	}
	if err != nil {
		return Response{}, fmt.Errorf("fetch keys for %q from %s: %w", req.ContentID, redact(c.URL), err)
	}
	return resp, nil
}

func (c *Client) fetch(ctx context.Context, req Request) (Response, error) {
	body, err := cpix.Marshal(req.document())
	if err != nil {
		return Response{}, err
	}
	data, header, err := c.post(ctx, body)
	if err != nil {
		return Response{}, err
	}
	doc, err := cpix.Parse(data)
	if err != nil {
		return Response{}, fmt.Errorf("%w: %w", ErrInvalidResponse, err)
	}
	resp, err := req.read(doc)
	if err != nil {
		return Response{}, err
	}
	resp.UserAgent = header.Get(HeaderUserAgent)
	if resp.UserAgent == "" {
		resp.UserAgent = header.Get(HeaderUserAgentV1)
	}
	return resp, nil
}

// post sends the request document and returns the body and headers of a
// 200 answer that carries X-Speke-Version 2.0.
func (c *Client) post(ctx context.Context, body []byte) ([]byte, http.Header, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for k, v := range c.Header {
		hr.Header[k] = append([]string(nil), v...)
	}
	hr.Header.Set("Content-Type", ContentType)
	hr.Header.Set("Accept", ContentType)
	hr.Header.Set(HeaderVersion, Version)
	if hr.Header.Get("User-Agent") == "" {
		hr.Header.Set("User-Agent", "onair-speke")
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, nil, &HTTPError{StatusCode: resp.StatusCode, Body: excerpt(b, 512)}
	}
	if v := resp.Header.Get(HeaderVersion); v != Version {
		return nil, nil, fmt.Errorf("%w: response %s is %q, want %q", ErrVersion, HeaderVersion, excerpt([]byte(v), 20), Version)
	}
	limit := c.MaxResponseBytes
	if limit <= 0 {
		limit = cpix.MaxDocumentSize
	}
	if resp.ContentLength > limit {
		return nil, nil, fmt.Errorf("%w: response of %d bytes, limit %d", ErrTooLarge, resp.ContentLength, limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read response: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, nil, fmt.Errorf("%w: response over the limit of %d bytes", ErrTooLarge, limit)
	}
	return data, resp.Header, nil
}

// redact returns the URL without user info and query, for messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(invalid URL)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}
