package proxy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// osPipes returns stdin and stdout for Relay as ssh gives them to a ProxyCommand: two OS pipes, Relay
// reading one and writing the other (where Linux splices), and the test's ends of both.
func osPipes(t *testing.T) (stdin, stdinW, stdoutR, stdout *os.File) {
	t.Helper()
	stdin, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdoutR, stdout, err = os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, f := range []*os.File{stdin, stdinW, stdoutR, stdout} {
			f.Close()
		}
	})
	for _, f := range []*os.File{stdinW, stdoutR} {
		f.SetDeadline(time.Now().Add(ioTimeout))
	}
	return stdin, stdinW, stdoutR, stdout
}

// osPipeEnds is osPipes as relayEnds.
func osPipeEnds(t *testing.T) relayEnds {
	t.Helper()
	stdin, stdinW, stdoutR, stdout := osPipes(t)
	return relayEnds{stdin: stdin, stdinW: stdinW, stdoutR: stdoutR, stdout: stdout}
}

func TestRelayOSPipesHalfClose(t *testing.T) { testRelayHalfClose(t, osPipeEnds(t)) }

func TestRelayOSPipesRemoteEOFFirst(t *testing.T) { testRelayRemoteEOFFirst(t, osPipeEnds(t)) }

// TestRelayOSPipesBulk moves more than every buffer in the way holds, both ways at once, through a far
// end that echoes in small slow pieces: the relay has to wait for room on each side many times.
func TestRelayOSPipesBulk(t *testing.T) {
	remote, far := tcpPair(t)
	stdin, stdinW, stdoutR, stdout := osPipes(t)
	res := relayResult(context.Background(), stdin, stdout, remote)
	go func() {
		buf := make([]byte, 1000)
		for i := 0; ; i++ {
			n, err := far.Read(buf)
			if n > 0 {
				if _, err := far.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				far.CloseWrite()
				return
			}
			if i%500 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	payload := make([]byte, 16<<20+3)
	rand.Read(payload)
	go func() {
		stdinW.Write(payload)
		stdinW.Close()
	}()
	got, err := io.ReadAll(stdoutR)
	if err != nil {
		t.Fatalf("reading stdout: %v", err)
	}
	if !bytes.Equal(got, payload) {
		t.Errorf("stdout has %d bytes, want the %d bytes written to stdin, in order", len(got), len(payload))
	}
	if err := <-res; err != nil {
		t.Errorf("Relay = %v, want nil", err)
	}
}

func TestRelayOSPipesCancel(t *testing.T) {
	remote, far := tcpPair(t)
	stdin, _, stdoutR, stdout := osPipes(t)
	ctx, cancel := context.WithCancel(context.Background())
	res := relayResult(ctx, stdin, stdout, remote)
	io.WriteString(far, "x")
	if _, err := io.ReadFull(stdoutR, make([]byte, 1)); err != nil {
		t.Fatalf("reading stdout: %v", err)
	}
	cancel() // both directions wait for input
	select {
	case err := <-res:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Relay after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("Relay did not return after cancel")
	}
	if _, err := io.ReadAll(far); err != nil {
		t.Errorf("far end after cancel: %v, want EOF (remote closed)", err)
	}
}

func TestRelayOSPipesRemoteReset(t *testing.T) {
	remote, far := tcpPair(t)
	stdin, stdinW, _, stdout := osPipes(t)
	res := relayResult(context.Background(), stdin, stdout, remote)
	far.SetLinger(0)
	far.Close() // RST
	select {
	case err := <-res:
		if err == nil {
			t.Errorf("Relay after a reset = nil, want an error")
		}
	case <-time.After(ioTimeout):
		t.Fatal("Relay did not return after a reset")
	}
	// Relay closed stdin, so the ssh client's writes fail rather than fill a pipe nobody reads.
	if _, err := stdinW.Write([]byte("x")); err == nil {
		t.Errorf("writing stdin after Relay failed: no error, want a broken pipe")
	}
}

func TestRelayOSPipesStdoutGone(t *testing.T) {
	remote, far := tcpPair(t)
	stdin, _, stdoutR, stdout := osPipes(t)
	stdoutR.Close() // the ssh client went away
	res := relayResult(context.Background(), stdin, stdout, remote)
	io.WriteString(far, "data")
	select {
	case err := <-res:
		if err == nil {
			t.Errorf("Relay with stdout gone = nil, want an error (broken pipe)")
		}
	case <-time.After(ioTimeout):
		t.Fatal("Relay did not return with stdout gone")
	}
}
