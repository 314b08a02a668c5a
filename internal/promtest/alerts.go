package promtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Alert is one alert as Prometheus' /api/v1/alerts shows it.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	// State is "pending" (waiting for its for: duration) or "firing".
	State    string    `json:"state"`
	ActiveAt time.Time `json:"activeAt"`
	// Value is the expression's value, as Prometheus formats it.
	Value string `json:"value"`
}

// Alerts returns the pending and firing alerts Prometheus holds now.
func (s *Stack) Alerts(ctx context.Context) ([]Alert, error) {
	s.mu.Lock()
	base := s.PrometheusURL
	s.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/alerts", nil)
	if err != nil {
		return nil, fmt.Errorf("prometheus alerts: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("prometheus alerts: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("prometheus alerts: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("prometheus alerts: %s: %.200s", resp.Status, body)
	}
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Alerts []Alert `json:"alerts"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("prometheus alerts: %w", err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("prometheus alerts: status %q", r.Status)
	}
	return r.Data.Alerts, nil
}
