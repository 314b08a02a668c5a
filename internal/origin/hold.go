package origin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"onair/internal/live"
	"onair/internal/media"
)

// Results of a hold, the onair_origin_blocking_waits_total label.
const (
	holdOK       = "ok"
	holdTimeout  = "timeout"
	holdCanceled = "canceled"
	holdEnded    = "ended"
	// holdRegrouped: the channel's active pipeline changed; the request
	// is served again from the new one.
	holdRegrouped = "regrouped"
)

// regroupWait is how long a request held on a rendition that ended waits
// for its origin group to promote another pipeline.
const regroupWait = 2 * time.Second

// hold waits until rend holds part p of segment n (p < 0: segment n
// complete) or anything later. It returns nil when the object exists,
// ctx's error when the client went away, an *httpError (503) when the
// hold reached the block timeout, and errEnded when the rendition ended
// first.
func (o *Origin) hold(ctx context.Context, g media.Grid, rend *live.Rendition, n int64, p int, changed <-chan struct{}) error {
	wctx, cancel := context.WithTimeout(ctx, o.blockTimeout(g))
	defer cancel()
	if changed != nil {
		gctx, regroup := context.WithCancelCause(wctx)
		defer regroup(nil)
		stop := make(chan struct{})
		defer close(stop)
		go func() { // ends with the hold (stop)
			select {
			case <-changed:
				regroup(errRegrouped)
			case <-stop:
			}
		}()
		wctx = gctx
	}
	err := rend.Wait(wctx, n, p)
	switch {
	case err == nil:
		o.metrics.waits.WithLabelValues(holdOK).Inc()
		return nil
	case ctx.Err() != nil:
		o.metrics.waits.WithLabelValues(holdCanceled).Inc()
		return ctx.Err()
	case errors.Is(context.Cause(wctx), errRegrouped):
		o.metrics.waits.WithLabelValues(holdRegrouped).Inc()
		return errRegrouped
	case errors.Is(err, context.DeadlineExceeded):
		o.metrics.waits.WithLabelValues(holdTimeout).Inc()
		return unavailable(fmt.Errorf("%w: segment %d part %d after %v", errHoldTimeout, n, p, o.blockTimeout(g)))
	case errors.Is(err, live.ErrNotFound) && changed != nil:
		// A pipeline's rendition ends when its encoder dies; the group
		// promotes the standby moments later. Wait for that a little.
		t := time.NewTimer(regroupWait)
		defer t.Stop()
		select {
		case <-changed:
			o.metrics.waits.WithLabelValues(holdRegrouped).Inc()
			return errRegrouped
		case <-t.C:
		case <-wctx.Done():
		}
		o.metrics.waits.WithLabelValues(holdEnded).Inc()
		return errEnded
	case errors.Is(err, live.ErrNotFound):
		o.metrics.waits.WithLabelValues(holdEnded).Inc()
		return errEnded
	}
	return fmt.Errorf("wait for segment %d part %d: %w", n, p, err)
}

// block applies a blocking playlist reload directive (RFC 8216bis section
// 6.2.5.2): _HLS_msn more than two segments beyond the newest is a client
// error (400); otherwise the request is held until the playlist will
// contain the requested segment or part. A part index past the last part
// of a segment stands for part 0 of the next segment.
func (o *Origin) block(ctx context.Context, g media.Grid, rend *live.Rendition, d directive, changed <-chan struct{}) error {
	snap := rend.Snapshot()
	last, _, ok := snap.Last()
	if !ok {
		return notFound(errNotReady)
	}
	if d.msn > last+2 {
		return clientError(http.StatusBadRequest, fmt.Errorf("_HLS_msn %d beyond newest segment %d + 2", d.msn, last))
	}
	n, p := d.msn, d.part
	if p >= g.PartsPerSegment() {
		n, p = n+1, 0
	}
	err := o.hold(ctx, g, rend, n, p, changed)
	if errors.Is(err, errEnded) {
		// The requested part will not come in this session; answering with
		// a playlist that lacks it would break the client's reload logic.
		return unavailable(err)
	}
	return err
}
