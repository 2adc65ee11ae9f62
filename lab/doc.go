// Package lab is the whole DNS hierarchy in miniature: root servers, TLD
// servers, leaf and reverse zones, each served by Rootline's authoritative
// engine, wired by referral exactly as on the internet, on loopback only.
//
// The hierarchy is a directory of ordinary zone files (the embedded one, see
// Zones, or a user's). Nothing else configures it: each zone's apex NS
// records name its servers, and their A records (in any zone) give each
// server's address. Those addresses are documentation addresses (RFC 5737);
// the lab maps server number i to the loopback address base+i+1 (by default
// 127.53.0.1, 127.53.0.2, ...) and serves every zone with the servers' A
// records rewritten to those addresses, so referrals lead where the servers
// really listen. All servers share one port: 53 when run as root, any port
// otherwise, in which case resolvers and clients are told that port.
//
// Unless Options.Unsigned is set, the lab is signed end to end (RFC
// 4033-4035): at start it makes a root key and keys for every zone (or
// reads them from the hierarchy's directory, where --dump writes them),
// signs the zones children first and puts each child's DS into its parent
// before signing the parent. PolicyFor says how each zone is signed: NSEC
// in the root, net, test and most leaf zones; NSEC3 in com, in-addr.arpa,
// example.net and secure.example.com; NSEC3 opt-out in org, whose
// delegation to example.org is deliberately insecure (no DS). TrustAnchor
// is the root's DS, what a validator is configured with. The DNSSEC faults
// (Bogus, Expired, DSMismatch) break one zone's chain of trust on purpose.
//
// Tests use New for an in-memory lab reached through Network (no sockets),
// or Start to listen on loopback. Either way the lab has a recursive
// resolver at ResolverAddr: after Start on its socket, in an in-memory lab
// answered by Network, which carries the resolver's own queries to the
// servers too, so a lookup.Client with the Network as its Exchanger
// resolves names through the whole hierarchy the way net/http/httptest
// serves HTTP.
//
// It must not bind or query anything off loopback (its resolver's root
// hints are its own root servers, never the internet's), and it builds its
// servers through internal/service exactly as the rootline daemons are
// built, so what the lab shows is what the daemons do.
package lab
