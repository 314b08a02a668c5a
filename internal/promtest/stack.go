package promtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// stopGrace is how long a server gets to exit on SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// Stack is a running Prometheus and Alertmanager pair.
type Stack struct {
	// PrometheusURL is Prometheus' base URL, "http://127.0.0.1:<port>".
	PrometheusURL string
	// AlertmanagerURL is Alertmanager's base URL.
	AlertmanagerURL string

	mu         sync.Mutex
	prometheus *process
	alertman   *process
}

// Start starts Alertmanager, then Prometheus, with the configuration that
// cfg describes, waits until both answer /-/ready and returns. The servers
// are stopped in t.Cleanup; their output is logged there if the test
// failed. A missing binary, a bad cfg or a server that does not get ready
// within cfg.ReadyTimeout fails the test.
func Start(t testing.TB, cfg Config) *Stack {
	t.Helper()
	cfg, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	promBin, err := binary("prometheus")
	if err != nil {
		t.Fatal(err)
	}
	amBin, err := binary("prometheus-alertmanager", "alertmanager")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &Stack{}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("promtest: server output:\n%s", s.Logs())
		}
	})
	// The ports are picked by binding :0 and closing, so another process
	// may take one before a server binds it: try again with new ports.
	for attempt := 1; ; attempt++ {
		err := s.start(t.Context(), cfg, dir, promBin, amBin)
		if err == nil {
			return s
		}
		if attempt == 3 || !errors.Is(err, errAddrInUse) {
			t.Fatalf("promtest: %v", err)
		}
		t.Logf("promtest: %v; retrying on other ports", err)
		s.stop()
	}
}

var errAddrInUse = errors.New("address already in use")

func (s *Stack) start(ctx context.Context, cfg Config, dir, promBin, amBin string) error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	amAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	promAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	run, err := os.MkdirTemp(dir, "run-")
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	amConf, err := alertmanagerConfig(cfg)
	if err != nil {
		return fmt.Errorf("alertmanager config: %w", err)
	}
	promConf, err := prometheusConfig(cfg, amAddr)
	if err != nil {
		return fmt.Errorf("prometheus config: %w", err)
	}
	amFile, promFile := filepath.Join(run, "alertmanager.yml"), filepath.Join(run, "prometheus.yml")
	if err := os.WriteFile(amFile, amConf, 0o600); err != nil { // may hold the token
		return fmt.Errorf("alertmanager config: %w", err)
	}
	if err := os.WriteFile(promFile, promConf, 0o600); err != nil {
		return fmt.Errorf("prometheus config: %w", err)
	}

	am, err := startProcess("alertmanager", amBin, []string{
		"--config.file=" + amFile,
		"--storage.path=" + filepath.Join(run, "alertmanager"),
		"--web.listen-address=" + amAddr,
		"--web.external-url=http://" + amAddr + "/",
		"--cluster.listen-address=", // no gossip listener (default 0.0.0.0:9094)
		"--log.level=info",
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.alertman, s.AlertmanagerURL = am, "http://"+amAddr
	s.mu.Unlock()
	if err := waitReady(ctx, am, s.AlertmanagerURL, cfg.ReadyTimeout); err != nil {
		return err
	}

	prom, err := startProcess("prometheus", promBin, []string{
		"--config.file=" + promFile,
		"--storage.tsdb.path=" + filepath.Join(run, "prometheus"),
		"--web.listen-address=" + promAddr,
		"--web.external-url=http://" + promAddr + "/",
		// Re-send firing alerts every interval (default 1m), so one lost
		// while Alertmanager starts is not a minute late.
		"--rules.alert.resend-delay=" + promDuration(cfg.Interval),
		"--log.level=info",
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.prometheus, s.PrometheusURL = prom, "http://"+promAddr
	s.mu.Unlock()
	return waitReady(ctx, prom, s.PrometheusURL, cfg.ReadyTimeout)
}

func waitReady(ctx context.Context, p *process, base string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := p.waitReady(ctx, base+"/-/ready")
	if err != nil && p.addrInUse() {
		return fmt.Errorf("%s: %w", p.name, errAddrInUse)
	}
	return err
}

// Logs returns the tail of both servers' output.
func (s *Stack) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out string
	for _, p := range []*process{s.alertman, s.prometheus} {
		if p != nil {
			out += "--- " + p.name + "\n" + p.out.String()
		}
	}
	return out
}

// stop stops both servers and waits for them to exit.
func (s *Stack) stop() {
	s.mu.Lock()
	prom, am := s.prometheus, s.alertman
	s.mu.Unlock()
	if prom != nil {
		prom.stop(stopGrace)
	}
	if am != nil {
		am.stop(stopGrace)
	}
}

// binary finds the first of names on PATH, or says how to install it.
func binary(names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("promtest: %s not found on PATH: run scripts/setup.sh (Debian packages prometheus, prometheus-alertmanager)", names[0])
}
