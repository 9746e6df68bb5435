package sshclient

import (
	"io"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

// Client is one SSH connection to a host, established directly, through a
// jump chain or a ProxyCommand, or multiplexed over an OpenSSH ControlMaster.
// It is safe for concurrent use. Close releases it and everything it rides
// on (jump connections, the ProxyCommand process).
type Client struct {
	*ssh.Client
	Host *hostconf.Host
	// ViaMaster is true when the connection rides a ControlMaster.
	ViaMaster bool

	mu      sync.Mutex
	closers []io.Closer
	closed  chan struct{}
	once    sync.Once
	waitErr error
}

func newClient(sc ssh.Conn, chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request, h *hostconf.Host) *Client {
	c := &Client{Client: ssh.NewClient(sc, chans, reqs), Host: h, closed: make(chan struct{})}
	go func() {
		err := c.Client.Wait()
		c.mu.Lock()
		c.waitErr = err
		c.mu.Unlock()
		c.once.Do(func() { close(c.closed) })
	}()
	return c
}

// Done is closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.closed }

// Err returns why the connection ended, once Done is closed.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waitErr
}

// masterCloseGrace is how long Close waits before leaving a ControlMaster:
// an OpenSSH 9.2 master in proxy mode can exit (taking the user's sessions
// with it) when a mux client goes away while a channel close it sent is
// still in flight.
const masterCloseGrace = 300 * time.Millisecond

// Close closes the connection and what it rides on. Over a ControlMaster
// it first waits masterCloseGrace for channel closes to complete.
func (c *Client) Close() error {
	if c.ViaMaster {
		select {
		case <-c.closed:
		case <-time.After(masterCloseGrace):
		}
	}
	err := c.Client.Close()
	c.mu.Lock()
	closers := c.closers
	c.closers = nil
	c.mu.Unlock()
	closeAll(closers)
	return err
}

func closeAll(cs []io.Closer) {
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i].Close()
	}
}

// closeAfter closes c unless the returned stop function is called within d.
// stop reports whether it was called in time.
func closeAfter(c io.Closer, d time.Duration) (stop func() bool) {
	t := time.AfterFunc(d, func() { c.Close() })
	return t.Stop
}
