// Package cpix reads, writes and checks DASH-IF CPIX 2.3 documents
// (Content Protection Information Exchange Format, DASH-IF CPIX v2.3), the
// payload of the SPEKE v2.0 key exchange between an encryptor and a key
// provider.
//
// A Document is the typed form of the subset of CPIX 2.3 that SPEKE v2.0
// uses:
//
//	<cpix:CPIX contentId="..." version="2.3" xmlns:cpix="urn:dashif:org:cpix"
//	           xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc">
//	  <cpix:ContentKeyList>           ContentKey: kid, commonEncryptionScheme,
//	                                  explicitIV, Data/pskc:Secret/pskc:PlainValue
//	  <cpix:DRMSystemList>            DRMSystem: kid, systemId, PSSH,
//	                                  ContentProtectionData, HLSSignalingData,
//	                                  SmoothStreamingProtectionHeaderData
//	  <cpix:ContentKeyPeriodList>     ContentKeyPeriod: id, index (or start/end)
//	  <cpix:ContentKeyUsageRuleList>  ContentKeyUsageRule: kid, intendedTrackType,
//	                                  KeyPeriodFilter, VideoFilter, AudioFilter
//	</cpix:CPIX>
//
// Attributes are kept as the strings the XML carries, so Parse accepts any
// well-formed document of this shape and Validate reports every problem
// of content at once (UUID syntax, key length, dangling references...).
// Element text is kept with surrounding whitespace trimmed. An element
// that a request includes empty ("please fill this") is a non-nil pointer
// to "", an absent one is nil: SPEKE v2 asks the key provider to fill
// exactly the elements the request carries.
//
// Parse refuses document type declarations (and so entity definitions),
// more than one root element, documents over MaxDocumentSize bytes and
// nesting deeper than MaxDepth. Elements and attributes outside the subset
// above are ignored by Parse and not written by Marshal; Marshal refuses
// what it cannot write faithfully (encrypted key delivery: DeliveryDataList
// and pskc:EncryptedValue). Marshal writes the cpix: and pskc: prefixes
// that every SPEKE example uses.
//
// The package also converts key IDs between the UUID text of CPIX and 16
// bytes (UUID), names the DRM system IDs onair meets, and builds and reads
// ISO/IEC 23001-7 'pssh' boxes, in particular the W3C Clear Key one
// (ClearKeyPSSH).
//
// cpix is a leaf: it imports the standard library only. Its functions are
// safe for concurrent use; a Document is a plain value that callers own
// and must not modify while another goroutine reads it.
package cpix
