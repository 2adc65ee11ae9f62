package lab

import (
	"bytes"
	"fmt"
	"path"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
)

// Files a signed lab writes for other tools (see DNSSECFiles).
const (
	// AnchorFile holds the root's DS and DNSKEY records in zone-file
	// syntax: Unbound's trust-anchor-file, ldns and drill's -k read it.
	AnchorFile = "root.key"
	// AnchorConfFile holds the same anchor as a named.conf trust-anchors
	// clause: BIND's delv -a reads it.
	AnchorConfFile = "root.anchors"
	// SignedDir is where the signed zones go, apart from the authored ones
	// so that --zones on the directory reads only the latter.
	SignedDir = "signed"
)

// Signed reports whether the lab's zones are signed.
func (l *Lab) Signed() bool { return l.signed != nil }

// TrustAnchor is the root zone's DS set: what a validating resolver needs
// to be configured with to validate the lab (RFC 4033 3.1, as IANA
// publishes the real root's). Nil for an unsigned lab.
func (l *Lab) TrustAnchor() []*dns.DS {
	if l.signed == nil {
		return nil
	}
	return l.signed["."].info.DS
}

// TrustAnchorKeys are the root's keys with the SEP flag, the DNSKEY form
// of the anchor.
func (l *Lab) TrustAnchorKeys() []*dns.DNSKEY {
	if l.signed == nil {
		return nil
	}
	var out []*dns.DNSKEY
	for _, dk := range l.signed["."].dnskeys {
		if dk.Flags&dnssec.FlagSEP != 0 {
			out = append(out, dk)
		}
	}
	return out
}

// Signing describes how each zone is signed, parents first; nil for an
// unsigned lab.
func (l *Lab) Signing() []ZoneSigning {
	if l.signed == nil {
		return nil
	}
	out := make([]ZoneSigning, 0, len(l.h.origins))
	for _, origin := range l.h.origins {
		out = append(out, l.signed[origin].info)
	}
	return out
}

// File is one file for --dump: Name is relative (it may contain
// SignedDir/), Private marks key material to write with mode 0600.
type File struct {
	Name    string
	Data    []byte
	Private bool
}

// DNSSECFiles are the files that let other tools check and validate the
// signed lab: the trust anchor (AnchorFile, AnchorConfFile), every zone's
// key pair in BIND's format (K<origin>+<alg>+<tag>.key and .private, which
// a lab run on the same directory with --zones reuses, so the anchor stays
// valid), and the signed zones as served (SignedDir/<zone file>, with the
// servers' loopback addresses). Nil for an unsigned lab.
func (l *Lab) DNSSECFiles() ([]File, error) {
	if l.signed == nil {
		return nil, nil
	}
	files := []File{{Name: AnchorFile, Data: l.AnchorZoneFile()}, {Name: AnchorConfFile, Data: l.AnchorConf()}}
	for _, origin := range l.h.origins {
		sz := l.signed[origin]
		for _, k := range sz.keys {
			priv, err := k.MarshalPrivate()
			if err != nil {
				return nil, fmt.Errorf("lab: key %s: %w", k.BaseName(), err)
			}
			files = append(files,
				File{Name: k.BaseName() + ".key", Data: k.MarshalPublic()},
				File{Name: k.BaseName() + ".private", Data: priv, Private: true})
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "; %s as the lab serves it: signed (%s, keys %v)", origin, sz.info.Policy.Denial(), sz.info.Keys)
		if sz.info.Fault != None {
			fmt.Fprintf(&b, ", broken on purpose: %s", sz.info.Fault)
		}
		b.WriteString("\n")
		for _, rr := range sz.records {
			b.WriteString(rr.String())
			b.WriteByte('\n')
		}
		files = append(files, File{Name: path.Join(SignedDir, l.h.file(origin)), Data: b.Bytes()})
	}
	return files, nil
}

// AnchorZoneFile is AnchorFile's content: the root DS and KSK records.
func (l *Lab) AnchorZoneFile() []byte {
	var b bytes.Buffer
	b.WriteString("; The lab's root trust anchor (DS and the key it names), made when the lab started.\n")
	for _, ds := range l.TrustAnchor() {
		b.WriteString(ds.String())
		b.WriteByte('\n')
	}
	for _, k := range l.TrustAnchorKeys() {
		b.WriteString(k.String())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// AnchorConf is AnchorConfFile's content: a named.conf trust-anchors
// clause with the root DS as a static anchor.
func (l *Lab) AnchorConf() []byte {
	var b bytes.Buffer
	b.WriteString("# The lab's root trust anchor, for BIND (delv -a FILE).\ntrust-anchors {\n")
	for _, ds := range l.TrustAnchor() {
		fmt.Fprintf(&b, "\t. static-ds %d %d %d \"%s\";\n", ds.KeyTag, ds.Algorithm, ds.DigestType, ds.Digest)
	}
	b.WriteString("};\n")
	return b.Bytes()
}
