package authz

import (
	"errors"
	"fmt"
	"iter"

	"github.com/cedar-policy/cedar-go"
	xast "github.com/cedar-policy/cedar-go/x/exp/ast"
	"github.com/cedar-policy/cedar-go/x/exp/schema"
	"github.com/cedar-policy/cedar-go/x/exp/schema/validate"
)

// namedPolicy is a parsed policy with the id from its @id annotation.
type namedPolicy struct {
	id     cedar.PolicyID
	policy *cedar.Policy
}

// policyList is an ordered cedar.PolicyIterator. A cedar.PolicySet is a
// map, so its reasons come out in random order; this keeps document order
// (built-in policies first), which makes Decision.Reasons deterministic.
type policyList []namedPolicy

// All implements cedar.PolicyIterator.
func (l policyList) All() iter.Seq2[cedar.PolicyID, *cedar.Policy] {
	return func(yield func(cedar.PolicyID, *cedar.Policy) bool) {
		for _, p := range l {
			if !yield(p.id, p.policy) {
				return
			}
		}
	}
}

// newValidator parses and resolves the Cedar schema.
func newValidator(name string, doc []byte) (*validate.Validator, error) {
	var s schema.Schema
	s.SetFilename(name)
	if err := s.UnmarshalCedar(doc); err != nil {
		return nil, fmt.Errorf("parse schema %s: %w", name, err)
	}
	r, err := s.Resolve()
	if err != nil {
		return nil, fmt.Errorf("resolve schema %s: %w", name, err)
	}
	return validate.New(r, validate.WithStrict()), nil
}

// parsePolicies parses a Cedar document in which every policy carries an
// @id annotation that is unique across the document and taken (the ids
// already loaded, with where they came from), and validates every policy
// against the schema. It reports every problem it finds, not just the
// first, each prefixed with "name:line:column".
func parsePolicies(name string, doc []byte, v *validate.Validator, taken map[cedar.PolicyID]string) (policyList, error) {
	list, err := cedar.NewPolicyListFromBytes(name, doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s: no policies", name)
	}
	var (
		out  policyList
		errs []error
	)
	for _, p := range list {
		pos := p.Position()
		at := fmt.Sprintf("%s:%d:%d", name, pos.Line, pos.Column)
		id, ok := p.Annotations()["id"]
		switch {
		case !ok || id == "":
			errs = append(errs, fmt.Errorf(`%s: policy has no @id("...") annotation: every policy needs a unique id so decisions can name it`, at))
			continue
		case taken[cedar.PolicyID(id)] != "":
			errs = append(errs, fmt.Errorf("%s: policy id %q is already used at %s", at, id, taken[cedar.PolicyID(id)]))
			continue
		}
		taken[cedar.PolicyID(id)] = at
		if err := v.Policy(string(id), (*xast.Policy)(p.AST())); err != nil {
			errs = append(errs, fmt.Errorf("%s: policy %q does not match the onair schema: %w", at, id, err))
			continue
		}
		out = append(out, namedPolicy{id: cedar.PolicyID(id), policy: p})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
