package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEdgeSection(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		want    func(*Edge) // edits DefaultEdge() into the expected section
		wantErr []string    // every substring must appear
	}{
		{name: "defaults", want: func(*Edge) {}},
		{
			name: "yaml",
			yaml: "edge: {enabled: false, upstreams: ['http://backup:8080', 'https://b.example/onair'], cache_mib: 64, max_conns: 5, max_url_bytes: 1024, block_timeout: 20s}\n",
			want: func(e *Edge) {
				e.Enabled, e.Upstreams, e.CacheMiB, e.MaxConns, e.MaxURLBytes = false, []string{"http://backup:8080", "https://b.example/onair"}, 64, 5, 1024
				e.BlockTimeout = 20 * time.Second
			},
		},
		{
			name: "env beats yaml",
			yaml: "edge: {enabled: true, max_conns: 5}\n",
			env: map[string]string{
				"ONAIR_EDGE_ENABLED": "false", "ONAIR_EDGE_MAX_CONNS": "7", "ONAIR_EDGE_UPSTREAMS": "http://a:1, http://b:2",
				"ONAIR_EDGE_CERT_FILE": "c.pem", "ONAIR_EDGE_KEY_FILE": "k.pem", "ONAIR_EDGE_TLS_LISTEN": "127.0.0.1:9443",
				"ONAIR_EDGE_CACHE_MIB": "32",
			},
			want: func(e *Edge) {
				e.Enabled, e.MaxConns, e.Upstreams, e.CacheMiB = false, 7, []string{"http://a:1", "http://b:2"}, 32
				e.CertFile, e.KeyFile, e.TLSListen = "c.pem", "k.pem", "127.0.0.1:9443"
			},
		},
		{name: "bad bool", env: map[string]string{"ONAIR_EDGE_ENABLED": "maybe"}, wantErr: []string{"ONAIR_EDGE_ENABLED"}},
		{name: "unknown key", yaml: "edge: {upstream: ['http://a:1']}\n", wantErr: []string{"upstream"}},
		{
			name: "every problem at once",
			yaml: "edge: {upstreams: ['ftp://a', 'http://b:1?x=1', 'http://c:1', 'http://c:1'], cache_mib: 0, max_conns: 0, max_header_bytes: 10, max_url_bytes: 10, upstream_timeout: 1ms, listen: nope, cert_file: a.pem}\n",
			wantErr: []string{"edge.upstreams[0]", "edge.upstreams[1]", "listed twice", "edge.cache_mib", "edge.max_conns",
				"edge.max_header_bytes", "edge.max_url_bytes", "edge.upstream_timeout", "edge.listen", "cert_file and key_file"},
		},
		{name: "tls needs an address", yaml: "edge: {cert_file: a.pem, key_file: b.pem, tls_listen: ''}\n", wantErr: []string{"edge.tls_listen"}},
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
					t.Fatalf("want an error, got %+v", c.Edge)
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
			want := DefaultEdge()
			tt.want(&want)
			if !reflect.DeepEqual(c.Edge, want) {
				t.Fatalf("edge section\n got %+v\nwant %+v", c.Edge, want)
			}
			if want.TLS() != (want.CertFile != "") {
				t.Errorf("TLS() = %v with cert %q", want.TLS(), want.CertFile)
			}
		})
	}
}
