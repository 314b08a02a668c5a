// Package objstore stores immutable media objects (init segments, segments,
// parts) under slash-separated keys, behind one small Store interface with
// two backends: FS (files under a directory, the default) and S3 (one
// bucket of an S3-compatible server: AWS S3, MinIO, ...).
//
// Keys are validated by ValidKey: relative, slash-separated, made of
// [A-Za-z0-9._-] elements, never "." or "..", so a key can never escape the
// store's root (or the S3 store's key prefix).
//
// Errors name the operation and the key; Get of a missing key wraps
// ErrNotFound. An S3 failure is an *S3Error whose message ends with a hint
// for the operator (wrong credentials, server unreachable, TLS mismatch,
// wrong region...). S3 requests are counted, by operation and result, and
// timed on the prometheus.Registerer given to NewS3.
//
// Concurrency: every Store is safe for concurrent use. objstore imports no
// internal package (only minio-go and the Prometheus client); its tests run
// the S3 backend against a real MinIO server (package miniotest).
package objstore
