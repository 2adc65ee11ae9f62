// Package lookup answers the questions programs ask of the DNS: what
// addresses does this name have (LookupNetIP, like getaddrinfo), what name
// does this address have (LookupAddr, like getnameinfo), and the MX, TXT,
// NS, SRV and CNAME records of a name; Exchange sends any message.
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
package lookup
