package config

import (
	"os"
	"strings"
	"testing"
)

func TestLoadStorage(t *testing.T) {
	minio := "storage: {kind: s3, s3: {endpoint: '127.0.0.1:9000', bucket: media, tls: false, access_key: onair}}\n"
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		want    S3 // checked when wantErr is empty
		wantErr []string
	}{
		{name: "fs by default ignores s3", want: DefaultS3()},
		{name: "yaml plus secret from the environment", yaml: minio, env: map[string]string{"ONAIR_S3_SECRET_KEY": "s3cret"},
			want: S3{Endpoint: "127.0.0.1:9000", Bucket: "media", Region: "us-east-1", AccessKey: "onair", SecretKey: "s3cret"}},
		{name: "environment only", env: map[string]string{
			"ONAIR_STORAGE_KIND": "s3", "ONAIR_S3_ENDPOINT": "s3.example.net:443", "ONAIR_S3_BUCKET": "live.media",
			"ONAIR_S3_REGION": "eu-west-1", "ONAIR_S3_PREFIX": "tenant-a/onair", "ONAIR_S3_TLS": "true",
			"ONAIR_S3_ACCESS_KEY": "AKIA", "ONAIR_S3_SECRET_KEY": "secret"},
			want: S3{Endpoint: "s3.example.net:443", Bucket: "live.media", Region: "eu-west-1", Prefix: "tenant-a/onair", TLS: true, AccessKey: "AKIA", SecretKey: "secret"}},
		{name: "environment beats yaml", yaml: minio, env: map[string]string{"ONAIR_S3_TLS": "1", "ONAIR_S3_BUCKET": "other", "ONAIR_S3_SECRET_KEY": "x"},
			want: S3{Endpoint: "127.0.0.1:9000", Bucket: "other", Region: "us-east-1", TLS: true, AccessKey: "onair", SecretKey: "x"}},
		{name: "s3 needs endpoint and bucket", yaml: "storage: {kind: s3}\n",
			wantErr: []string{"storage.s3.endpoint: must not be empty", "storage.s3.bucket: must not be empty"}},
		{name: "endpoint with a scheme", yaml: "storage: {kind: s3, s3: {endpoint: 'https://s3.example.net', bucket: media}}\n",
			wantErr: []string{"storage.s3.endpoint", "without a scheme"}},
		{name: "endpoint without port", yaml: "storage: {kind: s3, s3: {endpoint: s3.example.net, bucket: media}}\n",
			wantErr: []string{"storage.s3.endpoint", "not host:port"}},
		{name: "bad bucket and prefix", yaml: "storage: {kind: s3, s3: {endpoint: 'h:1', bucket: My_Bucket, prefix: 'a/../b'}}\n",
			wantErr: []string{"storage.s3.bucket", "storage.s3.prefix"}},
		{name: "access key without secret", yaml: minio, wantErr: []string{"storage.s3.access_key", "ONAIR_S3_SECRET_KEY"}},
		{name: "bad tls value", env: map[string]string{"ONAIR_S3_TLS": "maybe"}, wantErr: []string{"ONAIR_S3_TLS"}},
		{name: "unknown s3 key", yaml: "storage: {s3: {secret: x}}\n", wantErr: []string{"secret"}},
		{name: "unknown kind", env: map[string]string{"ONAIR_STORAGE_KIND": "tape"}, wantErr: []string{"storage.kind", "fs, s3"}},
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
					t.Fatal("want an error")
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
			if c.Storage.S3 != tt.want {
				t.Fatalf("storage.s3 = %+v, want %+v", c.Storage.S3, tt.want)
			}
		})
	}
}

func TestValidBucket(t *testing.T) {
	for name, want := range map[string]bool{
		"media": true, "live.media-1": true, "abc": true, strings.Repeat("a", 63): true,
		"ab": false, strings.Repeat("a", 64): false, "Media": false, "me_dia": false,
		"-media": false, "media.": false, "me..dia": false, "": false,
	} {
		if got := validBucket(name); got != want {
			t.Errorf("validBucket(%q) = %v, want %v", name, got, want)
		}
	}
}
