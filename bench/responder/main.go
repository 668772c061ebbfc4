// Command responder is the minimal Kafka-protocol server the round-trip benchmarks run
// against: for every request frame it answers at once with a fixed ApiVersions v0 body carrying
// the request's correlation id. It runs in its own process and does as little work as possible
// (one read buffer per connection, replies for a whole read batched into one write), so that the
// clients being compared, not the server, set the pace.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
)

// Reply bodies: ApiVersions advertising one entry (api_key 18, versions 0..3), in the v0 layout,
// the v1/v2 layout (plus throttle_time_ms) and the flexible v3+ layout (compact array, tagged
// fields). Every request gets the one matching its version, so clients may negotiate first.
var (
	bodyV0 = []byte{0, 0, 0, 0, 0, 1, 0, 18, 0, 0, 0, 3}
	bodyV1 = []byte{0, 0, 0, 0, 0, 1, 0, 18, 0, 0, 0, 3, 0, 0, 0, 0}
	bodyV3 = []byte{0, 0, 2, 0, 18, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0}
)

func replyBody(version uint16) []byte {
	switch {
	case version == 0:
		return bodyV0
	case version < 3:
		return bodyV1
	default:
		return bodyV3
	}
}

func serve(c net.Conn) {
	defer c.Close()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	r := bufio.NewReaderSize(c, 1<<20)
	out := make([]byte, 0, 1<<16)
	var hdr [12]byte
	for {
		if _, err := io.ReadFull(r, hdr[:4]); err != nil {
			return
		}
		size := int(binary.BigEndian.Uint32(hdr[:4]))
		if size < 8 || size > 100_000_000 {
			fmt.Fprintf(os.Stderr, "responder: bad frame size %d\n", size)
			return
		}
		if _, err := io.ReadFull(r, hdr[4:12]); err != nil {
			return
		}
		if _, err := r.Discard(size - 8); err != nil {
			return
		}
		body := replyBody(binary.BigEndian.Uint16(hdr[6:8]))
		out = binary.BigEndian.AppendUint32(out, uint32(4+len(body)))
		out = append(out, hdr[8:12]...)
		out = append(out, body...)
		// Flush once nothing more is already buffered, so a pipelined burst costs one write.
		if r.Buffered() < 4 || len(out) >= 1<<16 {
			if _, err := c.Write(out); err != nil {
				return
			}
			out = out[:0]
		}
	}
}

func main() {
	port := flag.Int("port", 0, "TCP port on 127.0.0.1 (0 picks a free one)")
	flag.Parse()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "responder:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %d\n", ln.Addr().(*net.TCPAddr).Port)
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go serve(c)
	}
}
