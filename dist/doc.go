// Package dist holds what installs Rootline on a system: systemd units
// (dist/systemd) for the resolver and the authoritative server. Its tests
// check the units with systemd-analyze and run the command line each unit
// starts.
package dist
