package waf

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"

	"onair/internal/clientip"
)

// allowedMethods replaces CRS's default (GET HEAD POST OPTIONS): the
// control API changes channels with PATCH and removes them with DELETE,
// which rule 911100 would otherwise score as critical.
const allowedMethods = "GET HEAD POST OPTIONS PATCH DELETE"

// exclusions are onair's rule exclusions, loaded before the CRS rules
// (runtime ctl exclusions must run before the rules they change). Each
// is as narrow as the false positive it removes; TestNormalTraffic
// fails if one is needed and missing. Ids 1000-1099 are ours.
const exclusions = `
# A Clear Key license request (W3C EME, section 9.1.4) is a JSON body
# that players post as the raw bytes of the EME message: with no
# Content-Type (XHR or fetch of an ArrayBuffer: Shaka, dash.js) or as
# text/plain (fetch of a string). Rules 920340 (body without
# Content-Type) and 920420 (Content-Type not in the allowed list) would
# score either as critical. On POSTs to a path ending in /license only,
# parse the body as JSON instead, so its contents are still inspected
# (and a body that is not JSON is refused by rule 200002), and drop the
# one rule the Content-Type broke.
SecRule REQUEST_FILENAME "@endsWith /license" \
    "id:1000,phase:1,pass,t:none,nolog,chain"
    SecRule REQUEST_METHOD "@streq POST" "chain"
        SecRule &REQUEST_HEADERS:Content-Type "@eq 0" \
            "ctl:requestBodyProcessor=JSON,ctl:ruleRemoveById=920340"
SecRule REQUEST_FILENAME "@endsWith /license" \
    "id:1001,phase:1,pass,t:none,nolog,chain"
    SecRule REQUEST_METHOD "@streq POST" "chain"
        SecRule REQUEST_HEADERS:Content-Type "@rx ^text/plain\s*(?:;|$)" \
            "t:lowercase,ctl:requestBodyProcessor=JSON,ctl:ruleRemoveById=920420"

# A signed playback token (internal/signing: base64url(policy) "."
# base64url(64-byte signature) "." kid) is hundreds of random base64url
# characters; running the attack rules' patterns over it took more time
# than the rest of a playlist request (2.5 ms against 0.7 ms). A lone
# value with exactly the token grammar holds no character an attack
# needs (only A-Z a-z 0-9 - _ .), so it is taken out of the targets of
# the attack-detection rules (930000-944999: LFI, RFI, RCE, PHP, generic,
# XSS, SQLi, session fixation, Java); the protocol rules still see it.
# Any other value, or a repeated parameter or cookie, is inspected by
# every rule as usual. The parameter check runs in phase 2, once ARGS
# holds the body's parameters too (a form field of the same name must
# not ride on a valid query token), so it spares the phase 2 rules,
# where nearly all the cost is.
SecRule &ARGS:onair_token "@eq 1" \
    "id:1002,phase:2,pass,t:none,nolog,chain"
    SecRule ARGS:onair_token "@le 2048" "t:length,chain"
        SecRule ARGS:onair_token "@rx ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}\.[A-Za-z0-9_-]{1,32}$" \
            "t:none,ctl:ruleRemoveTargetById=930000-944999;ARGS:onair_token"
SecRule &REQUEST_COOKIES:onair_token "@eq 1" \
    "id:1003,phase:1,pass,t:none,nolog,chain"
    SecRule REQUEST_COOKIES:onair_token "@le 2048" "t:length,chain"
        SecRule REQUEST_COOKIES:onair_token "@rx ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}\.[A-Za-z0-9_-]{1,32}$" \
            "t:none,ctl:ruleRemoveTargetById=930000-944999;REQUEST_COOKIES:onair_token"
`

// directives returns the SecLang configuration of cfg: Coraza's
// recommended base (engine switched from DetectionOnly to On, response
// inspection and audit log off: only requests are checked), the CRS
// setup with cfg's paranoia level and threshold, onair's exclusions, the
// CRS request rules, then cfg.Directives.
func directives(cfg *Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, `Include @coraza.conf-recommended
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit %[1]d
SecRequestBodyInMemoryLimit %[1]d
SecResponseBodyAccess Off
SecAuditEngine Off
Include @crs-setup.conf.example
SecAction "id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=%[2]d"
SecAction "id:900110,phase:1,pass,t:none,nolog,setvar:tx.inbound_anomaly_score_threshold=%[3]d,setvar:tx.outbound_anomaly_score_threshold=4"
SecAction "id:900200,phase:1,pass,t:none,nolog,setvar:'tx.allowed_methods=%[4]s'"
`,
		// The middleware enforces the body limit (413) before Coraza sees
		// the body; Coraza refuses a body that reaches its own limit, so
		// its limit is one byte more.
		cfg.RequestBodyLimit+1,
		cfg.Paranoia, cfg.AnomalyThreshold, allowedMethods)
	b.WriteString(exclusions)
	// Only the request rules: responses are not inspected, so the
	// RESPONSE-* files would be parsed for nothing.
	b.WriteString("\nInclude @owasp_crs/REQUEST-*.conf\n")
	b.WriteString(cfg.Directives)
	b.WriteByte('\n')
	return b.String()
}

