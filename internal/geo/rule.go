package geo

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Values of Rule.Unknown.
const (
	// UnknownAllow lets addresses the database does not place through.
	UnknownAllow = "allow"
	// UnknownDeny refuses addresses the database does not place.
	UnknownDeny = "deny"
)

// Reasons returned by Rule.Permits: short fixed words, fit for a log
// attribute or a metric label.
const (
	// ReasonUnrestricted: the rule restricts nothing.
	ReasonUnrestricted = "unrestricted"
	// ReasonAllowed: the country is in Allow (and not in Deny).
	ReasonAllowed = "allowed"
	// ReasonNotAllowed: Allow is set and the country is not in it.
	ReasonNotAllowed = "not_allowed"
	// ReasonDenied: the country is in Deny.
	ReasonDenied = "denied"
	// ReasonNotDenied: only Deny is set and the country is not in it.
	ReasonNotDenied = "not_denied"
	// ReasonUnknown: the country is unknown; Unknown decided.
	ReasonUnknown = "unknown"
)

// Rule restricts one channel's playback by country. The zero Rule
// restricts nothing.
//
// Codes are ISO 3166-1 alpha-2, two ASCII letters, any case (Normalize
// upper-cases them). Any two letters are accepted, including the
// user-assigned ones some databases use ("XX", "ZZ", "EU" in older
// GeoIP data): such a code matches only when the database returns it
// literally. An address the database does not place at all is not "XX":
// it is unknown, and Unknown decides.
type Rule struct {
	// Allow, when non-empty, is the only countries that may play.
	Allow []string
	// Deny is countries that may not play, whatever Allow says (a code
	// in both is a configuration error Normalize reports).
	Deny []string
	// Unknown is what happens to a client whose country is unknown (the
	// database does not place its address, or no database is loaded):
	// UnknownAllow or UnknownDeny. Default "": UnknownDeny when Allow is
	// set (an allow list is a promise that only those countries play),
	// UnknownAllow otherwise (a deny list should not lock out clients
	// behind unlisted ranges). With both lists empty an explicit
	// UnknownDeny still refuses unknown clients and lets every known
	// country play. Any other value (only possible on a Rule that was
	// not normalized) counts as UnknownDeny.
	Unknown string
}

// Restricted reports whether the rule can refuse anyone.
func (r Rule) Restricted() bool {
	return len(r.Allow) > 0 || len(r.Deny) > 0 || r.Unknown == UnknownDeny
}

// unknownAllowed reports what the rule does with an unknown country.
func (r Rule) unknownAllowed() bool {
	switch r.Unknown {
	case "":
		return len(r.Allow) == 0
	case UnknownAllow:
		return true
	default:
		return false
	}
}

// Permits decides whether a client in country iso may play. known is
// false when the country is unknown (iso is then ignored); an iso that is
// not two ASCII letters counts as unknown too. ok is the decision, reason
// one of the Reason constants. Deny is checked before Allow. Permits
// compares codes without regard to case, but an entry that is not two
// letters never matches: normalize the Rule at configuration time.
func (r Rule) Permits(iso string, known bool) (ok bool, reason string) {
	if !r.Restricted() {
		return true, ReasonUnrestricted
	}
	if known {
		iso, known = normalizeCode(iso)
	}
	if !known {
		return r.unknownAllowed(), ReasonUnknown
	}
	if containsCode(r.Deny, iso) {
		return false, ReasonDenied
	}
	if len(r.Allow) > 0 {
		if containsCode(r.Allow, iso) {
			return true, ReasonAllowed
		}
		return false, ReasonNotAllowed
	}
	if len(r.Deny) > 0 {
		return true, ReasonNotDenied
	}
	return true, ReasonUnrestricted
}

// containsCode reports whether list holds code, ignoring case. Lists are
// a handful of entries: a linear scan beats a map.
func containsCode(list []string, code string) bool {
	for _, c := range list {
		if strings.EqualFold(c, code) {
			return true
		}
	}
	return false
}

// Normalize returns r with codes upper-cased, sorted and de-duplicated
// and Unknown filled in with its default, or every problem at once: a
// code that is not two ASCII letters, a code both allowed and denied, an
// Unknown other than "", "allow" and "deny".
func (r Rule) Normalize() (Rule, error) {
	var errs []error
	allow, err := normalizeList(r.Allow)
	if err != nil {
		errs = append(errs, fmt.Errorf("allow: %w", err))
	}
	deny, err := normalizeList(r.Deny)
	if err != nil {
		errs = append(errs, fmt.Errorf("deny: %w", err))
	}
	var both []string
	for _, c := range allow {
		if _, found := slices.BinarySearch(deny, c); found {
			both = append(both, c)
		}
	}
	if len(both) > 0 {
		errs = append(errs, fmt.Errorf("%s both allowed and denied", strings.Join(both, ",")))
	}
	out := Rule{Allow: allow, Deny: deny, Unknown: r.Unknown}
	switch r.Unknown {
	case "":
		out.Unknown = UnknownAllow
		if len(allow) > 0 {
			out.Unknown = UnknownDeny
		}
	case UnknownAllow, UnknownDeny:
	default:
		errs = append(errs, fmt.Errorf("unknown: %q is neither %q nor %q", r.Unknown, UnknownAllow, UnknownDeny))
	}
	if len(errs) > 0 {
		return Rule{}, fmt.Errorf("geo rule: %w", errors.Join(errs...))
	}
	return out, nil
}

// Validate reports what Normalize would refuse.
func (r Rule) Validate() error {
	_, err := r.Normalize()
	return err
}

// String renders r for logs, as "allow=DE,FR deny= unknown=deny".
func (r Rule) String() string {
	return "allow=" + strings.Join(r.Allow, ",") + " deny=" + strings.Join(r.Deny, ",") + " unknown=" + r.Unknown
}
