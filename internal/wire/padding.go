package wire

// OptionPadding is the EDNS Padding option (RFC 7830).
const OptionPadding = 12

// Padding blocks of RFC 8467 4.1 (Block-Length Padding, its recommended
// strategy): queries are padded to a multiple of 128 bytes, responses to a
// multiple of 468.
const (
	QueryPaddingBlock    = 128
	ResponsePaddingBlock = 468
)

// Pad adds a Padding option (RFC 7830) that makes msg a multiple of block
// bytes long (block at most ResponsePaddingBlock). A message without an
// OPT record, or one the padding would push past 65535 bytes, is
// returned as it is. It works in place when msg has the capacity.
func Pad(msg []byte, block int) []byte {
	if block <= 0 || block > ResponsePaddingBlock {
		return msg
	}
	n := (block - (len(msg)+4)%block) % block
	if len(msg)+4+n > MaxMsgSize {
		return msg
	}
	var buf [4 + ResponsePaddingBlock]byte
	opt := buf[:4+n]
	opt[1], opt[2], opt[3] = OptionPadding, byte(n>>8), byte(n)
	msg, _ = AddOptions(msg, opt)
	return msg
}
