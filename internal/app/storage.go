package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/config"
	"onair/internal/objstore"
)

// bucketCheckTimeout bounds the start-up check (and creation) of the S3
// bucket, so a black-holed endpoint fails the start instead of hanging it.
const bucketCheckTimeout = 15 * time.Second

// openStore opens the configured object store: files under MediaDir, or an
// S3 bucket, checked (credentials, reachability) and created if missing.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger, reg prometheus.Registerer) (objstore.Store, error) {
	switch cfg.Storage.Kind {
	case "s3":
		c := cfg.Storage.S3
		s3, err := objstore.NewS3(objstore.S3Config{
			Endpoint: c.Endpoint, Bucket: c.Bucket, Region: c.Region, Prefix: c.Prefix,
			TLS: c.TLS, AccessKey: c.AccessKey, SecretKey: c.SecretKey,
		}, reg)
		if err != nil {
			return nil, fmt.Errorf("storage.s3: %w", err)
		}
		bctx, cancel := context.WithTimeout(ctx, bucketCheckTimeout)
		defer cancel()
		if err := s3.EnsureBucket(bctx); err != nil {
			return nil, fmt.Errorf("storage.s3: %w", err)
		}
		log.Info("media objects in S3", "store", s3.String(), "tls", c.TLS)
		return s3, nil
	case "fs", "":
		return objstore.NewFS(cfg.MediaDir())
	}
	return nil, fmt.Errorf("storage.kind: %q is not supported", cfg.Storage.Kind)
}
