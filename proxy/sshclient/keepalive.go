package sshclient

import (
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

func (c *Client) startKeepalive(h *hostconf.Host, o Options) {
	interval := h.ServerAliveInterval
	if interval <= 0 {
		interval = DefaultKeepaliveInterval
	}
	max := h.ServerAliveCountMax
	if max <= 0 {
		max = DefaultKeepaliveCountMax
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		missed := 0
		for {
			select {
			case <-c.closed:
				return
			case <-t.C:
			}
			reply := make(chan error, 1)
			go func() {
				_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
				reply <- err
			}()
			select {
			case err := <-reply:
				if err != nil {
					return // the connection is gone; Wait reports why
				}
				missed = 0
			case <-time.After(interval):
				missed++
				if missed >= max {
					o.logf("%s did not answer %d keepalives %v apart: closing the connection", h.Alias, missed, interval)
					c.Close()
					return
				}
			case <-c.closed:
				return
			}
		}
	}()
}
