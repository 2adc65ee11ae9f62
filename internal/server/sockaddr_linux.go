package server

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// parseSockaddr decodes a sockaddr_in or sockaddr_in6 as recvmmsg wrote it
// (family in host order, port and address in network order). The IPv6
// scope ID is not kept: replies reuse the raw sockaddr instead.
func parseSockaddr(b []byte) (netip.AddrPort, bool) {
	if len(b) < 2 {
		return netip.AddrPort{}, false
	}
	switch binary.NativeEndian.Uint16(b) {
	case unix.AF_INET:
		if len(b) < unix.SizeofSockaddrInet4 {
			return netip.AddrPort{}, false
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), binary.BigEndian.Uint16(b[2:])), true
	case unix.AF_INET6:
		if len(b) < unix.SizeofSockaddrInet6 {
			return netip.AddrPort{}, false
		}
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), binary.BigEndian.Uint16(b[2:])), true
	}
	return netip.AddrPort{}, false
}

// cmsgAlign rounds up to the control-message alignment (the word size).
func cmsgAlign(n int) int {
	const a = unix.SizeofPtr
	return (n + a - 1) &^ (a - 1)
}

// cmsgHeader decodes a cmsghdr: the length is a size_t, level and type
// are ints.
func cmsgHeader(b []byte) (length, level, typ int) {
	if unix.SizeofCmsghdr == 16 {
		length = int(min(binary.NativeEndian.Uint64(b), uint64(len(b))+1))
		return length, int(int32(binary.NativeEndian.Uint32(b[8:]))), int(int32(binary.NativeEndian.Uint32(b[12:])))
	}
	return int(binary.NativeEndian.Uint32(b)), int(int32(binary.NativeEndian.Uint32(b[4:]))), int(int32(binary.NativeEndian.Uint32(b[8:])))
}

// parsePktinfo finds the destination address and interface of a datagram
// in its control messages (IP_PKTINFO, RFC 3542 6.1 IPV6_PKTINFO). The
// walk ends at the first malformed header: the kernel wrote these bytes,
// but they are still parsed defensively.
func parsePktinfo(oob []byte) (addr netip.Addr, ifindex uint32, ok bool) {
	// Each turn consumes at least one aligned header, so the loop ends
	// within len(oob)/SizeofCmsghdr turns.
	for len(oob) >= unix.SizeofCmsghdr {
		l, level, typ := cmsgHeader(oob)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return netip.Addr{}, 0, false
		}
		data := oob[cmsgAlign(unix.SizeofCmsghdr):max(l, cmsgAlign(unix.SizeofCmsghdr))]
		switch {
		case level == unix.IPPROTO_IP && typ == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			// struct in_pktinfo: ifindex, spec_dst, addr (the header's
			// destination, which is what the client sent to).
			return netip.AddrFrom4([4]byte(data[8:12])), binary.NativeEndian.Uint32(data), true
		case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			return netip.AddrFrom16([16]byte(data[:16])), binary.NativeEndian.Uint32(data[16:]), true
		}
		next := cmsgAlign(l)
		if next >= len(oob) {
			break
		}
		oob = oob[next:]
	}
	return netip.Addr{}, 0, false
}

// putPktinfo writes into b the control message that makes a reply leave
// from src and returns its length. For IPv4 the interface is left to
// routing (ifindex 0); for IPv6 it is kept, as link-local sources need it.
func putPktinfo(b []byte, src netip.Addr, ifindex uint32) int {
	hdr := cmsgAlign(unix.SizeofCmsghdr)
	clear(b[:hdr])
	put := func(length, level, typ int) {
		if unix.SizeofCmsghdr == 16 {
			binary.NativeEndian.PutUint64(b, uint64(length))
			binary.NativeEndian.PutUint32(b[8:], uint32(level))
			binary.NativeEndian.PutUint32(b[12:], uint32(typ))
			return
		}
		binary.NativeEndian.PutUint32(b, uint32(length))
		binary.NativeEndian.PutUint32(b[4:], uint32(level))
		binary.NativeEndian.PutUint32(b[8:], uint32(typ))
	}
	if src.Is4() {
		put(hdr+unix.SizeofInet4Pktinfo, unix.IPPROTO_IP, unix.IP_PKTINFO)
		d := b[hdr : hdr+unix.SizeofInet4Pktinfo]
		clear(d)
		a := src.As4()
		copy(d[4:8], a[:]) // ipi_spec_dst: the source to use
		return cmsgAlign(hdr + unix.SizeofInet4Pktinfo)
	}
	put(hdr+unix.SizeofInet6Pktinfo, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO)
	d := b[hdr : hdr+unix.SizeofInet6Pktinfo]
	a := src.As16()
	copy(d[:16], a[:])
	binary.NativeEndian.PutUint32(d[16:], ifindex)
	return cmsgAlign(hdr + unix.SizeofInet6Pktinfo)
}
