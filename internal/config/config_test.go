package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The sample config documents every key with its default value.
func TestSampleConfigEqualsDefaults(t *testing.T) {
	b, err := os.ReadFile("../../docs/onair.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var got Config
	if err := Decode(b, &got); err != nil {
		t.Fatal(err)
	}
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Fatalf("docs/onair.example.yaml differs from Default():\n got %+v\nwant %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		check   func(*testing.T, Config)
		wantErr []string // every substring must appear
	}{
		{name: "defaults", check: func(t *testing.T, c Config) {
			if c.Segments.Duration != 2*time.Second || c.HTTP.Listen != ":8080" {
				t.Fatalf("bad defaults %+v", c)
			}
		}},
		{name: "yaml overrides", yaml: "segments: {duration: 4s, part: 1s}\nhttp: {listen: '127.0.0.1:9999'}\n", check: func(t *testing.T, c Config) {
			if c.Segments.Duration != 4*time.Second || c.Grid(false).PartsPerSegment() != 4 || c.HTTP.Listen != "127.0.0.1:9999" {
				t.Fatalf("got %+v", c)
			}
		}},
		{name: "env beats yaml", yaml: "http: {listen: ':1'}\n", env: map[string]string{"ONAIR_HTTP_LISTEN": ":2", "ONAIR_SEGMENT_DURATION": "6s", "ONAIR_API_TOKEN": "secret"}, check: func(t *testing.T, c Config) {
			if c.HTTP.Listen != ":2" || c.Segments.Duration != 6*time.Second || c.HTTP.APIToken != "secret" {
				t.Fatalf("got %+v", c)
			}
		}},
		{name: "unknown key", yaml: "segmnets: {duration: 2s}\n", wantErr: []string{"segmnets"}},
		{name: "every problem at once", yaml: "segments: {duration: 2s, part: 300ms}\nlog: {level: loud}\nstorage: {kind: tape}\n", wantErr: []string{"multiple of part", "log.level", "storage.kind"}},
		{name: "bad env", env: map[string]string{"ONAIR_SEGMENT_DURATION": "soon"}, wantErr: []string{"ONAIR_SEGMENT_DURATION"}},
		{name: "bad ladder", yaml: "transcode: {ladder: [{name: source, height: 100, fps: 30, bitrate: 100000}, {name: x, height: 101, fps: 30, bitrate: 100000}]}\n", wantErr: []string{"reserved", "even"}},
		{name: "window too small", yaml: "segments: {window: 2s}\n", wantErr: []string{"segments.window"}},
		{name: "cert without key", yaml: "rtmp: {cert_file: a.pem}\n", wantErr: []string{"cert_file and key_file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.yaml != "" {
				path = t.TempDir() + "/onair.yaml"
				if err := os.WriteFile(path, []byte(tt.yaml), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Load(path, func(k string) string { return tt.env[k] })
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("want error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("segments: {duration: 2s}\n"))
	f.Add([]byte("transcode: {ladder: [{name: a, height: 2, fps: 1, bitrate: 40000}]}"))
	f.Add([]byte("{{{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := Default()
		if err := Decode(b, &c); err != nil {
			return
		}
		_ = c.Validate()
	})
}

// README.md documents every ONAIR_* variable the code reads.
func TestReadmeListsEnvironment(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range EnvNames() {
		if !strings.Contains(string(b), "`"+name+"`") {
			t.Errorf("README.md does not document %s", name)
		}
	}
}
