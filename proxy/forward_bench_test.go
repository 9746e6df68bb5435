//go:build !windows

package proxy_test

import (
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/sshtest"
	"golang.org/x/crypto/ssh"
)

// The throughput benchmarks move 1 MiB per operation through a local forward, over an in-process SSH
// server on loopback TCP, to a loopback backend. "down" is backend to local client (a page or a file
// download), "up" local client to backend (an upload). Client, server, forwarder and backend share the
// machine's cores, so compare numbers with each other, not with OpenSSH between two hosts.
//
//	go test -run '^$' -bench Throughput -benchtime 200x ./proxy/
var benchCiphers = []struct{ name, cipher string }{
	{"aes128-gcm", "aes128-gcm@openssh.com"},
	{"chacha20", "chacha20-poly1305@openssh.com"},
}

const benchChunk = 1 << 20

// BenchmarkForwardThroughput measures the Forwarder.
func BenchmarkForwardThroughput(b *testing.B) {
	for _, c := range benchCiphers {
		b.Run(c.name, func(b *testing.B) {
			_, client := sshClient(b, sshtest.Options{}, c.cipher)
			f := startForwarder(b, client, "tcp", tcpBackend(b), nil)
			benchDirections(b, func() net.Conn { return dialLocal(b, f, "") })
		})
	}
}

// BenchmarkForwardBufferedThroughput measures the Forwarder over an SSH client whose transport reads
// through NewReadBufferedConn.
func BenchmarkForwardBufferedThroughput(b *testing.B) {
	for _, c := range benchCiphers {
		b.Run(c.name, func(b *testing.B) {
			_, client := sshClientBuffered(b, sshtest.Options{}, c.cipher)
			f := startForwarder(b, client, "tcp", tcpBackend(b), nil)
			benchDirections(b, func() net.Conn { return dialLocal(b, f, "") })
		})
	}
}

// BenchmarkNaiveForwardThroughput measures, for comparison, a forward made of two plain io.Copy calls.
func BenchmarkNaiveForwardThroughput(b *testing.B) {
	for _, c := range benchCiphers {
		b.Run(c.name, func(b *testing.B) {
			_, client := sshClient(b, sshtest.Options{}, c.cipher)
			addr := naiveForward(b, client, tcpBackend(b))
			benchDirections(b, func() net.Conn {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { c.Close() })
				return c
			})
		})
	}
}

// BenchmarkChannelThroughput measures an SSH channel read and written directly, with no local socket:
// the ceiling for any forward.
func BenchmarkChannelThroughput(b *testing.B) {
	for _, c := range benchCiphers {
		b.Run(c.name, func(b *testing.B) {
			_, client := sshClient(b, sshtest.Options{}, c.cipher)
			backend := tcpBackend(b)
			benchDirections(b, func() net.Conn {
				c, err := client.Dial("tcp", backend)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { c.Close() })
				return c
			})
		})
	}
}

// cpuTime returns the CPU time, user and system, that this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs body with the timer on and reports, besides ns/op, the process's CPU time per operation
// (client, server, forwarder and backend together): on a busy machine it varies much less than ns/op.
func measure(b *testing.B, body func()) {
	b.SetBytes(benchChunk)
	b.ReportAllocs()
	start := cpuTime(b)
	b.ResetTimer()
	body()
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

func benchDirections(b *testing.B, dial func() net.Conn) {
	b.Run("down", func(b *testing.B) {
		c := dial()
		total := int64(b.N) * benchChunk
		if _, err := io.WriteString(c, "source "+strconv.FormatInt(total, 10)+"\n"); err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 256<<10)
		var got int64
		measure(b, func() {
			for {
				n, err := c.Read(buf)
				got += int64(n)
				if err != nil {
					break
				}
			}
		})
		if got != total {
			b.Fatalf("received %d bytes, want %d", got, total)
		}
	})
	b.Run("up", func(b *testing.B) {
		c := dial()
		if _, err := io.WriteString(c, "sink\n"); err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 256<<10)
		var got []byte
		var err error
		measure(b, func() {
			for range b.N {
				for i := 0; i < benchChunk; i += len(buf) {
					if _, err := c.Write(buf); err != nil {
						b.Fatal(err)
					}
				}
			}
			c.(interface{ CloseWrite() error }).CloseWrite()
			got, err = io.ReadAll(c)
		})
		if want := strconv.FormatInt(int64(b.N)*benchChunk, 10); err != nil || string(got) != want {
			b.Fatalf("backend counted %q bytes (%v), want %s", got, err, want)
		}
	})
}

// naiveForward listens on 127.0.0.1 and forwards each connection to addr through client with io.Copy.
func naiveForward(b *testing.B, client *ssh.Client, addr string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			local, err := ln.Accept()
			if err != nil {
				return
			}
			remote, err := client.Dial("tcp", addr)
			if err != nil {
				local.Close()
				continue
			}
			wg.Add(2)
			go func() {
				defer wg.Done()
				io.Copy(remote, local)
				remote.(interface{ CloseWrite() error }).CloseWrite()
			}()
			go func() {
				defer wg.Done()
				io.Copy(local, remote)
				local.Close()
				remote.Close()
			}()
		}
	}()
	b.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}
