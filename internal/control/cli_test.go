package control_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"onair/internal/control"
)

// newServer serves a real API over loopback HTTP.
func newServer(t *testing.T, token string) (*httptest.Server, *fakeManager) {
	t.Helper()
	e := newAPIEnv(t, token)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	return srv, e.fake
}

// runCLI runs `onair ARGS...` with the channel command under a root like
// main's, and returns what it printed.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := &cobra.Command{Use: "onair"}
	root.AddCommand(control.Command(), control.TenantCommand())
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err = root.ExecuteContext(t.Context())
	return out.String(), errb.String(), err
}

func TestCLI(t *testing.T) {
	t.Setenv("ONAIR_API", "")
	t.Setenv("ONAIR_TOKEN", "")
	srv, _ := newServer(t, "")
	api := "--api=" + srv.URL
	host := strings.TrimPrefix(srv.URL, "http://")
	// Steps run in order against one server.
	steps := []struct {
		args       []string
		wantOut    []string
		wantErr    string // exact stderr when the command fails
		wantFailed bool
	}{
		{args: []string{"channel", "list", api}, wantOut: []string{"no channels"}},
		{args: []string{"channel", "create", "news", "--low-latency", api}, wantOut: []string{
			"Channel", "news", "idle (enabled)", "low latency yes",
			"RTMP URL", "rtmp://127.0.0.1:1935/live/key-news",
			"server rtmp://127.0.0.1:1935/live stream key key-news",
			"stream key", "key-news",
			"SRT URL", "srt://127.0.0.1:9000?streamid=publish%3Anews&passphrase=pass-news",
			"passphrase", "pass-news",
			"HLS", "http://" + host + "/live/news/master.m3u8",
			"DASH", "http://" + host + "/live/news/manifest.mpd",
			"player page", "http://" + host + "/channels/news",
		}},
		{args: []string{"channel", "create", "news", api}, wantFailed: true,
			wantErr: "onair: channel \"news\" already exists: conflict\n"},
		{args: []string{"channel", "create", "Bad_Name", api}, wantFailed: true,
			wantErr: "onair: invalid channel name \"Bad_Name\": use 1-63 lowercase letters, digits and '-', not starting with '-'\n"},
		{args: []string{"channel", "list", api}, wantOut: []string{"NAME", "STATE", "news", "idle", "http://" + host + "/live/news/master.m3u8"}},
		{args: []string{"channel", "show", "news", api}, wantOut: []string{"key-news", "http://" + host + "/channels/news"}},
		{args: []string{"channel", "show", "nope", api}, wantFailed: true, wantErr: "onair: channel \"nope\" not found\n"},
		{args: []string{"channel", "stop", "news", api}, wantOut: []string{"channel news stopped"}},
		{args: []string{"channel", "show", "news", api}, wantOut: []string{"stopped (disabled)"}},
		{args: []string{"channel", "start", "news", api}, wantOut: []string{"channel news started (state idle)"}},
		{args: []string{"channel", "create", "std", "--pipelines", "standard", api}, wantOut: []string{
			"Pipelines standard, active a", "a active, running, storage std/", "b standby, running, storage std.b/"}},
		{args: []string{"channel", "pipeline", "std", "b", "promote", api}, wantOut: []string{
			"Pipelines standard, active b", "a standby", "b active"}},
		{args: []string{"channel", "pipeline", "std", "b", "promote", api}, wantFailed: true,
			wantErr: "onair: pipeline b is already active: conflict\n"},
		{args: []string{"channel", "pipeline", "std", "c", "promote", api}, wantFailed: true,
			wantErr: "onair: no pipeline \"c\": channels have pipelines a and b\n"},
		{args: []string{"channel", "token", "std", "--ttl", "5m", api}, wantOut: []string{"token tok-std-5m", "resource /live/std/*", "HLS http://"}},
		{args: []string{"channel", "token", "std", "--ttl", "soon", api}, wantFailed: true,
			wantErr: "onair: ttl \"soon\" is not a positive duration such as \"1h\"\n"},
		{args: []string{"channel", "delete", "news", api}, wantOut: []string{"channel news deleted"}},
		{args: []string{"channel", "delete", "news", api}, wantFailed: true, wantErr: "onair: channel \"news\" not found\n"},
	}
	for _, s := range steps {
		out, errOut, err := runCLI(t, s.args...)
		if (err != nil) != s.wantFailed {
			t.Fatalf("%v: err %v, stderr %q", s.args, err, errOut)
		}
		if s.wantFailed {
			if errOut != s.wantErr {
				t.Errorf("%v: stderr %q, want %q", s.args, errOut, s.wantErr)
			}
			if out != "" {
				t.Errorf("%v: failed but printed %q", s.args, out)
			}
			continue
		}
		if errOut != "" {
			t.Errorf("%v: stderr %q", s.args, errOut)
		}
		flat := strings.Join(strings.Fields(out), " ") // alignment is not the point
		for _, w := range s.wantOut {
			if !strings.Contains(flat, w) {
				t.Errorf("%v: output lacks %q:\n%s", s.args, w, out)
			}
		}
	}
}

