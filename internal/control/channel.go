package control

import (
	"context"
	"errors"
	"time"

	"onair/internal/live"
)

// Sentinel errors a Manager wraps so the API can choose the status code:
// ErrNotFound -> 404, ErrConflict -> 409, ErrInvalid -> 400. The wrapped
// error's full text is sent to the client, so wrap with a message fit for an
// operator, e.g. fmt.Errorf("channel %q: %w", name, ErrNotFound). Any other
// error is a 500 whose text is only logged.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
)

// Channel states as reported in Channel.State.
const (
	StateIdle    = "idle"    // enabled, no publisher connected (Inputs.Active "slate": the slate plays)
	StateLive    = "live"    // enabled, a publisher is connected
	StateStopped = "stopped" // disabled: publishers are refused
)

// ChannelSpec is what a client sends to create a channel.
type ChannelSpec struct {
	// Name is the channel's identity in URLs; see ValidChannelName.
	Name string `json:"name"`
	// LowLatency selects LL-HLS parts and a shorter live delay.
	LowLatency bool `json:"low_latency,omitempty"`
	// Pipelines is "standard" (two output-locked pipelines, A and B) or
	// "single"; "" takes the server's pipelines.mode.
	Pipelines string `json:"pipelines,omitempty"`
	// Inputs overrides the server's input rules for this channel.
	Inputs *InputSettings `json:"inputs,omitempty"`
	// Access is "public" (default) or "signed": playback needs a token
	// from POST /api/v1/channels/{name}/tokens.
	Access string `json:"access,omitempty"`
	// Geo restricts playback by the viewer's country.
	Geo *GeoRule `json:"geo,omitempty"`
	// DRM encrypts the channel's media.
	DRM *DRM `json:"drm,omitempty"`
	// Tenant owns the channel. A tenant's key creates channels in its own
	// tenant (leave it empty or give that tenant); an operator may give
	// any existing tenant, or none.
	Tenant string `json:"tenant,omitempty"`
}

// DRM is a channel's encryption. Keys come from the license endpoint
// (/license/{channel}/...) for a viewer token from .../tokens.
type DRM struct {
	// Scheme is "clear" (default), "aes128" (HLS AES-128, whole
	// segments, no LL-HLS parts), "cbcs" (CMAF CENC for HLS and DASH) or
	// "cenc" (CMAF CENC for DASH).
	Scheme string `json:"scheme"`
	// RotateEvery changes the key every N segments (0: one key). cbcs
	// and cenc publish a new init (a new DASH Period) with each key.
	RotateEvery int64 `json:"rotate_every,omitempty"`
}

// GeoRule restricts a channel's playback by the viewer's country (ISO
// 3166-1 alpha-2 codes, from edge.geo_database).
type GeoRule struct {
	// Allow, when set, is the only countries that may play.
	Allow []string `json:"allow,omitempty"`
	// Deny is countries that may not play.
	Deny []string `json:"deny,omitempty"`
	// Unknown is "allow" or "deny" for viewers the database does not
	// place; default deny with an allow list, else allow.
	Unknown string `json:"unknown,omitempty"`
}

