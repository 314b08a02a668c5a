package cpix

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Errors callers branch on. Every error of Parse wraps ErrMalformed or
// ErrTooLarge, every error of ParsePSSH wraps ErrMalformed, every error of
// Validate wraps ErrInvalid, and Marshal's refusals wrap ErrUnsupported.
var (
	// ErrMalformed: the input is not a well-formed CPIX document of the
	// expected shape, or uses a refused XML feature (DOCTYPE).
	ErrMalformed = errors.New("cpix: malformed")
	// ErrTooLarge: the input exceeds MaxDocumentSize or MaxDepth.
	ErrTooLarge = errors.New("cpix: document too large")
	// ErrInvalid: the document breaks a CPIX 2.3 rule (see Validate).
	ErrInvalid = errors.New("cpix: invalid document")
	// ErrUnsupported: the document uses a CPIX feature this package does
	// not implement (encrypted key delivery).
	ErrUnsupported = errors.New("cpix: unsupported feature")
)

// ValidationError lists every problem Validate found, one line each, in
// document order. It wraps ErrInvalid.
type ValidationError struct {
	Problems []string
}

// Error joins the problems with "; ".
func (e *ValidationError) Error() string {
	return "cpix: invalid document: " + strings.Join(e.Problems, "; ")
}

// Unwrap returns ErrInvalid.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

func errorf(format string, a ...any) error {
	return fmt.Errorf("cpix: "+format, a...)
}

// malformed returns an error wrapping ErrMalformed.
func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...)
}

// decodeBase64 decodes xs:base64Binary text: standard alphabet with
// padding; whitespace anywhere is ignored (XML Schema allows line breaks,
// and vendors wrap long PSSH values).
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, " \t\r\n") {
		s = strings.Map(func(r rune) rune {
			switch r {
			case ' ', '\t', '\r', '\n':
				return -1
			}
			return r
		}, s)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	return b, nil
}

// decode16 decodes base64 text that must hold exactly 16 bytes.
func decode16(s string) ([]byte, error) {
	b, err := decodeBase64(s)
	if err != nil {
		return nil, err
	}
	if len(b) != 16 {
		return nil, fmt.Errorf("want 16 bytes, base64 holds %d", len(b))
	}
	return b, nil
}

func encodeBase64(b []byte) string {
	return base64.StdEncoding.EncodeToString(b)
}

// DecodeBase64 decodes the base64 text of a CPIX element (PSSH,
// ContentProtectionData, HLSSignalingData...), ignoring whitespace.
func DecodeBase64(s string) ([]byte, error) {
	b, err := decodeBase64(s)
	if err != nil {
		return nil, errorf("%w", err)
	}
	return b, nil
}

// EncodeBase64 encodes b as CPIX element text (standard base64, padded).
func EncodeBase64(b []byte) string {
	return encodeBase64(b)
}
