// Package tsig authenticates DNS messages with shared secrets (TSIG, RFC
// 8945): keys and their text forms (dig's -y NAME:SECRET, BIND key files),
// signing and verifying single messages and multi-message streams (zone
// transfers, RFC 8945 5.3.1), the server-side middleware that checks
// signed queries and signs their replies, and a small client for signed
// exchanges.
//
// It works on wire bytes: a MAC covers the message exactly as it travels,
// and re-packing a parsed message would not reproduce those bytes. It
// uses miekg/dns only to read names; the MAC, the TSIG record and its
// error replies are built here, because miekg's TsigVerify reads the wall
// clock, rewrites the caller's buffer, refuses every NOTAUTH reply
// (so a client cannot read BADKEY or BADTIME), and does not chain the
// unsigned messages a stream may carry between signed ones.
//
// It must not: accept a message whose MAC does not verify, compare MACs
// in variable time, answer a key or MAC error with a signed reply (RFC
// 8945 5.3.2), or read the clock other than through the Now it is given.
package tsig
