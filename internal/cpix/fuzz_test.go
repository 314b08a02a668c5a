package cpix

import (
	"reflect"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, and a
// document it accepts must survive Marshal and Parse unchanged (unless it
// holds encrypted key delivery, which Marshal refuses); Validate must not
// panic on it either.
func FuzzParse(f *testing.F) {
	f.Add([]byte(awsStyleRequest))
	f.Add(mustMarshal(f, requestDoc()))
	f.Add(mustMarshal(f, responseDoc(f)))
	for _, tc := range parseErrorCases {
		if len(tc.doc) < 4096 {
			f.Add([]byte(tc.doc))
		}
	}
	for _, tc := range validateCases {
		d := responseDoc(f)
		tc.mutate(d)
		if b, err := Marshal(d); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		_ = d.Validate()
		b, err := Marshal(d)
		if err != nil {
			return
		}
		back, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(Marshal(doc)) failed: %v\ninput %q\noutput %q", err, data, b)
		}
		if !reflect.DeepEqual(back, d) {
			t.Fatalf("round trip changed the document\n%+v\n%+v", d, back)
		}
	})
}
