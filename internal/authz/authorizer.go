package authz

import (
	_ "embed"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/cedar-policy/cedar-go"
	"github.com/prometheus/client_golang/prometheus"
)

//go:embed policies.cedar
var builtinPolicies []byte

//go:embed onair.cedarschema
var builtinSchema []byte

// warnEvery bounds how often one policy's evaluation error is logged.
const warnEvery = time.Minute

// Config selects extra policies.
type Config struct {
	// PolicyFile is a Cedar document of operator policies added to the
	// built-in ones ("" for none, the default). Every policy in it needs a
	// unique @id annotation and must match the schema; New reads it once.
	PolicyFile string
}

// Decision is the answer to one request.
type Decision struct {
	Allowed bool
	// Reasons are the @ids of the policies that decided: the permits that
	// matched when allowed, the forbids that matched when denied, none when
	// denied because nothing permitted the request.
	Reasons []string
	// Errors are evaluation errors ("policy-id: message"). Cedar skips a
	// policy whose evaluation fails, so an error can only turn a would-be
	// permit or forbid into no opinion; a request is never allowed because
	// of an error.
	Errors []string
}

// Authorizer evaluates requests against the built-in and operator policies.
type Authorizer struct {
	log       *slog.Logger
	policies  policyList
	ids       []string
	decisions *prometheus.CounterVec // action, decision
	counters  map[string]outcomeCounters

	mu     sync.Mutex
	warned map[string]time.Time // policy id -> last logged evaluation error
}

// New loads and validates the embedded policies and cfg.PolicyFile, and
// registers onair_authz_decisions_total on reg. A malformed policy file is
// an error naming the file, line and column of every problem.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Authorizer, error) {
	v, err := newValidator("onair.cedarschema", builtinSchema)
	if err != nil {
		return nil, fmt.Errorf("authz: built-in %w", err)
	}
	taken := map[cedar.PolicyID]string{}
	policies, err := parsePolicies("policies.cedar", builtinPolicies, v, taken)
	if err != nil {
		return nil, fmt.Errorf("authz: built-in policies: %w", err)
	}
	if cfg.PolicyFile != "" {
		doc, err := os.ReadFile(cfg.PolicyFile)
		if err != nil {
			return nil, fmt.Errorf("authz: policy file: %w", err)
		}
		extra, err := parsePolicies(cfg.PolicyFile, doc, v, taken)
		if err != nil {
			return nil, fmt.Errorf("authz: policy file: %w", err)
		}
		policies = append(policies, extra...)
	}
	a := &Authorizer{
		log:      log,
		policies: policies,
		warned:   map[string]time.Time{},
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_authz_decisions_total",
			Help: "Authorization decisions by action and decision (allow, deny); action is \"unknown\" for names the policies do not know.",
		}, []string{"action", "decision"}),
	}
	for _, p := range policies {
		a.ids = append(a.ids, string(p.id))
	}
	if err := reg.Register(a.decisions); err != nil {
		return nil, fmt.Errorf("authz: register metrics: %w", err)
	}
	a.counters = map[string]outcomeCounters{}
	for _, act := range append(Actions(), "unknown") { // zeros exposed too
		a.counters[act] = outcomeCounters{
			allow: a.decisions.WithLabelValues(act, "allow"),
			deny:  a.decisions.WithLabelValues(act, "deny"),
		}
	}
	if log != nil {
		log.Debug("authorization policies loaded", "role", "authz", "policies", a.ids)
	}
	return a, nil
}

// PolicyIDs returns the ids of the loaded policies, built-in first, in
// document order.
func (a *Authorizer) PolicyIDs() []string { return slices.Clone(a.ids) }

// Authorize decides whether p may perform action on r. Unknown actions and
// resource types are denied with an error and evaluate no policy.
func (a *Authorizer) Authorize(p Principal, action string, r Resource) Decision {
	counters, ok := a.counters[action]
	if !ok {
		a.counters["unknown"].deny.Inc()
		return Decision{Errors: []string{fmt.Sprintf("unknown action %q", action)}}
	}
	if !knownType(r.Type) {
		counters.deny.Inc()
		return Decision{Errors: []string{fmt.Sprintf("unknown resource type %q", r.Type)}}
	}
	ents := requestEntities{principal: p.entity(), resource: r.entity()}
	req := cedar.Request{
		Principal: ents.principal.UID,
		Action:    cedar.NewEntityUID("Action", cedar.String(action)),
		Resource:  ents.resource.UID,
		Context:   cedar.NewRecord(nil),
	}
	answer, diag := cedar.Authorize(a.policies, &ents, req)
	d := Decision{Allowed: answer == cedar.Allow}
	for _, reason := range diag.Reasons {
		d.Reasons = append(d.Reasons, string(reason.PolicyID))
	}
	for _, e := range diag.Errors {
		d.Errors = append(d.Errors, string(e.PolicyID)+": "+e.Message)
		a.warnEvalError(string(e.PolicyID), e.Message)
	}
	if d.Allowed {
		counters.allow.Inc()
	} else {
		counters.deny.Inc()
	}
	return d
}

// outcomeCounters are one action's decision counters, resolved once.
type outcomeCounters struct{ allow, deny prometheus.Counter }

// warnEvalError logs a policy's evaluation error at most once per
// warnEvery: a broken operator policy fails on every request.
func (a *Authorizer) warnEvalError(id, msg string) {
	if a.log == nil {
		return
	}
	now := time.Now()
	a.mu.Lock()
	last, seen := a.warned[id]
	log := !seen || now.Sub(last) >= warnEvery
	if log {
		a.warned[id] = now
	}
	a.mu.Unlock()
	if log {
		a.log.Warn("authorization policy fails to evaluate; it is skipped (logged once a minute)",
			"role", "authz", "policy", id, "error", msg)
	}
}
