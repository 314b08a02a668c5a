package alertmanager

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"onair/internal/live"
)

var startsAt = time.Date(2026, 11, 3, 10, 15, 4, 512000000, time.UTC)

// staleAlert is a firing alert as onair-rules.yml produces it.
const staleAlert = `{
	"status": "firing",
	"labels": {"alertname": "OnairPipelineManifestStale", "channel": "demo", "pipeline": "a",
		"onair_action": "promote_standby", "severity": "critical"},
	"annotations": {"summary": "Channel demo: active pipeline a manifest is 9.5s old (threshold 4s)",
		"description": "..."},
	"startsAt": "2026-11-03T10:15:04.512Z",
	"endsAt": "0001-01-01T00:00:00Z",
	"generatorURL": "http://127.0.0.1:9090/graph?g0.expr=x",
	"fingerprint": "5f1d6c0a3e2b9a71"
}`

// message wraps alerts (JSON objects) in a version 4 envelope.
func message(status string, alerts ...string) string {
	return `{"version": "4", "groupKey": "{}/{onair_action=\"promote_standby\"}:{alertname=\"OnairPipelineManifestStale\"}",
	"truncatedAlerts": 0, "status": "` + status + `", "receiver": "onair-promote",
	"groupLabels": {"alertname": "OnairPipelineManifestStale"}, "commonLabels": {}, "commonAnnotations": {},
	"externalURL": "http://127.0.0.1:9093", "alerts": [` + strings.Join(alerts, ",") + `]}`
}

// alert is staleAlert with replacements applied (old, new, old, new...).
func alert(oldnew ...string) string {
	return strings.NewReplacer(oldnew...).Replace(staleAlert)
}

var stalePromotion = Promotion{
	Channel:     "demo",
	Pipeline:    "a",
	Alert:       "OnairPipelineManifestStale",
	Reason:      "OnairPipelineManifestStale: Channel demo: active pipeline a manifest is 9.5s old (threshold 4s)",
	StartsAt:    startsAt,
	Fingerprint: "5f1d6c0a3e2b9a71",
}

