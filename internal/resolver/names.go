package resolver

import "strconv"

// stackKey names a question on the dependency stack (cycle detection).
func stackKey(name string, qtype uint16) string {
	return name + "/" + strconv.Itoa(int(qtype))
}