// TokenRequest is the body of POST /api/v1/channels/{name}/tokens; every
// field is optional.
type TokenRequest struct {
	// TTL is the token's lifetime, a Go duration; default signing.token_ttl.
	TTL string `json:"ttl,omitempty"`
	// IP restricts the token to a client address or CIDR prefix.
	IP string `json:"ip,omitempty"`
	// Session names the viewer session the token is for (1-64 of
	// A-Z a-z 0-9 _ -); default a new random id. With viewer sessions on,
	// a session is recorded for it, listed by GET .../sessions and
	// revocable by DELETE .../sessions/{id}.
	Session string `json:"session,omitempty"`
	// UserID and UserAgent describe the viewer; stored only encrypted,
	// with the session, and deleted when it expires.
	UserID    string `json:"user_id,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// ViewerSession is a viewer's playback session as the API shows it.
// Personal data (IP, user agent, user id) is stored encrypted and deleted
// when the session expires.
type ViewerSession struct {
	ID           string     `json:"id"`
	Channel      string     `json:"channel"`
	Tenant       string     `json:"tenant,omitempty"`
	Created      time.Time  `json:"created"`
	Refreshed    time.Time  `json:"refreshed"`
	Expires      time.Time  `json:"expires"`
	TokenExpires time.Time  `json:"token_expires"`
	Revoked      *time.Time `json:"revoked,omitempty"`
	IP           string     `json:"ip,omitempty"`
	UserAgent    string     `json:"user_agent,omitempty"`
	UserID       string     `json:"user_id,omitempty"`
}

// Token is a signed playback token and the URLs that carry it.
type Token struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
	// Session is the viewer session the token belongs to.
	Session string `json:"session,omitempty"`
	// Resource is the path pattern the token grants.
	Resource string   `json:"resource"`
	Playback Playback `json:"playback"`
	// License is the viewer's license token, for channels with DRM.
	License *LicenseToken `json:"license,omitempty"`
}

// LicenseToken lets a viewer's player get content keys: send Token as
// "Authorization: Bearer" (or ?token=) to the license URLs.
type LicenseToken struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
	// Scheme is the channel's encryption (aes128, cbcs, cenc).
	Scheme string `json:"scheme"`
	// ClearKey is the W3C Clear Key license URL (cbcs, cenc).
	ClearKey string `json:"clearkey,omitempty"`
	// Session is the viewer session the token is bound to.
	Session string `json:"session"`
}

// ChannelUpdate is the body of PATCH /api/v1/channels/{name}: the fields
// present replace the channel's; a running channel restarts with them
// (publishers reconnect).
type ChannelUpdate struct {
	Access    *string        `json:"access,omitempty"`
	Geo       *GeoRule       `json:"geo,omitempty"`
	DRM       *DRM           `json:"drm,omitempty"`
	Pipelines *string        `json:"pipelines,omitempty"`
	Inputs    *InputSettings `json:"inputs,omitempty"`
}

// InputSettings are a channel's own input rules. Durations are Go
// durations ("1s", "500ms"); an empty field keeps the server's value.
type InputSettings struct {
	LossAfter   string `json:"loss_after,omitempty"`
	ClearAfter  string `json:"clear_after,omitempty"`
	BlackAfter  string `json:"black_after,omitempty"`
	FrozenAfter string `json:"frozen_after,omitempty"`
	SilentAfter string `json:"silent_after,omitempty"`
	// Slate turns the input-loss slate on or off; nil keeps the server's.
	Slate     *bool  `json:"slate,omitempty"`
	SlateText string `json:"slate_text,omitempty"`
}

// Pipeline is one of a channel's pipelines as the API shows it.
type Pipeline struct {
	Name string `json:"name"` // "a" or "b"
	// Role is "active" (viewers get its output) or "standby".
	Role string `json:"role"`
	// State is "running", "stopped" (through the API) or "restarting".
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
	// EncoderDown says why its ffmpeg is not encoding, if it is not.
	EncoderDown string `json:"encoder_down,omitempty"`
	// ManifestAgeSeconds is the time since its slowest rendition of the
	// current session last grew; absent without a session.
	ManifestAgeSeconds *float64 `json:"manifest_age_seconds,omitempty"`
	// StoragePrefix is where its objects go.
	StoragePrefix string      `json:"storage_prefix"`
	Transcoder    *Transcoder `json:"transcoder,omitempty"`
}

// PipelineAction is the body of POST .../pipelines/{pipeline}.
type PipelineAction struct {
	// Action is "promote" (make it the active pipeline), "stop" or
	// "start".
	Action string `json:"action"`
}

// Channel is a channel's configuration and runtime state as the API shows it.
type Channel struct {
	Name string `json:"name"`
	// Tenant owns the channel; absent for the operator's own channels.
	Tenant     string    `json:"tenant,omitempty"`
	Enabled    bool      `json:"enabled"`
	LowLatency bool      `json:"low_latency"`
	CreatedAt  time.Time `json:"created_at"`
	Ingest     Ingest    `json:"ingest"`
	// BackupIngest is the backup input: send the same encode to both.
	BackupIngest Ingest   `json:"backup_ingest"`
	Playback     Playback `json:"playback"`
	// State is StateIdle, StateLive or StateStopped.
	State string `json:"state"`
	Input *Input `json:"input,omitempty"`
	// Inputs is the input selector's state while the channel runs.
	Inputs     *Inputs     `json:"inputs,omitempty"`
	Renditions []Rendition `json:"renditions,omitempty"`
	// Transcoder is the active pipeline's transcoder.
	Transcoder *Transcoder `json:"transcoder,omitempty"`
	// Mode is "single" or "standard" (pipelines A and B).
	Mode string `json:"pipelines"`
	// ActivePipeline serves viewers while the channel runs.
	ActivePipeline string     `json:"active_pipeline,omitempty"`
	Pipelines      []Pipeline `json:"pipeline_states,omitempty"`
	// InputSettings are the channel's own input rules, if any.
	InputSettings *InputSettings `json:"input_settings,omitempty"`
	// Access is "public" or "signed".
	Access string `json:"access"`
	// Geo is the channel's country restriction, if any.
	Geo *GeoRule `json:"geo,omitempty"`
	// DRM is the channel's encryption; absent when clear.
	DRM *DRM `json:"drm,omitempty"`
}

// Ingest tells a broadcaster where to push. URLs are absolute and use the
// host the API was reached on.
type Ingest struct {
	// RTMPURL is the full publish URL, rtmp://host:port/live/KEY.
	RTMPURL string `json:"rtmp_url"`
	// StreamKey is the secret last path element of RTMPURL, for encoders
	// that take server and key separately.
	StreamKey string `json:"stream_key"`
	// SRTURL is srt://host:port?streamid=...&passphrase=... (caller mode).
	SRTURL        string `json:"srt_url,omitempty"`
	SRTStreamID   string `json:"srt_stream_id,omitempty"`
	SRTPassphrase string `json:"srt_passphrase,omitempty"`
}

// Inputs is which of a channel's inputs viewers get and why.
type Inputs struct {
	// Active is "primary", "backup", "slate" (both lost) or "" (none yet).
	Active string `json:"active"`
	// Pending is the input the channel switches to at its next keyframe.
	Pending string `json:"pending,omitempty"`
	// Manual is an operator's choice ("" automatic).
	Manual  string     `json:"manual,omitempty"`
	Primary InputState `json:"primary"`
	Backup  InputState `json:"backup"`
}

// InputState is one input's connection and delivery.
type InputState struct {
	Connected  bool      `json:"connected"`
	Delivering bool      `json:"delivering"`
	Source     string    `json:"source,omitempty"`
	Since      time.Time `json:"since,omitzero"`
	LastFrame  time.Time `json:"last_frame,omitzero"`
}

// Playback holds absolute viewer URLs.
type Playback struct {
	HLS  string `json:"hls"`  // .../live/NAME/master.m3u8
	DASH string `json:"dash"` // .../live/NAME/manifest.mpd
	Page string `json:"page"` // .../channels/NAME (dashboard player)
}

// Input describes the active publisher session's media.
type Input struct {
	Source    string    `json:"source"` // e.g. "rtmp 192.0.2.7:50212"
	Since     time.Time `json:"since"`
	Codec     string    `json:"codec,omitempty"` // video codec, e.g. "h264"
	Width     int       `json:"width,omitempty"`
	Height    int       `json:"height,omitempty"`
	FPS       float64   `json:"fps,omitempty"`
	Bitrate   int64     `json:"bitrate,omitempty"` // bits per second, audio and video
	LastFrame time.Time `json:"last_frame,omitzero"`
	// Audio is nil when the session has no audio.
	Audio *InputAudio `json:"audio,omitempty"`
}

// InputAudio describes the input's audio track.
type InputAudio struct {
	Codec      string `json:"codec"` // e.g. "aac"
	SampleRate int    `json:"sample_rate"`
	Channels   int    `json:"channels"`
}

// Rendition is one output ladder step as it is being served.
type Rendition struct {
	Name      string  `json:"name"`
	Width     int     `json:"width,omitempty"`
	Height    int     `json:"height,omitempty"`
	FPS       float64 `json:"fps,omitempty"`
	Bandwidth int64   `json:"bandwidth,omitempty"` // bits per second, as in BANDWIDTH
	Codecs    string  `json:"codecs,omitempty"`    // RFC 6381, as in CODECS
	// LastSegment is the newest complete segment number, nil before the first.
	LastSegment *int64 `json:"last_segment,omitempty"`
	// ManifestAgeSeconds is how long ago the media playlist last changed.
	ManifestAgeSeconds float64 `json:"manifest_age_seconds"`
}

// Transcoder is the channel's transcoder process as the supervisor sees it.
type Transcoder struct {
	State     string  `json:"state"` // e.g. "running", "backoff", "stopped"
	PID       int     `json:"pid,omitempty"`
	Restarts  int     `json:"restarts"`
	Speed     float64 `json:"speed,omitempty"` // ffmpeg speed=, 1.0 is real time
	LastError string  `json:"last_error,omitempty"`
}

// Manager is what the API needs from the app. baseURL is scheme://host of
// the request being served (no trailing slash), so returned URLs work for
// the caller; the Manager builds ingest URLs from its own ports and that
// host. Errors wrap ErrNotFound, ErrConflict or ErrInvalid where they apply.
// Implementations must be safe for concurrent use.
type Manager interface {
	ListChannels(ctx context.Context, baseURL string) ([]Channel, error)
	GetChannel(ctx context.Context, name, baseURL string) (Channel, error)
	CreateChannel(ctx context.Context, spec ChannelSpec, baseURL string) (Channel, error)
	DeleteChannel(ctx context.Context, name string) error
	SetChannelEnabled(ctx context.Context, name string, enabled bool, baseURL string) (Channel, error)
	// Events returns up to limit of the newest events, newest first;
	// channel "" means every channel's.
	Events(ctx context.Context, channel string, limit int) ([]Event, error)
	// SelectInput makes input ("primary" or "backup") the channel's input
	// of choice while it delivers; "auto" returns to automatic failover.
	SelectInput(ctx context.Context, name, input, baseURL string) (Channel, error)
	// UpdateChannel changes a channel's pipelines mode or input rules.
	UpdateChannel(ctx context.Context, name string, upd ChannelUpdate, baseURL string) (Channel, error)
	// PipelineAction promotes, stops or starts one pipeline of a channel.
	PipelineAction(ctx context.Context, name, pipeline, action, baseURL string) (Channel, error)
	// AlertFailover promotes the standby of channel name if pipeline is
	// its active one, because an alert fired (reason). It returns what it
	// did in words; refusals wrap ErrConflict.
	AlertFailover(ctx context.Context, name, pipeline, reason string) (string, error)
	// IssueToken signs a playback token for channel name.
	IssueToken(ctx context.Context, name string, req TokenRequest, baseURL string) (Token, error)
	// ChannelTenant returns the tenant owning channel name ("" for
	// none), or an error wrapping ErrNotFound.
	ChannelTenant(ctx context.Context, name string) (string, error)
	// Sessions lists channel name's viewer sessions, newest last.
	Sessions(ctx context.Context, name string) ([]ViewerSession, error)
	// RevokeSession revokes a viewer session of channel name: its tokens
	// stop working at the edges within seconds and it gets no more keys.
	RevokeSession(ctx context.Context, name, id string) error
}

// Event is a decision or an observation worth an operator's attention: a
// failover, an alarm. Kind is dot-separated words, e.g.
// "edge.manifest_age.raised"; Source names the process and role that
// reported it; Reason says why in words.
type Event struct {
	At      time.Time      `json:"at"`
	Kind    string         `json:"kind"`
	Channel string         `json:"channel,omitempty"`
	Source  string         `json:"source,omitempty"`
	Reason  string         `json:"reason"`
	Data    map[string]any `json:"data,omitempty"`
}

// ValidChannelName reports whether name matches ^[a-z0-9][a-z0-9-]{0,62}$:
// safe in URLs, object keys, NATS subjects and file names.
func ValidChannelName(name string) bool { return live.ValidChannelName(name) }
