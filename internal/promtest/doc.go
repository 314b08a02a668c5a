// Package promtest runs a real Prometheus and a real Alertmanager as child
// processes for tests: Prometheus scrapes one target, evaluates a rule file
// and sends its alerts to the Alertmanager, which routes the alerts that ask
// onair to act (onair_action="promote_standby") to a webhook, as
// deploy/prometheus/alertmanager.yml does. Its own tests also check the
// files in deploy/prometheus with promtool and amtool.
//
// The binaries come from Debian's prometheus and prometheus-alertmanager
// packages (scripts/setup.sh installs them); a missing binary fails the
// test, it is never skipped. Both servers listen on 127.0.0.1 only, on free
// ports, with Alertmanager's cluster listener disabled, keep their data in
// t.TempDir(), scrape and evaluate every second, and are killed when the
// test ends. Every wait is bounded.
//
// promtest is for tests only (it imports testing) and imports no internal
// package. A Stack's methods are safe for concurrent use.
package promtest
