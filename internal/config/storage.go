package config

import (
	"net"
	"strings"
)

// S3 configures an S3-compatible object store (AWS S3, MinIO, Ceph RGW,
// ...), used when storage.kind is "s3". Requests are path-style, so any
// host:port works.
type S3 struct {
	// Endpoint is host:port without a scheme, e.g.
	// "s3.eu-west-1.amazonaws.com:443" or "127.0.0.1:9000". Required.
	Endpoint string `yaml:"endpoint"`
	// Bucket holds the media objects; created at start if missing.
	// Required.
	Bucket string `yaml:"bucket"`
	// Region of the bucket. Default "us-east-1" (MinIO's default).
	Region string `yaml:"region"`
	// Prefix is put before every object key ("onair" stores
	// "ch/720p/1.m4s" as "onair/ch/720p/1.m4s"), so a bucket can be
	// shared. Default "" (none).
	Prefix string `yaml:"prefix"`
	// TLS selects https. Default true; false for a MinIO on plain http.
	TLS bool `yaml:"tls"`
	// AccessKey and SecretKey sign every request. Both empty: anonymous.
	// Set the secret with ONAIR_S3_SECRET_KEY rather than in the file.
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
}

// DefaultS3 returns the S3 section's defaults.
func DefaultS3() S3 {
	return S3{Region: "us-east-1", TLS: true}
}

// validate reports the S3 section's problems through bad, each naming its
// field.
func (s *S3) validate(bad func(format string, a ...any)) {
	switch {
	case s.Endpoint == "":
		bad("storage.s3.endpoint: must not be empty for storage.kind s3 (host:port, e.g. 127.0.0.1:9000)")
	case strings.Contains(s.Endpoint, "://"):
		bad("storage.s3.endpoint: %q must be host:port without a scheme (storage.s3.tls selects https)", s.Endpoint)
	default:
		if _, _, err := net.SplitHostPort(s.Endpoint); err != nil {
			bad("storage.s3.endpoint: %q is not host:port: %v", s.Endpoint, err)
		}
	}
	switch {
	case s.Bucket == "":
		bad("storage.s3.bucket: must not be empty for storage.kind s3")
	case !validBucket(s.Bucket):
		bad("storage.s3.bucket: %q is not a bucket name (3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit)", s.Bucket)
	}
	if p := strings.Trim(s.Prefix, "/"); p != "" && !validPrefix(p) {
		bad("storage.s3.prefix: %q must be slash-separated names of letters, digits, '.', '_' and '-' (no '.' or '..')", s.Prefix)
	}
	if (s.AccessKey == "") != (s.SecretKey == "") {
		bad("storage.s3.access_key and storage.s3.secret_key (ONAIR_S3_SECRET_KEY) must be set together")
	}
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 || strings.Contains(b, "..") {
		return false
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !alnum(c) && ((c != '.' && c != '-') || i == 0 || i == len(b)-1) {
			return false
		}
	}
	return true
}

// validPrefix mirrors objstore.ValidKey, which config may not import.
func validPrefix(p string) bool {
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || el == ".." {
			return false
		}
		for _, c := range el {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}
