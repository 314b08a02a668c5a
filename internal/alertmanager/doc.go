// Package alertmanager decodes the notifications that Prometheus
// Alertmanager's webhook receiver sends (payload version "4", see
// https://prometheus.io/docs/alerting/latest/configuration/#webhook_config)
// and turns the firing alerts that ask onair to act into Promotion requests.
//
// An alert asks for a pipeline failover when it carries the label
// onair_action="promote_standby" together with the labels channel (an onair
// channel name) and pipeline ("a" or "b": the pipeline found faulty, the
// active one when the rule fired). The rules in deploy/prometheus/onair-rules.yml
// produce exactly such alerts. Resolved alerts and alerts without the action
// label are ignored; an action alert with a malformed label rejects the whole
// notification, so a mistake in an operator's rule is reported (HTTP 400)
// instead of silently doing nothing. Alertmanager does not retry a 4xx
// answer; it retries 5xx.
//
// The package does no HTTP and holds no state: the control plane reads the
// request body through Parse and hands the promotions to the failover
// controller, which decides whether promoting is still right (the named
// pipeline may no longer be the active one by the time the notification
// arrives, since Alertmanager repeats notifications).
//
// alertmanager imports only the standard library. Its functions are safe for
// concurrent use.
package alertmanager
