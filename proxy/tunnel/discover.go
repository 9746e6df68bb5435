package tunnel

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
)

// Found is what discovery learned about one host.
type Found struct {
	Remote jupyter.Remote
	// Dirs are the runtime directories that exist on the host, as scanned.
	Dirs []string
	// Live are the servers that answered the probe through the connection,
	// newest first.
	Live []jupyter.Server
	// Skipped are runtime files whose server did not answer, with why.
	Skipped []jupyter.Skipped
	// Problems are runtime files that could not be read or parsed.
	Problems []error
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
	f := &Found{Remote: d.Remote, Dirs: d.Dirs, Problems: d.Problems}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return c.DialContext(ctx, network, addr)
	}
	live, skipped, err := jupyter.Confirm(ctx, dial, d)
	if err != nil {
		return nil, err
	}
	f.Live, f.Skipped = live, skipped
	return f, nil
}