// parseCases feed both TestParse and FuzzParse's seeds.
var parseCases = []struct {
	name    string
	in      string
	want    []Promotion
	wantErr error  // nil: success
	errHas  string // part of the error text
}{
	{name: "stale active fires", in: message("firing", staleAlert), want: []Promotion{stalePromotion}},
	{
		name: "down alert on pipeline b, no summary",
		in: message("firing", alert(`"OnairPipelineManifestStale"`, `"OnairPipelineDown"`, `"pipeline": "a"`, `"pipeline": "b"`,
			`"summary": "Channel demo: active pipeline a manifest is 9.5s old (threshold 4s)",`, ``)),
		want: []Promotion{{
			Channel: "demo", Pipeline: "b", Alert: "OnairPipelineDown",
			Reason:   `OnairPipelineDown {channel="demo", pipeline="b", severity="critical"}`,
			StartsAt: startsAt, Fingerprint: "5f1d6c0a3e2b9a71",
		}},
	},
	{
		name: "two channels in one group",
		in:   message("firing", staleAlert, alert(`"channel": "demo"`, `"channel": "news-2"`, "Channel demo", "Channel news-2")),
		want: []Promotion{stalePromotion, {
			Channel: "news-2", Pipeline: "a", Alert: "OnairPipelineManifestStale",
			Reason:   "OnairPipelineManifestStale: Channel news-2: active pipeline a manifest is 9.5s old (threshold 4s)",
			StartsAt: startsAt, Fingerprint: "5f1d6c0a3e2b9a71",
		}},
	},
	{name: "resolved alert is skipped", in: message("resolved", alert(`"status": "firing"`, `"status": "resolved"`))},
	{
		name: "resolved skipped, firing kept",
		in:   message("firing", alert(`"status": "firing"`, `"status": "resolved"`, `"channel": "demo"`, `"channel": "other"`), staleAlert),
		want: []Promotion{stalePromotion},
	},
	{name: "no action label is skipped", in: message("firing", alert(`"onair_action": "promote_standby", `, ``))},
	{name: "empty action label is skipped", in: message("firing", alert(`"promote_standby"`, `""`))},
	{
		name: "informational alert is skipped",
		in:   message("firing", `{"status": "firing", "labels": {"alertname": "OnairStandbyUnhealthy", "channel": "demo", "pipeline": "b", "severity": "warning"}}`),
	},
	{name: "unknown fields are allowed", in: strings.Replace(message("firing", staleAlert), `"version"`, `"extra": [1, {"x": null}], "version"`, 1), want: []Promotion{stalePromotion}},
	{
		name: "newlines and tabs in summary become spaces",
		in:   message("firing", alert("Channel demo: active", `Channel\n\tdemo:   active`)),
		want: []Promotion{stalePromotion},
	},
	{
		name: "no fingerprint",
		in:   message("firing", alert(`"fingerprint": "5f1d6c0a3e2b9a71"`, `"fingerprint": ""`)),
		want: []Promotion{func() Promotion { p := stalePromotion; p.Fingerprint = ""; return p }()},
	},

	{name: "empty body", in: "", wantErr: ErrInvalid, errHas: "empty body"},
	{name: "not JSON", in: "alerts: firing", wantErr: ErrInvalid, errHas: "not a JSON webhook payload"},
	{name: "JSON array", in: `[{"version": "4"}]`, wantErr: ErrInvalid, errHas: "not a JSON webhook payload"},
	{name: "JSON null", in: `null`, wantErr: ErrInvalid, errHas: `version ""`},
	{name: "truncated", in: message("firing", staleAlert)[:200], wantErr: ErrInvalid, errHas: "not a JSON webhook payload"},
	{name: "trailing data", in: message("firing", staleAlert) + "{}", wantErr: ErrInvalid, errHas: "not a JSON webhook payload"},
	{name: "wrong version", in: strings.Replace(message("firing", staleAlert), `"version": "4"`, `"version": "3"`, 1), wantErr: ErrInvalid, errHas: `version "3", want "4"`},
	{name: "numeric version", in: strings.Replace(message("firing", staleAlert), `"version": "4"`, `"version": 4`, 1), wantErr: ErrInvalid, errHas: "not a JSON webhook payload"},
	{name: "unknown status", in: message("pending", staleAlert), wantErr: ErrInvalid, errHas: `status "pending"`},
	{name: "no alerts", in: message("firing"), wantErr: ErrInvalid, errHas: "no alerts"},
	{name: "alert with unknown status", in: message("firing", alert(`"status": "firing"`, `"status": "FIRING"`)), wantErr: ErrInvalid, errHas: `alert 0: status "FIRING"`},
	{name: "labels of the wrong type", in: message("firing", alert(`"severity": "critical"`, `"severity": 2`)), wantErr: ErrInvalid, errHas: "not a JSON webhook payload"},
	{name: "bad startsAt", in: message("firing", alert(`2026-11-03T10:15:04.512Z`, `yesterday`)), wantErr: ErrInvalid, errHas: "not a JSON webhook payload"},
	{name: "missing startsAt", in: message("firing", alert(`"startsAt": "2026-11-03T10:15:04.512Z",`, ``)), wantErr: ErrInvalid, errHas: "alert 0: OnairPipelineManifestStale: no startsAt"},
	{name: "unknown action", in: message("firing", staleAlert, alert("promote_standby", "promote-standby")), wantErr: ErrInvalid, errHas: `alert 1: OnairPipelineManifestStale: unknown onair_action "promote-standby"`},
	{name: "no alertname", in: message("firing", alert(`"alertname": "OnairPipelineManifestStale", `, ``)), wantErr: ErrInvalid, errHas: "alert 0: no alertname label"},
	{name: "no channel", in: message("firing", alert(`"channel": "demo", `, ``)), wantErr: ErrInvalid, errHas: `channel label "" is not a channel name`},
	{name: "upper-case channel", in: message("firing", alert(`"channel": "demo"`, `"channel": "Demo"`)), wantErr: ErrInvalid, errHas: `channel label "Demo"`},
	{name: "channel with a slash", in: message("firing", alert(`"channel": "demo"`, `"channel": "../demo"`)), wantErr: ErrInvalid, errHas: `channel label "../demo"`},
	{name: "channel starting with a dash", in: message("firing", alert(`"channel": "demo"`, `"channel": "-demo"`)), wantErr: ErrInvalid, errHas: `channel label "-demo"`},
	{name: "channel too long", in: message("firing", alert(`"channel": "demo"`, `"channel": "`+strings.Repeat("x", 64)+`"`)), wantErr: ErrInvalid, errHas: "is not a channel name"},
	{name: "no pipeline", in: message("firing", alert(`"pipeline": "a",`, ``)), wantErr: ErrInvalid, errHas: `pipeline label "", want "a" or "b"`},
	{name: "pipeline c", in: message("firing", alert(`"pipeline": "a"`, `"pipeline": "c"`)), wantErr: ErrInvalid, errHas: `pipeline label "c"`},
	{name: "pipeline upper-case", in: message("firing", alert(`"pipeline": "a"`, `"pipeline": "A"`)), wantErr: ErrInvalid, errHas: `pipeline label "A"`},
	{
		name:    "malformed resolved alert is ignored but a bad firing one is not",
		in:      message("firing", alert(`"status": "firing"`, `"status": "resolved"`, `"pipeline": "a"`, `"pipeline": "z"`), alert(`"pipeline": "a"`, `"pipeline": "z"`)),
		wantErr: ErrInvalid, errHas: "alert 1:",
	},
	{name: "too large", in: message("firing", alert(`"description": "..."`, `"description": "`+strings.Repeat("x", MaxBodyBytes)+`"`)), wantErr: ErrTooLarge, errHas: "more than 1048576 bytes"},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.in))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("Parse error = %v, want %v containing %q", err, tc.wantErr, tc.errHas)
				}
				if got != nil {
					t.Errorf("Parse returned %v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeKeepsEnvelope(t *testing.T) {
	m, err := Decode(strings.NewReader(message("firing", staleAlert)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Receiver != "onair-promote" || m.ExternalURL != "http://127.0.0.1:9093" || len(m.Alerts) != 1 ||
		m.Alerts[0].GeneratorURL != "http://127.0.0.1:9090/graph?g0.expr=x" || m.Alerts[0].Annotations["description"] != "..." ||
		!m.Alerts[0].EndsAt.IsZero() || m.GroupLabels["alertname"] != "OnairPipelineManifestStale" {
		t.Errorf("Decode lost fields: %+v", m)
	}
}

func TestDecodeExactlyMaxBytes(t *testing.T) {
	body := message("firing", staleAlert)
	body += strings.Repeat(" ", MaxBodyBytes-len(body))
	if _, err := Parse(strings.NewReader(body)); err != nil {
		t.Fatalf("body of exactly MaxBodyBytes: %v", err)
	}
	if _, err := Parse(strings.NewReader(body + " ")); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("body of MaxBodyBytes+1: %v, want ErrTooLarge", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestReadError(t *testing.T) {
	_, err := Parse(failingReader{})
	if !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrInvalid) {
		t.Fatalf("Parse error = %v, want the reader's error", err)
	}
}

// realPayload is a body that Alertmanager 0.25 (Debian 12) sent to a
// webhook for onair-rules.yml's stale alert, captured from
// internal/promtest's TestStackPromotesStaleActive (go test -v logs it).
var realPayload = filepath.Join("testdata", "alertmanager-0.25-stale.json")

func TestRealAlertmanagerPayload(t *testing.T) {
	f, err := os.Open(realPayload)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []Promotion{{
		Channel:     "demo",
		Pipeline:    "a",
		Alert:       "OnairPipelineManifestStale",
		Reason:      "OnairPipelineManifestStale: Channel demo: active pipeline a manifest is 9.5s old (threshold 4.0s)",
		StartsAt:    time.Date(2026, 11, 24, 22, 6, 11, 19000000, time.UTC),
		Fingerprint: "0d7b207690b42824",
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse\n got %+v\nwant %+v", got, want)
	}
}

func TestOneLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"a b", 10, "a b"},
		{"  a\r\n\tb  ", 10, "a b"},
		{"a\x00b\x7fc", 10, "a b c"},
		{"abcdefghij", 10, "abcdefghij"},
		{"abcdefghijk", 10, "abcdefg…"},
		{"ééééé", 9, "ééé…"},
		{"ééééé", 8, "éé…"}, // the cut must not split an é
		{"a\xffb", 10, "a b"},
	} {
		if got := oneLine(tc.in, tc.max); got != tc.want {
			t.Errorf("oneLine(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	body, err := os.ReadFile(realPayload)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body)
	for _, tc := range parseCases {
		if len(tc.in) < 64<<10 {
			f.Add([]byte(tc.in))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := Parse(strings.NewReader(string(in)))
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps neither ErrInvalid nor ErrTooLarge: %v", err)
			}
			if got != nil {
				t.Fatalf("promotions with an error: %+v", got)
			}
			return
		}
		for _, p := range got {
			if !live.ValidChannelName(p.Channel) || (p.Pipeline != "a" && p.Pipeline != "b") || p.Alert == "" || p.StartsAt.IsZero() {
				t.Fatalf("invalid promotion accepted: %+v", p)
			}
			if len(p.Reason) > MaxReasonBytes || !utf8.ValidString(p.Reason) || strings.ContainsAny(p.Reason, "\r\n\t\x00") ||
				!strings.HasPrefix(p.Reason, p.Alert) {
				t.Fatalf("bad reason %q", p.Reason)
			}
		}
	})
}
