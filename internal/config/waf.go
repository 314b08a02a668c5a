package config

// WAF configures the web application firewall in front of `onair serve`'s
// public port: the OWASP core rule set (Coraza) for the API, token,
// license and manifest requests, and cheap checks (URL shape, rate
// limits) for segment requests.
type WAF struct {
	// Enabled turns the WAF on. Default false: the full rule set costs
	// about 0.9 ms per API or playlist request.
	Enabled bool `yaml:"enabled"`
	// Paranoia is the CRS paranoia level, 1-4. Default 1.
	Paranoia int `yaml:"paranoia"`
	// IPRate and TokenRate are requests per second per client address
	// and per token (0: the defaults, 100 and 20; negative: off).
	IPRate    float64 `yaml:"ip_rate"`
	TokenRate float64 `yaml:"token_rate"`
}

func (w *WAF) validate(bad func(format string, a ...any)) {
	if w.Paranoia < 0 || w.Paranoia > 4 {
		bad("waf.paranoia: %d: want 1-4 (0 for the default)", w.Paranoia)
	}
}