func TestCLIJSON(t *testing.T) {
	t.Setenv("ONAIR_TOKEN", "")
	srv, _ := newServer(t, "")
	t.Setenv("ONAIR_API", srv.URL) // no --api: the environment is used

	out, _, err := runCLI(t, "channel", "create", "demo", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var ch control.Channel
	if err := json.Unmarshal([]byte(out), &ch); err != nil || ch.Name != "demo" || ch.Ingest.StreamKey != "key-demo" {
		t.Fatalf("create --json: %v %q", err, out)
	}
	out, _, err = runCLI(t, "channel", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var list control.ChannelList
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Channels) != 1 {
		t.Fatalf("list --json: %v %q", err, out)
	}
	out, _, err = runCLI(t, "channel", "stop", "demo", "--json")
	if err != nil || !strings.Contains(out, `"state": "stopped"`) {
		t.Fatalf("stop --json: %v %q", err, out)
	}
	out, _, err = runCLI(t, "channel", "delete", "demo", "--json")
	if err != nil || out != "" {
		t.Fatalf("delete --json: %v %q", err, out)
	}
}

func TestCLIToken(t *testing.T) {
	t.Setenv("ONAIR_API", "")
	srv, _ := newServer(t, testToken)
	api := "--api=" + srv.URL

	t.Setenv("ONAIR_TOKEN", "")
	_, errOut, err := runCLI(t, "channel", "list", api)
	if err == nil || errOut != "onair: missing operator token: send \"Authorization: Bearer <token>\"\n" {
		t.Errorf("no token: err %v stderr %q", err, errOut)
	}
	_, errOut, err = runCLI(t, "channel", "list", api, "--token=wrong")
	if err == nil || errOut != "onair: wrong operator token\n" {
		t.Errorf("wrong token: err %v stderr %q", err, errOut)
	}
	if _, errOut, err = runCLI(t, "channel", "list", api, "--token="+testToken); err != nil {
		t.Errorf("--token: %v %q", err, errOut)
	}
	t.Setenv("ONAIR_TOKEN", testToken)
	if _, errOut, err = runCLI(t, "channel", "list", api); err != nil {
		t.Errorf("$ONAIR_TOKEN: %v %q", err, errOut)
	}
	// --help must not reveal the token from the environment.
	out, _, _ := runCLI(t, "channel", "--help")
	if strings.Contains(out, testToken) || !strings.Contains(out, "ONAIR_TOKEN") {
		t.Errorf("help:\n%s", out)
	}
}

func TestCLIUsageAndUnreachable(t *testing.T) {
	t.Setenv("ONAIR_API", "")
	t.Setenv("ONAIR_TOKEN", "")
	out, errOut, err := runCLI(t, "channel", "show")
	if err == nil || !strings.Contains(errOut, "onair: accepts 1 arg(s), received 0") || !strings.Contains(out+errOut, "Usage:") {
		t.Errorf("missing arg: err %v stderr %q", err, errOut)
	}
	// Port 1 on loopback: nothing listens there.
	out, errOut, err = runCLI(t, "channel", "list", "--api=http://127.0.0.1:1")
	if err == nil || !strings.HasPrefix(errOut, "onair: list channels: cannot reach the API at http://127.0.0.1:1: ") ||
		strings.Contains(out+errOut, "Usage:") {
		t.Errorf("unreachable: err %v stderr %q", err, errOut)
	}
	_, errOut, err = runCLI(t, "channel", "list", "--api=ftp://x")
	if err == nil || !strings.Contains(errOut, "want http://host:port") {
		t.Errorf("bad api url: err %v stderr %q", err, errOut)
	}
}

func TestCLIShowLive(t *testing.T) {
	t.Setenv("ONAIR_API", "")
	t.Setenv("ONAIR_TOKEN", "")
	srv, fake := newServer(t, "")
	seg := int64(4711)
	fake.set(control.Channel{
		Name: "live1", Enabled: true, State: control.StateLive,
		Ingest: control.Ingest{StreamKey: "k"},
		Input: &control.Input{
			Source: "rtmp 192.0.2.7:50212", Since: time.Now().Add(-time.Minute), Codec: "h264",
			Width: 1920, Height: 1080, FPS: 29.97, Bitrate: 6_000_000, LastFrame: time.Now(),
			Audio: &control.InputAudio{Codec: "aac", SampleRate: 48000, Channels: 2},
		},
		Renditions: []control.Rendition{
			{Name: "1080p", Width: 1920, Height: 1080, FPS: 30, Bandwidth: 6_500_000,
				Codecs: "avc1.640028,mp4a.40.2", LastSegment: &seg, ManifestAgeSeconds: 0.4},
			{Name: "360p", Width: 640, Height: 360, FPS: 30, Bandwidth: 800_000, Codecs: "avc1.64001e,mp4a.40.2"},
		},
		Transcoder: &control.Transcoder{State: "running", PID: 1234, Restarts: 1, Speed: 1.01, LastError: "exit status 1"},
	})
	out, _, err := runCLI(t, "channel", "show", "live1", "--api="+srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("show:\n%s", out)
	for _, w := range []string{
		"live (enabled)", "rtmp 192.0.2.7:50212", "h264 1920x1080 29.97 fps, 6.0 Mb/s", "aac 48000 Hz, 2 ch",
		"running, pid 1234, 1 restart, speed 1.01x", "exit status 1",
		"NAME", "1080p", "1920x1080", "6.5 Mb/s", "avc1.640028,mp4a.40.2", "4711", "0.4 s",
		"360p", "800 kb/s",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("show lacks %q:\n%s", w, out)
		}
	}
	out, _, err = runCLI(t, "channel", "list", "--api="+srv.URL)
	if err != nil || !strings.Contains(out, "1920x1080 29.97 fps, 6.0 Mb/s") {
		t.Errorf("list: %v\n%s", err, out)
	}
}

func TestClientErrors(t *testing.T) {
	srv, _ := newServer(t, "")
	c, err := control.NewClient(srv.URL+"/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := c.CreateChannel(ctx, control.ChannelSpec{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		call   func() error
		want   error
		status int
	}{
		{"get missing", func() error { _, err := c.GetChannel(ctx, "zz"); return err }, control.ErrNotFound, 404},
		{"create dup", func() error { _, err := c.CreateChannel(ctx, control.ChannelSpec{Name: "a"}); return err }, control.ErrConflict, 409},
		{"create invalid", func() error { _, err := c.CreateChannel(ctx, control.ChannelSpec{Name: "A"}); return err }, control.ErrInvalid, 400},
		{"stop missing", func() error { _, err := c.StopChannel(ctx, "zz"); return err }, control.ErrNotFound, 404},
		{"start missing", func() error { _, err := c.StartChannel(ctx, "zz"); return err }, control.ErrNotFound, 404},
		{"delete missing", func() error { return c.DeleteChannel(ctx, "zz") }, control.ErrNotFound, 404},
		{"name with slash", func() error { _, err := c.GetChannel(ctx, "a/stop"); return err }, control.ErrInvalid, 400},
	}
	for _, tc := range cases {
		err := tc.call()
		var ae *control.APIError
		if !errors.Is(err, tc.want) || !errors.As(err, &ae) || ae.Status != tc.status {
			t.Errorf("%s: err %v, want %v (%d)", tc.name, err, tc.want, tc.status)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := control.NewClient(bad, "", nil); err == nil {
			t.Errorf("NewClient(%q) accepted", bad)
		}
	}
}
