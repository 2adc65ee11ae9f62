// Package lookup answers the questions programs ask of the DNS: what
// addresses does this name have (LookupNetIP, like getaddrinfo), what name
// does this address have (LookupAddr, like getnameinfo), and the MX, TXT,
// NS, SRV and CNAME records of a name; Exchange and ExchangeInfo send any
// message, ExchangeInfo reporting the server, round trip time, size and
// transport of the reply; Trace walks the delegations from the root down
// to an answer, step by step.
//
// A Client reads /etc/resolv.conf (nameserver, search, domain, ndots,
// timeout, attempts, rotate, use-vc) and /etc/hosts once, when it is made;
// tests and embedders pass their own Config, Hosts, servers or Exchanger
// instead. Queries go over UDP with EDNS0 (1232-byte buffer) and are retried
// over TCP when truncated; replies that do not match the query's ID,
// question and server are ignored. Failures are *Error values which say,
// like net.DNSError, whether the name was not found, the servers timed out,
// or trying again may help. An optional cache (Options.CacheSize) keeps
// answers for their TTL.
//
// Validate and LookupValidated check a reply's DNSSEC signatures on the
// client, as BIND's delv does: from the IANA root trust anchor (or
// Options.TrustAnchors) down to the data, asking the configured servers
// for the DS and DNSKEY records with CD set, so that the answer is
// authenticated even when the path to the resolver is not. The
// Validation says Secure, Insecure, Bogus or Indeterminate, why (with the
// RFC 8914 Extended DNS Error code) and which chain was walked;
// Authenticated is true for data validated here, or, with
// Options.TrustAD, marked AD by a resolver the caller trusts.
//
// Trace is the one implementation behind `rootline lookup +trace`, meant
// for every other view of a resolution too (JSON, explain, a web page): it
// reports each Step as plain data (the server asked, the reply, what the
// resolver makes of it and what the trace does next) and leaves
// presentation to the caller. It judges replies with the resolver's own
// scrub and classify and starts from the resolver's built-in root hints
// unless given others, so what it makes of each reply is what the
// resolver makes of it.
package lookup
