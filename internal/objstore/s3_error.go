package objstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/minio/minio-go/v7"
)

// S3Error is a failed S3 request: what was done to which key (or bucket),
// the cause, and a hint for the operator.
type S3Error struct {
	Op   string // put, get, delete, list, open bucket, create bucket
	Key  string // object key (without the store's prefix), list prefix or bucket
	Hint string // what to check
	Err  error
}

// Error reads "objstore: s3 put ch/720p/1.m4s: <cause> (hint: ...)".
func (e *S3Error) Error() string {
	return "objstore: s3 " + e.Op + " " + e.Key + ": " + e.Err.Error() + " (hint: " + e.Hint + ")"
}

// Unwrap returns the cause.
func (e *S3Error) Unwrap() error { return e.Err }

func (s *S3) wrap(op, key string, err error) error {
	return &S3Error{Op: op, Key: key, Err: err, Hint: s.hint(err)}
}

// s3Code returns the S3 error code of err ("NoSuchKey", ...) or "".
func s3Code(err error) string {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Code
	}
	return ""
}

func s3Status(err error) int {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.StatusCode
	}
	return 0
}

// hint turns the usual failures into what the operator should check.
func (s *S3) hint(err error) string {
	ep, bucket := s.cfg.Endpoint, s.cfg.Bucket
	switch code := s3Code(err); code {
	case minio.InvalidAccessKeyID, minio.SignatureDoesNotMatch, "InvalidSecurity", "InvalidToken", "ExpiredToken":
		return "wrong credentials: the server at " + ep + " rejected the access key or secret key"
	case minio.AccessDenied, minio.AllAccessDisabled:
		return "access denied: the access key has no permission on bucket " + bucket + " (check the key's policy)"
	case minio.NoSuchBucket:
		return "bucket " + bucket + " does not exist (it is created at start: was it deleted?)"
	case minio.BucketAlreadyExists:
		return "bucket name " + bucket + " is taken by another account: choose another bucket"
	case minio.InvalidRegion, minio.AuthorizationHeaderMalformed:
		return "wrong region: set the bucket's region (configured " + s.cfg.Region + ")"
	case minio.RequestTimeTooSkewed:
		return "this machine's clock is too far from the server's: sync it (NTP)"
	case "XMinioStorageFull", "SlowDown", "SlowDownWrite", "ServiceUnavailable":
		return "the S3 server is overloaded or full (" + code + ")"
	}
	if s3Status(err) == http.StatusForbidden {
		return "forbidden: check the access key, secret key and the key's permissions on bucket " + bucket
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr):
		return "the server's TLS certificate is not trusted for " + ep
	case errors.As(err, &recordErr), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "TLS mismatch: the server at " + ep + " does not speak https (set tls to false) or the other way round"
	case errors.Is(err, context.DeadlineExceeded):
		return "the S3 server at " + ep + " is too slow or unreachable"
	case errors.Is(err, context.Canceled):
		return "the request was cancelled (shutdown)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the S3 server at " + ep + " refuses connections: is it running? check the endpoint"
	}
	var netErr net.Error
	var dnsErr *net.DNSError
	var opErr *net.OpError
	if errors.As(err, &dnsErr) || errors.As(err, &opErr) || errors.As(err, &netErr) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "the S3 server at " + ep + " is unreachable: is it running? check the endpoint and network"
	}
	return "see the S3 server's logs for " + bucket
}
