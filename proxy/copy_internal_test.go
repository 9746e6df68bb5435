package proxy

import (
	"bytes"
	"crypto/rand"
	"io"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

// chunkReader returns at most the next of sizes bytes per Read, cycling through sizes, so copyHalf
// switches between its small and its large buffer.
type chunkReader struct {
	r     io.Reader
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	n := c.sizes[c.i%len(c.sizes)]
	c.i++
	return c.r.Read(p[:min(n, len(p))])
}

func TestCopyHalf(t *testing.T) {
	data := make([]byte, 3<<20+123)
	rand.Read(data)
	tests := []struct {
		name string
		src  func() io.Reader
	}{
		{"bulk", func() io.Reader { return bytes.NewReader(data) }},
		{"half reads", func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) }},
		{"data with EOF", func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) }},
		{"alternating", func() io.Reader {
			return &chunkReader{r: bytes.NewReader(data), sizes: []int{smallBufSize, copyBufSize, 10, smallBufSize, 1 << 20, 1}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst bytes.Buffer
			var count atomic.Int64
			n, err := copyHalf(&dst, tt.src(), &count)
			if err != nil || n != int64(len(data)) || count.Load() != n {
				t.Errorf("copyHalf = %d, %v (count %d); want %d, nil", n, err, count.Load(), len(data))
			}
			if !bytes.Equal(dst.Bytes(), data) {
				t.Errorf("copied bytes differ from the source")
			}
		})
	}
}

// failWriter accepts ok bytes, then fails.
type failWriter struct{ ok int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) <= w.ok {
		w.ok -= len(p)
		return len(p), nil
	}
	n := w.ok
	w.ok = 0
	return n, io.ErrClosedPipe
}

func TestCopyHalfErrors(t *testing.T) {
	tests := []struct {
		name    string
		dst     io.Writer
		src     io.Reader
		wantN   int64
		wantErr error
	}{
		{"source fails", io.Discard, iotest.TimeoutReader(bytes.NewReader(make([]byte, 10))), 10, iotest.ErrTimeout},
		{"destination fails", &failWriter{ok: 5}, bytes.NewReader(make([]byte, 10)), 5, io.ErrClosedPipe},
		{"empty source", io.Discard, bytes.NewReader(nil), 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := copyHalf(tt.dst, tt.src, nil)
			if n != tt.wantN || err != tt.wantErr {
				t.Errorf("copyHalf = %d, %v; want %d, %v", n, err, tt.wantN, tt.wantErr)
			}
		})
	}
}
