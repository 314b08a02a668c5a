// Package failover decides which of a channel's output-locked pipelines
// serves viewers. A Controller holds the active pipeline; the caller
// observes every pipeline's health on a tick (Observe) and carries out the
// Decisions it returns: repoint the origin group, publish the event.
// Operators and alert webhooks promote through Promote, under the same
// rules.
//
// A pipeline is unhealthy when it is not running, when its encoder is
// down, or when its manifest age (the time since its slowest rendition of
// the current session last gained a part or segment) is over the
// threshold. The active pipeline gives way only to a healthy standby, and
// at most once per hold time, so two sick pipelines never flap.
//
// The package imports only the standard library; a Controller is safe for
// concurrent use.
package failover
