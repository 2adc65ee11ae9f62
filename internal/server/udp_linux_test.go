package server

import (
	"bytes"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A worker's slot buffers are mapped outside the Go heap: zero, writable,
// not counted as heap, and unmapped once the worker is gone.
func TestUDPWorkerSlotsMapped(t *testing.T) {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(lo4))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	w, err := newUDPWorker(New(Config{}, echoHandler), c, new(atomic.Int32), c.LocalAddr().(*net.UDPAddr).AddrPort(), udpBatch)
	if err != nil {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew >= udpBatch*maxMsgSize {
		t.Errorf("heap grew by %d bytes for the worker: its slots came from the heap", grew)
	}
	if len(w.in) != udpBatch*maxMsgSize || len(w.out) != udpBatch*maxMsgSize {
		t.Fatalf("slots %d, %d bytes", len(w.in), len(w.out))
	}
	if !bytes.Equal(w.in[len(w.in)-4096:], make([]byte, 4096)) {
		t.Error("slots not zero")
	}
	w.out[len(w.out)-1] = 1
	in, out := unsafe.Pointer(&w.in[0]), unsafe.Pointer(&w.out[0])
	if !mapped(in) || !mapped(out) {
		t.Fatal("slots not mapped")
	}
	w = nil
	// Cleanups run after a collection, on their own goroutine.
	for i := 0; i < 100 && (mapped(in) || mapped(out)); i++ {
		runtime.GC()
		runtime.Gosched()
	}
	if mapped(in) || mapped(out) {
		t.Error("slots still mapped after the worker was collected")
	}
}

// mapped reports whether the page at p is mapped: mincore(2) fails with
// ENOMEM on a page that is not. p is a mapping's start, so page-aligned.
func mapped(p unsafe.Pointer) bool {
	var vec [1]byte
	_, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(p), 1, uintptr(unsafe.Pointer(&vec[0])))
	return e == 0
}

// The worker counts the batches it read since the socket last ran dry:
// the first rawReads are raw syscalls (sysmon sleeps on), later ones wake
// sysmon, and EAGAIN starts the count again (recvmmsg says why).
func TestUDPWorkerReadStreak(t *testing.T) {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(lo4))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w, err := newUDPWorker(New(Config{}, echoHandler), c, new(atomic.Int32), c.LocalAddr().(*net.UDPAddr).AddrPort(), 1)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := net.DialUDP("udp4", nil, c.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const sent = rawReads + 2
	for range sent {
		if _, err := cl.Write(make([]byte, 12)); err != nil {
			t.Fatal(err)
		}
	}
	read := func() bool {
		w.resetRecv()
		var ok bool
		if err := w.rc.Control(func(fd uintptr) { ok = w.recvmmsg(fd) }); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	// Loopback delivers before Write returns: all are queued.
	for i := 1; i <= sent; i++ {
		if !read() || w.rerrno != 0 || w.rn != 1 {
			t.Fatalf("read %d: ok=false or rn=%d errno=%v", i, w.rn, w.rerrno)
		}
		if w.streak != i {
			t.Fatalf("after read %d: streak %d", i, w.streak)
		}
	}
	if read() {
		t.Fatal("read from an empty socket succeeded")
	}
	if w.streak != 0 {
		t.Errorf("after EAGAIN: streak %d, want 0", w.streak)
	}
}
