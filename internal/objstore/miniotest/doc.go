// Package miniotest runs a real MinIO server process for tests of the S3
// object store: Start finds a minio binary ($ONAIR_MINIO, then PATH, then
// the cache $HOME/.cache/onair/bin/minio), building it with `go install`
// into the cache if there is none, starts it on free 127.0.0.1 ports with
// a temporary data directory, and waits until /minio/health/live answers.
// Stop and Restart simulate an outage; t.Cleanup kills the process.
//
// Linux only (process groups, parent-death signal, flock). It imports no
// internal package, so objstore's own tests can use it.
//
// Concurrency: a Server's methods are safe for concurrent use, but Stop and
// Restart call t.Fatal and so belong on the test's goroutine.
package miniotest
