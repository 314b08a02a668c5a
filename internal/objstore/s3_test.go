package objstore

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"onair/internal/objstore/miniotest"
)

// s3Config returns a configuration for the test server.
func s3Config(srv *miniotest.Server, bucket string) S3Config {
	return S3Config{Endpoint: srv.Endpoint, Bucket: bucket, AccessKey: miniotest.AccessKey, SecretKey: miniotest.SecretKey}
}

// openS3 builds an S3 store on srv and ensures its bucket.
func openS3(t *testing.T, cfg S3Config, reg prometheus.Registerer) *S3 {
	t.Helper()
	s, err := NewS3(cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// rawClient talks to srv without the store, to check what is really there.
func rawClient(t *testing.T, srv *miniotest.Server) *minio.Client {
	t.Helper()
	c, err := minio.New(srv.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(miniotest.AccessKey, miniotest.SecretKey, ""),
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestS3Contract(t *testing.T) {
	srv := miniotest.Start(t)
	reg := prometheus.NewRegistry()
	s := openS3(t, s3Config(srv, "onair-contract"), reg)
	storeContract(t, s)

	// The requests show in the metrics, by operation and result.
	if got := testutil.ToFloat64(s.m.requests.WithLabelValues("put", "ok")); got != 3 {
		t.Errorf("put ok requests = %v, want 3", got)
	}
	if got := testutil.ToFloat64(s.m.requests.WithLabelValues("get", "not_found")); got != 2 {
		t.Errorf("get not_found requests = %v, want 2", got)
	}
	if n := testutil.CollectAndCount(reg, "onair_storage_s3_request_duration_seconds"); n == 0 {
		t.Error("no request latency exported")
	}
	if got := s.String(); got != "s3://"+srv.Endpoint+"/onair-contract/" {
		t.Errorf("String() = %q", got)
	}
}

func TestS3CreatesMissingBucket(t *testing.T) {
	srv := miniotest.Start(t)
	raw := rawClient(t, srv)
	if ok, err := raw.BucketExists(t.Context(), "fresh"); err != nil || ok {
		t.Fatalf("bucket exists before start: %v, %v", ok, err)
	}
	s := openS3(t, s3Config(srv, "fresh"), nil)
	if ok, err := raw.BucketExists(t.Context(), "fresh"); err != nil || !ok {
		t.Fatalf("bucket not created: %v, %v", ok, err)
	}
	// A second start (restart of onair) finds the bucket and keeps its data.
	if err := s.Put(t.Context(), "a/1.m4s", []byte("x")); err != nil {
		t.Fatal(err)
	}
	s2 := openS3(t, s3Config(srv, "fresh"), nil)
	if b, err := s2.Get(t.Context(), "a/1.m4s"); err != nil || string(b) != "x" {
		t.Fatalf("after second EnsureBucket: %q, %v", b, err)
	}
}

func TestS3Prefix(t *testing.T) {
	srv := miniotest.Start(t)
	ctx := t.Context()
	cfg := s3Config(srv, "shared")
	cfg.Prefix = "/tenant-a/onair/" // slashes around are tolerated
	a := openS3(t, cfg, nil)
	cfg.Prefix = "tenant-b"
	b := openS3(t, cfg, nil)
	cfg.Prefix = ""
	whole := openS3(t, cfg, nil)

	if err := a.Put(ctx, "ch/720p/1.m4s", []byte("a1")); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, "ch/720p/1.m4s", []byte("b1")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		store *S3
		list  string
		want  []string
	}{
		{"prefixed store sees its keys without the prefix", a, "ch/", []string{"ch/720p/1.m4s"}},
		{"other prefix is separate", b, "", []string{"ch/720p/1.m4s"}},
		{"unprefixed store sees the real object names", whole, "", []string{"tenant-a/onair/ch/720p/1.m4s", "tenant-b/ch/720p/1.m4s"}},
		{"list under a prefix", whole, "tenant-a/", []string{"tenant-a/onair/ch/720p/1.m4s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.store.List(ctx, tt.list)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("List(%q) = %v, want %v", tt.list, got, tt.want)
			}
		})
	}
	if got, err := a.Get(ctx, "ch/720p/1.m4s"); err != nil || string(got) != "a1" {
		t.Fatalf("prefixed Get = %q, %v", got, err)
	}
	obj, err := rawClient(t, srv).StatObject(ctx, "shared", "tenant-a/onair/ch/720p/1.m4s", minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("object not stored under the prefix: %v", err)
	}
	if obj.ContentType != "video/iso.segment" {
		t.Errorf("content type %q, want video/iso.segment", obj.ContentType)
	}
}

// The errors an operator sees for the usual mistakes name the cause.
func TestS3StartErrors(t *testing.T) {
	srv := miniotest.Start(t)
	tests := []struct {
		name   string
		mutate func(*S3Config)
		want   []string
	}{
		{"wrong secret key", func(c *S3Config) { c.SecretKey = "not-the-secret" }, []string{"open bucket", "wrong credentials", "secret key"}},
		{"unknown access key", func(c *S3Config) { c.AccessKey = "nobody" }, []string{"wrong credentials", "access key"}},
		{"https to an http server", func(c *S3Config) { c.TLS = true }, []string{"TLS mismatch", "set tls to false"}},
		{"nothing listening", func(c *S3Config) { c.Endpoint = closedPort(t) }, []string{"refuses connections", "is it running"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := s3Config(srv, "errs")
			tt.mutate(&cfg)
			s, err := NewS3(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err = s.EnsureBucket(ctx)
			if err == nil {
				t.Fatal("EnsureBucket succeeded")
			}
			t.Logf("operator sees: %v", err)
			var s3err *S3Error
			if !errors.As(err, &s3err) {
				t.Fatalf("%v is not an *S3Error", err)
			}
			for _, w := range append(tt.want, "errs") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestNewS3Validation(t *testing.T) {
	good := S3Config{Endpoint: "127.0.0.1:9000", Bucket: "media", AccessKey: "k", SecretKey: "secret"}
	tests := []struct {
		name   string
		mutate func(*S3Config)
		want   []string
	}{
		{"ok", func(*S3Config) {}, nil},
		{"anonymous", func(c *S3Config) { c.AccessKey, c.SecretKey = "", "" }, nil},
		{"no endpoint", func(c *S3Config) { c.Endpoint = "" }, []string{"endpoint: must not be empty"}},
		{"scheme", func(c *S3Config) { c.Endpoint = "http://127.0.0.1:9000" }, []string{"without a scheme"}},
		{"no port", func(c *S3Config) { c.Endpoint = "minio.local" }, []string{"not host:port"}},
		{"bad bucket", func(c *S3Config) { c.Bucket = "Media_Files" }, []string{"bucket"}},
		{"no bucket", func(c *S3Config) { c.Bucket = "" }, []string{"bucket"}},
		{"bad prefix", func(c *S3Config) { c.Prefix = "a/../b" }, []string{"prefix"}},
		{"key without secret", func(c *S3Config) { c.SecretKey = "" }, []string{"set together"}},
		{"every problem at once", func(c *S3Config) { c.Endpoint, c.Bucket = "", "" }, []string{"endpoint", "bucket"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mutate(&cfg)
			_, err := NewS3(cfg, nil)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// An S3 outage makes Put fail quickly with a clear error; after the
// server is back, writes work again and earlier objects are still there.
func TestS3Outage(t *testing.T) {
	srv := miniotest.Start(t)
	ctx := t.Context()
	reg := prometheus.NewRegistry()
	s := openS3(t, s3Config(srv, "outage"), reg)
	if err := s.Put(ctx, "ch/a/1.m4s", []byte("before")); err != nil {
		t.Fatal(err)
	}

	srv.Stop(t)
	start := time.Now()
	err := s.Put(ctx, "ch/a/2.m4s", []byte("during"))
	took := time.Since(start)
	if err == nil {
		t.Fatal("Put succeeded with the server stopped")
	}
	t.Logf("operator sees: %v", err)
	for _, w := range []string{"s3 put ch/a/2.m4s", "refuses connections", srv.Endpoint} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if took > 3*time.Second {
		t.Errorf("a failed Put took %v: client retries hold up live writes", took)
	}
	if _, err := s.Get(ctx, "ch/a/1.m4s"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Get during the outage = %v, want an error that is not ErrNotFound", err)
	}
	if got := testutil.ToFloat64(s.m.requests.WithLabelValues("put", "error")); got != 1 {
		t.Errorf("put error requests = %v, want 1", got)
	}

	srv.Restart(t)
	if err := s.Put(ctx, "ch/a/2.m4s", []byte("after")); err != nil {
		t.Fatalf("Put after restart: %v", err)
	}
	for key, want := range map[string]string{"ch/a/1.m4s": "before", "ch/a/2.m4s": "after"} {
		if b, err := s.Get(ctx, key); err != nil || string(b) != want {
			t.Errorf("Get(%s) after restart = %q, %v; want %q", key, b, err, want)
		}
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
