// Package geo restricts playback by country: it looks client addresses up
// in a MaxMind-format country database and applies a per-channel Rule of
// allowed and denied countries.
//
// # Databases
//
// Any MaxMind DB file whose records carry country.iso_code or
// registered_country.iso_code works: GeoLite2-Country and GeoIP2-Country
// (also the City and Enterprise editions, which carry the same fields),
// and DB-IP's "IP to Country Lite" .mmdb. onair ships none of them.
// GeoLite2 is free but needs a MaxMind account and licence key
// (https://dev.maxmind.com/geoip/geolite2-free-geolocation-data;
// geoipupdate keeps it current). DB-IP Lite is CC BY 4.0, downloadable
// without an account (https://db-ip.com/db/lite.php); its licence asks for
// attribution wherever the data is shown. Databases of other shapes (an
// ASN database, IPinfo's country_code at the top level) open without error
// but every lookup is unknown: check [Info] in the log line at load.
//
// A database is read whole into memory (a country database is 5-10 MB)
// rather than memory-mapped, so replacing the file on disk, even in
// place, can never disturb a reader, and a [Holder] can swap databases
// without waiting for lookups in flight. It is verified at open
// ([maxminddb.Reader.Verify]), so a truncated or corrupt file is refused
// with an error wrapping [ErrInvalidDatabase] instead of answering
// "unknown" later.
//
// # Lookups
//
// [DB.Country] returns the ISO 3166-1 alpha-2 code, upper case, of the
// record's country, or of its registered country when the record has no
// country (some networks of mobile, satellite and anycast providers).
// IPv4-mapped IPv6 addresses are looked up as IPv4 and zones are ignored.
// Only the iso_code fields are decoded: a lookup costs a tree walk, a
// path walk through one record and one 16-byte allocation, a few hundred
// nanoseconds (BenchmarkCountry).
//
// # Rules
//
// A [Rule] names allowed and denied countries for one channel; its
// Unknown field says what happens to an address the database does not
// place (not found, private and reserved ranges, no database loaded).
// See [Rule.Permits]. [ParseList] reads "DE, FR, US" lists for flags and
// environment variables.
//
// # Client address
//
// [ClientAddr] finds the viewer's address behind trusted proxies from
// X-Forwarded-For, with exactly the semantics of the signing package's
// Verifier.ClientIP, so a token's ip claim and the geo check see the same
// client.
//
// # Imports
//
// geo is a leaf: it imports the standard library,
// github.com/oschwald/maxminddb-golang/v2 and internal/clientip only (its tests also use
// github.com/maxmind/mmdbwriter to build small databases).
//
// # Concurrency
//
// DB, Holder and Rule are safe for concurrent use: lookups and
// Rule.Permits may run from any number of goroutines while a Holder swaps
// databases. DB.Close may be called while lookups run; lookups that
// start after it report unknown.
package geo
