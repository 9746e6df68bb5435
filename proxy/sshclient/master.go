package sshclient

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

// MasterDialer opens each stream over a fresh connection to the host's
// OpenSSH ControlMaster and drops that connection when the stream closes.
// An OpenSSH master without ControlPersist waits for its mux clients before
// it exits, so holding one open while idle would keep the user's `ssh HOST`
// from returning at logout; this way nbtunnel holds the master only while
// a forwarded connection is in use, as OpenSSH's own LocalForward does.
type MasterDialer struct {
	Host *hostconf.Host
}

// DialContext implements Dialer.
func (d MasterDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := dialMaster(ctx, d.Host)
	if err != nil {
		return nil, err
	}
	conn, err := c.DialContext(ctx, network, addr)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &masterConn{Conn: conn, c: c}, nil
}

// masterConn closes its mux connection along with the stream.
type masterConn struct {
	net.Conn
	c    *Client
	once sync.Once
}

func (m *masterConn) Close() error {
	err := m.Conn.Close()
	m.once.Do(func() { m.c.Close() })
	return err
}

// CloseWrite passes a half-close on to the channel.
func (m *masterConn) CloseWrite() error {
	if cw, ok := m.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return m.Close()
}

// WaitMasterGone blocks until the ControlMaster at h.ControlPath has exited
// (its socket removed, or no longer accepting) or ctx ends, checking every
// interval. It never holds a mux session open.
func WaitMasterGone(ctx context.Context, h *hostconf.Host, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if _, err := os.Stat(h.ControlPath); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		n++
		if n%5 != 0 {
			continue
		}
		// A killed master leaves its socket behind: check it accepts.
		d := net.Dialer{Timeout: 2 * time.Second}
		c, err := d.DialContext(ctx, "unix", h.ControlPath)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return nil
		}
		c.Close()
	}
}
