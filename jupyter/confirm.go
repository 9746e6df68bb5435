package jupyter

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"
)

// confirmTimeout bounds the probe of one candidate in Confirm.
const confirmTimeout = 15 * time.Second

// Skipped is a runtime file whose server was not usable, with why.
type Skipped struct {
	Server Server
	Why    error
}

// ProbeUsable is Probe, except that a password-only server (no token) that
// answered /api counts as usable: the user logs in with the password.
func ProbeUsable(ctx context.Context, dial DialFunc, s Server) (version string, err error) {
	v, err := Probe(ctx, dial, s)
	if err != nil && s.Token == "" && s.Password && errors.Is(err, ErrTokenRejected) {
		return v, nil
	}
	return v, err
}

// Confirm decides which of the servers d found are usable: a server whose
// process is gone, or whose port or socket nothing listens on, is skipped
// without a connection; every other one is probed through dial
// (ProbeUsable), all at once, each within its own timeout. It fills in the
// Version of a live server that lacked one. Live comes newest first. It
// returns ctx's error if ctx ends first.
func Confirm(ctx context.Context, dial DialFunc, d *Discovery) (live []Server, skipped []Skipped, err error) {
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
			pctx, cancel := context.WithTimeout(ctx, confirmTimeout)
			defer cancel()
			v, err := ProbeUsable(pctx, dial, s)
			if err == nil && d.Servers[i].Version == "" {
				d.Servers[i].Version = v
			}
			results[i] = err
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	for i, s := range d.Servers {
		if results[i] == nil {
			live = append(live, s)
		} else {
			skipped = append(skipped, Skipped{Server: s, Why: results[i]})
		}
	}
	sort.SliceStable(live, func(i, j int) bool { return live[i].Started.After(live[j].Started) })
	return live, skipped, nil
}
