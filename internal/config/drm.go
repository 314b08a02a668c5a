package config

import "strings"

// DRM configures content keys, their encryption at rest and the license
// endpoint.
type DRM struct {
	// KMS holds the key-encryption key that seals content keys at rest:
	// "local" (default: a keyring file, or $ONAIR_KEK) or "pkcs11" (a
	// hardware security module, e.g. SoftHSM2).
	KMS string `yaml:"kms"`
	// KeyringFile is the local KMS's keyring (mode 0600). "" uses
	// {data_dir}/kms/keyring, made on first start. $ONAIR_KEK
	// ("id:base64,...") overrides both.
	KeyringFile string `yaml:"keyring_file"`
	// PKCS11 configures the pkcs11 KMS.
	PKCS11 PKCS11 `yaml:"pkcs11"`
	// SPEKEURL is an external SPEKE v2.0 key provider that content keys
	// come from; "" generates them here (the built-in provider at
	// /api/v1/speke serves the same keys to others).
	SPEKEURL string `yaml:"speke_url"`
	// SPEKEToken is sent as "Authorization: Bearer" to SPEKEURL.
	SPEKEToken string `yaml:"speke_token"`
	// LicenseOrigins are the page origins allowed to read license
	// responses (CORS); empty allows any ("*": tokens are never cookies).
	LicenseOrigins []string `yaml:"license_origins"`
}

// PKCS11 locates a key-encryption key in a PKCS#11 token.
type PKCS11 struct {
	// Module is the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so.
	Module string `yaml:"module"`
	// TokenLabel names the token.
	TokenLabel string `yaml:"token_label"`
	// PINFile holds the user PIN (mode 0600); $ONAIR_PKCS11_PIN overrides.
	PINFile string `yaml:"pin_file"`
	// KeyLabel names the AES-256 key; made when absent. Default
	// "onair-kek".
	KeyLabel string `yaml:"key_label"`
}

// DefaultDRM returns the DRM section's defaults.
func DefaultDRM() DRM { return DRM{KMS: "local", PKCS11: PKCS11{KeyLabel: "onair-kek"}} }

func (d *DRM) validate(bad func(format string, a ...any)) {
	switch d.KMS {
	case "local":
	case "pkcs11":
		if d.PKCS11.Module == "" || d.PKCS11.TokenLabel == "" {
			bad("drm.pkcs11: module and token_label are required with kms: pkcs11")
		}
	default:
		bad("drm.kms: %q: want local or pkcs11", d.KMS)
	}
	if d.SPEKEURL != "" && !strings.HasPrefix(d.SPEKEURL, "http://") && !strings.HasPrefix(d.SPEKEURL, "https://") {
		bad("drm.speke_url: %q: want an http(s) URL", d.SPEKEURL)
	}
}
