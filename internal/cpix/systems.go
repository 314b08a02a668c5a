package cpix

import "strings"

// DRM system IDs (the DASH-IF registry of system IDs, and the IDs AWS
// SPEKE documents). CPIX DRMSystem@systemId carries them in this form.
const (
	// ClearKeySystemID is W3C Clear Key as DASH signals it: the
	// ContentProtection@schemeIdUri "urn:uuid:e2719d58-..." whose
	// children carry the license URL (dashif:Laurl).
	ClearKeySystemID = "e2719d58-a985-b3c9-781a-b030af78d30e"
	// CommonSystemID is the W3C "Common PSSH box" format (EME "cenc"
	// initialization data, W3C eme-initdata-cenc section 4): a version 1
	// 'pssh' box listing the KIDs. Browsers' Clear Key CDMs read key IDs
	// from this box, so it is the PSSH of Clear Key content.
	CommonSystemID = "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b"
	// WidevineSystemID is Google Widevine.
	WidevineSystemID = "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"
	// PlayReadySystemID is Microsoft PlayReady.
	PlayReadySystemID = "9a04f079-9840-4286-ab92-e65be0885f95"
	// FairPlaySystemID is Apple FairPlay Streaming (HLS "skd://" keys).
	FairPlaySystemID = "94ce86fb-07ff-4f43-adb8-93d2fa968ca2"
	// ClearKeyAES128SystemID is "Clear Key AES-128" of SPEKE v2 (AWS
	// MediaPackage v2): HLS full-segment AES-128 whose key is fetched
	// from a plain key URL. Not a Common Encryption system.
	ClearKeyAES128SystemID = "3ea8778f-7742-4bf9-b18b-e834b2acbd47"
	// HLSAES128SystemID is the unregistered ID that SPEKE v1 encryptors
	// used for HLS AES-128; a key provider may still be asked for it.
	HLSAES128SystemID = "81376844-f976-481e-a84e-cc25d39b0b33"
)

// SystemName returns a human name for a DRM system ID (any case), or
// "unknown".
func SystemName(systemID string) string {
	switch strings.ToLower(systemID) {
	case ClearKeySystemID:
		return "W3C Clear Key"
	case CommonSystemID:
		return "W3C Common PSSH"
	case WidevineSystemID:
		return "Widevine"
	case PlayReadySystemID:
		return "PlayReady"
	case FairPlaySystemID:
		return "FairPlay"
	case ClearKeyAES128SystemID:
		return "Clear Key AES-128"
	case HLSAES128SystemID:
		return "HLS AES-128"
	}
	return "unknown"
}