// newEngine compiles cfg's rules.
func newEngine(cfg *Config) (coraza.WAF, error) {
	w, err := coraza.NewWAF(coraza.NewWAFConfig().
		WithRootFS(coreruleset.FS).
		WithDirectives(directives(cfg)))
	if err != nil {
		return nil, fmt.Errorf("compile rules: %w", err)
	}
	return w, nil
}

// hit is a request the rules blocked.
type hit struct {
	status int    // the interrupting rule's status: 403, or 400 for an unparsable body
	rule   int    // the interrupting rule (949110: anomaly score exceeded)
	rules  []int  // the detection rules that matched, in order
	msg    string // the first detection rule's message, else the interrupting rule's
	data   string // that rule's logdata (the matched value, truncated by CRS)
	score  int    // the inbound anomaly score
}

// inspect runs the rules on r, whose body (nil for none) has already been
// read. It returns nil when r may pass.
func inspect(engine coraza.WAF, r *http.Request, body []byte, client netip.Addr) (*hit, error) {
	var tx types.Transaction
	if ow, ok := engine.(experimental.WAFWithOptions); ok {
		tx = ow.NewTransactionWithOptions(experimental.Options{Context: r.Context()})
	} else {
		tx = engine.NewTransaction()
	}
	defer tx.Close()
	if tx.IsRuleEngineOff() {
		return nil, nil
	}
	it, err := feed(tx, r, body, client)
	if err != nil || it == nil {
		return nil, err
	}
	h := &hit{status: it.Status, rule: it.RuleID, score: anomalyScore(tx)}
	if h.status < 400 || h.status > 499 {
		h.status = http.StatusForbidden
	}
	for _, mr := range tx.MatchedRules() {
		// Detection rules have a severity; setup and flow-control rules
		// (901340 "Enabling body inspection", 949110 itself) have none.
		id := mr.Rule().ID()
		if mr.Rule().Severity() == types.RuleSeverityUnset || id == it.RuleID {
			continue
		}
		h.rules = append(h.rules, id)
		if h.msg == "" {
			h.msg, h.data = mr.Message(), mr.Data()
		}
	}
	if h.msg == "" {
		for _, mr := range tx.MatchedRules() {
			if mr.Rule().ID() == it.RuleID {
				h.msg, h.data = mr.Message(), mr.Data()
			}
		}
	}
	return h, nil
}

// feed gives r to tx, phases 1 (connection, URI, headers) and 2 (body),
// and returns the interruption if any.
func feed(tx types.Transaction, r *http.Request, body []byte, client netip.Addr) (*types.Interruption, error) {
	peer, port := splitPeer(r.RemoteAddr)
	if client.IsValid() {
		peer = client.String()
	}
	tx.ProcessConnection(peer, port, "", 0)
	// The raw target, as the client sent it: the rules decode it
	// themselves, and a re-encoded URL would hide evasions.
	tx.ProcessURI(requestTarget(r), r.Method, r.Proto)
	for k, vs := range r.Header {
		for _, v := range vs {
			tx.AddRequestHeader(k, v)
		}
	}
	// net/http moves Host and Transfer-Encoding out of r.Header; rules
	// about both (request smuggling, 920171) need them back.
	if r.Host != "" {
		tx.AddRequestHeader("Host", r.Host)
		tx.SetServerName(r.Host)
	}
	for _, te := range r.TransferEncoding {
		tx.AddRequestHeader("Transfer-Encoding", te)
	}
	if it := tx.ProcessRequestHeaders(); it != nil {
		return it, nil
	}
	if len(body) > 0 && tx.IsRequestBodyAccessible() {
		it, _, err := tx.WriteRequestBody(body)
		if err != nil {
			return nil, fmt.Errorf("inspect request body: %w", err)
		}
		if it != nil {
			return it, nil
		}
	}
	it, err := tx.ProcessRequestBody()
	if err != nil {
		return nil, fmt.Errorf("inspect request body: %w", err)
	}
	return it, nil
}

// anomalyScore returns the CRS inbound anomaly score of tx, 0 if it
// cannot be read.
func anomalyScore(tx types.Transaction) int {
	st, ok := tx.(plugintypes.TransactionState)
	if !ok {
		return 0
	}
	for _, v := range st.Variables().TX().Get("blocking_inbound_anomaly_score") {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return 0
}

// requestTarget returns r's target as sent (origin form).
func requestTarget(r *http.Request) string {
	if r.RequestURI != "" {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

// splitPeer returns the address and port of a RemoteAddr.
func splitPeer(remote string) (string, int) {
	a, err := netip.ParseAddrPort(remote)
	if err != nil {
		if p, ok := clientip.Parse(remote); ok {
			return p.String(), 0
		}
		return remote, 0
	}
	return a.Addr().Unmap().String(), int(a.Port())
}
