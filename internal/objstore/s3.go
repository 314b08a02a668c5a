package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied by NewS3 to zero S3Config fields.
const (
	DefaultS3Region   = "us-east-1"
	DefaultS3Attempts = 3
)

// S3Config configures an S3 store.
type S3Config struct {
	// Endpoint is the server's host:port, without a scheme
	// ("s3.eu-west-1.amazonaws.com:443", "127.0.0.1:9000").
	Endpoint string
	// Bucket holds every object. EnsureBucket creates it if missing.
	Bucket string
	// Region of the bucket, default "us-east-1" (MinIO's default).
	Region string
	// Prefix, if set, is put before every key ("onair" stores
	// "ch/720p/1.m4s" as "onair/ch/720p/1.m4s"), so several onair
	// instances or other data can share one bucket.
	Prefix string
	// TLS selects https.
	TLS bool
	// AccessKey and SecretKey sign every request (AWS signature v4).
	AccessKey string
	SecretKey string
	// Attempts per request, including the first, default 3. Keep it low:
	// the packager has its own retry queue, and a long client-side retry
	// loop would hold up live writes during an outage.
	Attempts int
}

// S3 stores objects in one bucket of an S3-compatible server (AWS S3,
// MinIO, ...), with path-style requests so any host:port works.
type S3 struct {
	cfg    S3Config
	prefix string // "" or ends in "/"
	client *minio.Client
	m      *s3Metrics
}

// NewS3 validates cfg and builds the client. It performs no I/O: call
// EnsureBucket before use. reg may be nil (metrics are then not exported).
func NewS3(cfg S3Config, reg prometheus.Registerer) (*S3, error) {
	if cfg.Region == "" {
		cfg.Region = DefaultS3Region
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultS3Attempts
	}
	var errs []error
	if cfg.Endpoint == "" {
		errs = append(errs, errors.New("endpoint: must not be empty"))
	} else if strings.Contains(cfg.Endpoint, "://") {
		errs = append(errs, fmt.Errorf("endpoint: %q must be host:port without a scheme (use tls for https)", cfg.Endpoint))
	} else if _, _, err := net.SplitHostPort(cfg.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("endpoint: %q is not host:port: %w", cfg.Endpoint, err))
	}
	if err := s3utils.CheckValidBucketNameStrict(cfg.Bucket); err != nil {
		errs = append(errs, fmt.Errorf("bucket: %q: %w", cfg.Bucket, err))
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if err := ValidKey(prefix); err != nil {
			errs = append(errs, fmt.Errorf("prefix: %w", err))
		}
		prefix += "/"
	}
	if (cfg.AccessKey == "") != (cfg.SecretKey == "") {
		errs = append(errs, errors.New("access key and secret key must be set together"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("objstore: s3: %w", errors.Join(errs...))
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.TLS,
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   cfg.Attempts,
	})
	if err != nil {
		return nil, fmt.Errorf("objstore: s3 client for %s: %w", cfg.Endpoint, err)
	}
	m, err := newS3Metrics(reg)
	if err != nil {
		return nil, err
	}
	return &S3{cfg: cfg, prefix: prefix, client: client, m: m}, nil
}

// String describes the store for logs ("s3://127.0.0.1:9000/bucket/prefix/").
func (s *S3) String() string {
	return "s3://" + s.cfg.Endpoint + "/" + s.cfg.Bucket + "/" + s.prefix
}

// EnsureBucket checks that the bucket is reachable with the configured
// credentials and creates it if it does not exist.
func (s *S3) EnsureBucket(ctx context.Context) error {
	start := time.Now()
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	s.m.observe("bucket", start, err)
	if err != nil {
		return s.wrap("open bucket", s.cfg.Bucket, err)
	}
	if ok {
		return nil
	}
	start = time.Now()
	err = s.client.MakeBucket(ctx, s.cfg.Bucket, minio.MakeBucketOptions{Region: s.cfg.Region})
	if code := s3Code(err); code == minio.BucketAlreadyOwnedByYou {
		err = nil // created concurrently by another instance
	}
	s.m.observe("bucket", start, err)
	if err != nil {
		return s.wrap("create bucket", s.cfg.Bucket, err)
	}
	return nil
}

// Put uploads the object in one request; S3 makes it visible whole or
// not at all.
func (s *S3) Put(ctx context.Context, key string, data []byte) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	start := time.Now()
	_, err := s.client.PutObject(ctx, s.cfg.Bucket, s.prefix+key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: contentType(key)})
	s.m.observe("put", start, err)
	if err != nil {
		return s.wrap("put", key, err)
	}
	return nil
}

// Get downloads the object.
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ValidKey(key); err != nil {
		return nil, err
	}
	start := time.Now()
	b, err := s.get(ctx, s.prefix+key)
	if s3Code(err) == minio.NoSuchKey {
		s.m.requests.WithLabelValues("get", "not_found").Inc()
		s.m.latency.WithLabelValues("get").Observe(time.Since(start).Seconds())
		return nil, fmt.Errorf("objstore: s3 get %s: %w", key, ErrNotFound)
	}
	s.m.observe("get", start, err)
	if err != nil {
		return nil, s.wrap("get", key, err)
	}
	return b, nil
}

func (s *S3) get(ctx context.Context, name string) ([]byte, error) {
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	return io.ReadAll(obj)
}

// Delete removes the object; S3 answers a delete of a missing key with
// success, so Delete is idempotent.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	start := time.Now()
	err := s.client.RemoveObject(ctx, s.cfg.Bucket, s.prefix+key, minio.RemoveObjectOptions{})
	if s3Code(err) == minio.NoSuchKey {
		err = nil
	}
	s.m.observe("delete", start, err)
	if err != nil {
		return s.wrap("delete", key, err)
	}
	return nil
}

// List returns every key under prefix (recursively), without the store's
// own key prefix.
func (s *S3) List(ctx context.Context, prefix string) ([]string, error) {
	if prefix != "" {
		if err := ValidKey(strings.TrimSuffix(prefix, "/")); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the lister's goroutine on an early return
	var keys []string
	var err error
	for obj := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if obj.Err != nil {
			err = obj.Err
			break
		}
		keys = append(keys, strings.TrimPrefix(obj.Key, s.prefix))
	}
	s.m.observe("list", start, err)
	if err != nil {
		return nil, s.wrap("list", prefix, err)
	}
	return keys, nil
}

// contentType is the Content-Type stored with an object, so a CDN or a
// browser fetching straight from the bucket gets the right one.
func contentType(key string) string {
	switch path.Ext(key) {
	case ".mp4":
		return "video/mp4"
	case ".m4s":
		return "video/iso.segment"
	}
	return "application/octet-stream"
}
