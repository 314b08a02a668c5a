package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// APIError is a non-2xx answer from the API. It unwraps to ErrNotFound,
// ErrConflict or ErrInvalid for 404, 409 and 400, so callers can use
// errors.Is across the wire.
type APIError struct {
	Status  int    // HTTP status code
	Message string // the server's {"error": ...}, or the status text
}

// Error returns the server's message.
func (e *APIError) Error() string { return e.Message }

// Unwrap maps the status back to the Manager sentinel it came from.
func (e *APIError) Unwrap() error {
	switch e.Status {
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusBadRequest:
		return ErrInvalid
	}
	return nil
}

// Client talks to the control API over HTTP. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	token string
	hc    *http.Client
}

// NewClient returns a client for the API at baseURL (e.g.
// "http://127.0.0.1:8080"). token may be empty (loopback servers without a
// token). hc nil means a client with a 30 s timeout.
func NewClient(baseURL, token string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("api url %q: %w", baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("api url %q: want http://host:port or https://host:port", baseURL)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: u, token: token, hc: hc}, nil
}

// ListChannels returns every channel.
func (c *Client) ListChannels(ctx context.Context) ([]Channel, error) {
	var list ChannelList
	if err := c.do(ctx, http.MethodGet, "/api/v1/channels", nil, &list); err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	return list.Channels, nil
}

// GetChannel returns one channel.
func (c *Client) GetChannel(ctx context.Context, name string) (Channel, error) {
	var ch Channel
	if err := c.do(ctx, http.MethodGet, channelPath(name), nil, &ch); err != nil {
		return Channel{}, fmt.Errorf("get channel %q: %w", name, err)
	}
	return ch, nil
}

// CreateChannel creates a channel and returns it with its ingest keys.
func (c *Client) CreateChannel(ctx context.Context, spec ChannelSpec) (Channel, error) {
	var ch Channel
	if err := c.do(ctx, http.MethodPost, "/api/v1/channels", spec, &ch); err != nil {
		return Channel{}, fmt.Errorf("create channel %q: %w", spec.Name, err)
	}
	return ch, nil
}

// DeleteChannel deletes a channel.
func (c *Client) DeleteChannel(ctx context.Context, name string) error {
	if err := c.do(ctx, http.MethodDelete, channelPath(name), nil, nil); err != nil {
		return fmt.Errorf("delete channel %q: %w", name, err)
	}
	return nil
}

// StartChannel enables a channel so that publishers are accepted.
func (c *Client) StartChannel(ctx context.Context, name string) (Channel, error) {
	var ch Channel
	if err := c.do(ctx, http.MethodPost, channelPath(name)+"/start", nil, &ch); err != nil {
		return Channel{}, fmt.Errorf("start channel %q: %w", name, err)
	}
	return ch, nil
}

// PipelineAction promotes, stops or starts pipeline ("a" or "b") of a
// standard-mode channel.
func (c *Client) PipelineAction(ctx context.Context, name, pipeline, action string) (Channel, error) {
	var ch Channel
	if err := c.do(ctx, http.MethodPost, channelPath(name)+"/pipelines/"+url.PathEscape(pipeline), PipelineAction{Action: action}, &ch); err != nil {
		return Channel{}, fmt.Errorf("%s pipeline %s of channel %q: %w", action, pipeline, name, err)
	}
	return ch, nil
}

// IssueToken asks for a signed playback token of a channel.
func (c *Client) IssueToken(ctx context.Context, name string, req TokenRequest) (Token, error) {
	var tok Token
	if err := c.do(ctx, http.MethodPost, channelPath(name)+"/tokens", req, &tok); err != nil {
		return Token{}, fmt.Errorf("issue a token for channel %q: %w", name, err)
	}
	return tok, nil
}

// StopChannel disables a channel: its publisher is dropped and refused.
func (c *Client) StopChannel(ctx context.Context, name string) (Channel, error) {
	var ch Channel
	if err := c.do(ctx, http.MethodPost, channelPath(name)+"/stop", nil, &ch); err != nil {
		return Channel{}, fmt.Errorf("stop channel %q: %w", name, err)
	}
	return ch, nil
}

func channelPath(name string) string {
	return "/api/v1/channels/" + url.PathEscape(name)
}

// maxResponseBytes bounds what the client reads from one response.
const maxResponseBytes = 16 << 20

// do sends one request with an optional JSON body and decodes a JSON
// answer into out (if non-nil). Non-2xx answers become *APIError.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the repeated method and URL
		}
		return fmt.Errorf("cannot reach the API at %s: %w", c.base.Redacted(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return apiError(resp, data)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode response from %s: %w", u.Redacted(), err)
	}
	return nil
}

// apiError builds an *APIError from an error response, preferring the
// server's JSON message.
func apiError(resp *http.Response, data []byte) error {
	e := &APIError{Status: resp.StatusCode}
	var body errorBody
	if json.Unmarshal(data, &body) == nil && body.Error != "" {
		e.Message = body.Error
	} else if msg := strings.TrimSpace(string(data)); msg != "" && len(msg) < 300 && !strings.ContainsAny(msg, "<>") {
		e.Message = strings.TrimPrefix(msg, "onair: ")
	} else {
		e.Message = fmt.Sprintf("server answered %s", resp.Status)
	}
	return e
}

// errorMessage is what the CLI prints for err: the server's message alone
// for API errors, the whole chain otherwise.
func errorMessage(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}
