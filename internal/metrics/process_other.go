//go:build !linux

package metrics

// registerProcess registers nothing off Linux, where the process_*
// metrics would need a reader per system; the rootline_ and go_ ones are
// there everywhere.
func (r *Registry) registerProcess() {}
