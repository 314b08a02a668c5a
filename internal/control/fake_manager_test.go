package control_test

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"time"

	"onair/internal/control"
)

// fakeManager is an in-memory control.Manager: a test double of our own
// interface, so that API, auth and CLI can be tested without the app.
type fakeManager struct {
	mu       sync.Mutex
	channels map[string]control.Channel
	events   []control.Event                    // newest first
	fail     error                              // returned by every call when set
	alerts   []string                           // reasons AlertFailover acted on
	sessions map[string][]control.ViewerSession // by channel
}

func newFakeManager() *fakeManager {
	return &fakeManager{channels: map[string]control.Channel{}}
}

func (f *fakeManager) ListChannels(_ context.Context, baseURL string) ([]control.Channel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	var out []control.Channel
	for _, ch := range f.channels {
		out = append(out, withURLs(ch, baseURL))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeManager) GetChannel(_ context.Context, name, baseURL string) (control.Channel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return control.Channel{}, f.fail
	}
	ch, ok := f.channels[name]
	if !ok {
		return control.Channel{}, fmt.Errorf("channel %q: %w", name, control.ErrNotFound)
	}
	return withURLs(ch, baseURL), nil
}

func (f *fakeManager) CreateChannel(_ context.Context, spec control.ChannelSpec, baseURL string) (control.Channel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return control.Channel{}, f.fail
	}
	if spec.Name == "reserved" {
		return control.Channel{}, fmt.Errorf("channel name %q is reserved: %w", spec.Name, control.ErrInvalid)
	}
	if _, ok := f.channels[spec.Name]; ok {
		return control.Channel{}, fmt.Errorf("channel %q already exists: %w", spec.Name, control.ErrConflict)
	}
	ch := control.Channel{
		Name:       spec.Name,
		Tenant:     spec.Tenant,
		Enabled:    true,
		LowLatency: spec.LowLatency,
		CreatedAt:  time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC),
		State:      control.StateIdle,
		Ingest:     control.Ingest{StreamKey: "key-" + spec.Name, SRTPassphrase: "pass-" + spec.Name},
		Mode:       "single",
	}
	if spec.Pipelines == "standard" {
		ch.Mode, ch.ActivePipeline = "standard", "a"
		ch.Pipelines = []control.Pipeline{{Name: "a", Role: "active", State: "running", StoragePrefix: spec.Name + "/"},
			{Name: "b", Role: "standby", State: "running", StoragePrefix: spec.Name + ".b/"}}
	}
	f.channels[spec.Name] = ch
	return withURLs(ch, baseURL), nil
}

func (f *fakeManager) DeleteChannel(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	if _, ok := f.channels[name]; !ok {
		return fmt.Errorf("channel %q: %w", name, control.ErrNotFound)
	}
	delete(f.channels, name)
	return nil
}

func (f *fakeManager) SetChannelEnabled(_ context.Context, name string, enabled bool, baseURL string) (control.Channel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return control.Channel{}, f.fail
	}
	ch, ok := f.channels[name]
	if !ok {
		return control.Channel{}, fmt.Errorf("channel %q: %w", name, control.ErrNotFound)
	}
	ch.Enabled = enabled
	ch.State = control.StateIdle
	if !enabled {
		ch.State = control.StateStopped
	}
	f.channels[name] = ch
	return withURLs(ch, baseURL), nil
}

// set stores a channel as is (to show live details).
func (f *fakeManager) set(ch control.Channel) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.channels[ch.Name] = ch
}

// withURLs fills in URLs the way the app does: from the request's base URL
// and the ingest ports.
func withURLs(ch control.Channel, baseURL string) control.Channel {
	u, _ := url.Parse(baseURL)
	host := u.Hostname()
	ch.Ingest.RTMPURL = "rtmp://" + host + ":1935/live/" + ch.Ingest.StreamKey
	ch.Ingest.SRTStreamID = "publish:" + ch.Name
	ch.Ingest.SRTURL = "srt://" + host + ":9000?streamid=" + url.QueryEscape(ch.Ingest.SRTStreamID) +
		"&passphrase=" + url.QueryEscape(ch.Ingest.SRTPassphrase)
	ch.Playback = control.Playback{
		HLS:  baseURL + "/live/" + ch.Name + "/master.m3u8",
		DASH: baseURL + "/live/" + ch.Name + "/manifest.mpd",
		Page: baseURL + "/channels/" + ch.Name,
	}
	return ch
}

