package tunnel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
)

// Found is what discovery learned about one host.
type Found struct {
	Remote jupyter.Remote
	// Live are the servers that answered the probe through the connection,
	// newest first.
	Live []jupyter.Server
	// Skipped are runtime files whose server did not answer, with why.
	Skipped []Skipped
	// Problems are runtime files that could not be read or parsed.
	Problems []error
}

// Skipped is a runtime file whose server was not usable.
type Skipped struct {
	Server jupyter.Server
	Why    error
}

// Discover finds the Jupyter servers on c's host in one remote exec (the
// runtime files), then confirms each candidate whose process is alive by
// talking to it through c, all candidates at once.
func Discover(ctx context.Context, c *sshclient.Client) (*Found, error) {
	nonce, err := jupyter.NewNonce()
	if err != nil {
		return nil, err
	}
	out, err := c.Output(ctx, jupyter.DiscoveryCommand(), jupyter.DiscoveryScript(nonce))
	var exit *sshclient.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, fmt.Errorf("looking for Jupyter servers: %w", err)
	}
	d, perr := jupyter.ParseDiscovery(out, nonce)
	if perr != nil {
		if exit != nil {
			return nil, fmt.Errorf("looking for Jupyter servers: %w (%v)", perr, exit)
		}
		return nil, fmt.Errorf("looking for Jupyter servers: %w", perr)
	}
	f := &Found{Remote: d.Remote, Problems: d.Problems}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return c.DialContext(ctx, network, addr)
	}
	results := make([]error, len(d.Servers))
	var wg sync.WaitGroup
	for i, s := range d.Servers {
		if !s.Alive {
			results[i] = errors.New("its process is not running (a stale runtime file)")
			continue
		}
		// Open no channel to a port nothing listens on: besides being
		// useless, a refused channel through an OpenSSH 9.2 ControlMaster
		// in proxy mode ends the master, and with it the user's sessions.
		if listens, known := d.Remote.Listens(s); known && !listens {
			results[i] = errors.New("nothing listens on its port or socket (its pid may belong to another process now)")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			v, err := Probe(pctx, dial, s)
			if err == nil && d.Servers[i].Version == "" {
				d.Servers[i].Version = v
			}
			results[i] = err
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, s := range d.Servers {
		if results[i] == nil {
			f.Live = append(f.Live, s)
		} else {
			f.Skipped = append(f.Skipped, Skipped{Server: s, Why: results[i]})
		}
	}
	sort.SliceStable(f.Live, func(i, j int) bool { return f.Live[i].Started.After(f.Live[j].Started) })
	return f, nil
}

// Probe is jupyter.Probe, except that a password-only server (no token)
// that answered /api counts as live: the user logs in with the password.
func Probe(ctx context.Context, dial jupyter.DialFunc, s jupyter.Server) (string, error) {
	v, err := jupyter.Probe(ctx, dial, s)
	if err != nil && s.Token == "" && s.Password && errors.Is(err, jupyter.ErrTokenRejected) {
		return v, nil
	}
	return v, err
}
