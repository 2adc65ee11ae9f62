package service

import "net/netip"

// EncryptedAddrs returns the bound DoT and DoH addresses (none before
// Start).
func (s *Resolver) EncryptedAddrs() (dot, doh []netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return nil, nil
	}
	return s.srv.EncryptedAddrs()
}

// QUICAddrs returns the bound DoQ addresses (none before Start).
func (s *Resolver) QUICAddrs() []netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return nil
	}
	return s.srv.QUICAddrs()
}