func (f *fakeManager) Events(_ context.Context, channel string, limit int) ([]control.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	var out []control.Event
	for _, e := range f.events {
		if (channel == "" || e.Channel == channel) && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeManager) SelectInput(_ context.Context, name, input, baseURL string) (control.Channel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return control.Channel{}, f.fail
	}
	ch, ok := f.channels[name]
	if !ok {
		return control.Channel{}, fmt.Errorf("channel %q: %w", name, control.ErrNotFound)
	}
	if input == "auto" {
		input = ""
	}
	ch.Inputs = &control.Inputs{Manual: input}
	f.channels[name] = ch
	return ch, nil
}

func (f *fakeManager) UpdateChannel(_ context.Context, name string, upd control.ChannelUpdate, baseURL string) (control.Channel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, ok := f.channels[name]
	if !ok {
		return control.Channel{}, fmt.Errorf("channel %q: %w", name, control.ErrNotFound)
	}
	if upd.Pipelines != nil {
		ch.Mode = *upd.Pipelines
	}
	if upd.Inputs != nil {
		ch.InputSettings = upd.Inputs
	}
	f.channels[name] = ch
	return ch, nil
}

func (f *fakeManager) PipelineAction(_ context.Context, name, pipeline, action, baseURL string) (control.Channel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, ok := f.channels[name]
	if !ok {
		return control.Channel{}, fmt.Errorf("channel %q: %w", name, control.ErrNotFound)
	}
	if action == "promote" {
		if ch.ActivePipeline == pipeline {
			return control.Channel{}, fmt.Errorf("pipeline %s is already active: %w", pipeline, control.ErrConflict)
		}
		ch.ActivePipeline = pipeline
		ps := make([]control.Pipeline, len(ch.Pipelines))
		for i, p := range ch.Pipelines {
			p.Role = "standby"
			if p.Name == pipeline {
				p.Role = "active"
			}
			ps[i] = p
		}
		ch.Pipelines = ps
	}
	f.channels[name] = ch
	return ch, nil
}

func (f *fakeManager) AlertFailover(_ context.Context, name, pipeline, reason string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, ok := f.channels[name]
	if !ok {
		return "", fmt.Errorf("channel %q: %w", name, control.ErrNotFound)
	}
	if ch.ActivePipeline != pipeline {
		return "", fmt.Errorf("pipeline %s is not active: %w", pipeline, control.ErrConflict)
	}
	ch.ActivePipeline = map[string]string{"a": "b", "b": "a"}[pipeline]
	f.channels[name] = ch
	f.alerts = append(f.alerts, reason)
	return "promoted " + ch.ActivePipeline, nil
}

func (f *fakeManager) IssueToken(_ context.Context, name string, req control.TokenRequest, baseURL string) (control.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.channels[name]; !ok {
		return control.Token{}, fmt.Errorf("channel %q: %w", name, control.ErrNotFound)
	}
	return control.Token{Token: "tok-" + name + "-" + req.TTL, Resource: "/live/" + name + "/*",
		Playback: control.Playback{HLS: baseURL + "/live/" + name + "/master.m3u8?onair_token=tok"}}, nil
}

func (f *fakeManager) ChannelTenant(_ context.Context, name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return "", f.fail
	}
	ch, ok := f.channels[name]
	if !ok {
		return "", fmt.Errorf("channel %q: %w", name, control.ErrNotFound)
	}
	return ch.Tenant, nil
}

func (f *fakeManager) Sessions(_ context.Context, name string) ([]control.ViewerSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.channels[name]; !ok {
		return nil, fmt.Errorf("channel %q: %w", name, control.ErrNotFound)
	}
	return f.sessions[name], nil
}

func (f *fakeManager) RevokeSession(_ context.Context, name, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.sessions[name] {
		if s.ID == id {
			now := time.Now()
			f.sessions[name][i].Revoked = &now
			return nil
		}
	}
	return fmt.Errorf("session %q of channel %q: %w", id, name, control.ErrNotFound)
}

// addSession records a viewer session of channel name.
func (f *fakeManager) addSession(name, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sessions == nil {
		f.sessions = map[string][]control.ViewerSession{}
	}
	f.sessions[name] = append(f.sessions[name], control.ViewerSession{ID: id, Channel: name, Tenant: f.channels[name].Tenant})
}
