// Package speke speaks SPEKE v2.0 (AWS Secure Packager and Encoder Key
// Exchange, API v2.0): an encryptor POSTs a CPIX 2.3 document listing the
// content keys and DRM signaling it needs, and the key provider answers
// with the same document filled in. docs/SPEKE.md shows both documents.
//
// # Provider
//
// Provider is an http.Handler that is a SPEKE v2.0 key provider. It
// accepts POST with Content-Type application/xml and X-Speke-Version 2.0,
// checks the caller with the Auth hook, parses and validates the CPIX
// request (internal/cpix), asks the KeySource for every ContentKey
// (PlainValue, and explicitIV when the source has an IV) and fills the
// elements each DRMSystem carries for the systems it knows:
//
//   - W3C Clear Key (e2719d58-...): PSSH (the W3C Common 'pssh' box with
//     the KID), ContentProtectionData (cenc:pssh and the dashif:Laurl of
//     the license URL), HLSSignalingData (EXT-X-KEY / EXT-X-SESSION-KEY,
//     METHOD=SAMPLE-AES for cbcs or SAMPLE-AES-CTR for cenc,
//     KEYFORMAT="org.w3.clearkey", URI = the license URL).
//   - W3C Common PSSH (1077efec-...): PSSH and ContentProtectionData.
//   - Clear Key AES-128 (3ea8778f-..., SPEKE v2) and its SPEKE v1 ID
//     81376844-...: HLSSignalingData with METHOD=AES-128 and URI = the
//     key URL, when ProviderConfig.KeyURL is set.
//
// Anything it cannot fill (Widevine, PlayReady, FairPlay, unknown system
// IDs, Smooth Streaming headers, HLS signaling for cbc1/cens) is refused
// with 400 and a plain-text message naming the system and what is
// supported, as SPEKE v2 requires a key provider to either fill every
// element the request carries or fail. Answers carry X-Speke-Version: 2.0
// and X-Speke-User-Agent; errors are text/plain. Requests are counted in
// onair_speke_provider_requests_total{result}.
//
// # Client
//
// Client is the encryptor side: Fetch builds the request document for a
// Request (content ID, KIDs, scheme, DRM systems, optional track types
// and key periods), POSTs it, and checks the answer: HTTP status,
// X-Speke-Version, size, CPIX validity, and that every requested key is
// there with a 16-byte value and the requested scheme and every requested
// signaling element has a value. Its Response gives the keys and the
// decoded DRM signaling (PSSH boxes, ContentProtectionData XML, HLS key
// lines), so the packager can work against onair's Provider or any DRM
// vendor's SPEKE v2 endpoint.
//
// Encrypted content key delivery (CPIX DeliveryDataList, document keys,
// certificates) is not implemented on either side: keys travel as
// PlainValue, so the transport must be HTTPS or a trusted network.
//
// # Imports and concurrency
//
// speke imports internal/cpix, the standard library and the Prometheus
// client. Provider and Client are safe for concurrent use once built and
// must not be modified afterwards; the Provider's KeySource must be safe
// for concurrent use.
package speke
