package jupyter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNoServers is returned by Select when it is given no servers at all.
var ErrNoServers = errors.New("no running Jupyter server")

// NoMatchError is returned by Select when no server matches the selector.
type NoMatchError struct {
	Sel        string
	Candidates []Server // the servers Select was given
}

func (e *NoMatchError) Error() string {
	return fmt.Sprintf("no running Jupyter server matches %q (%d running)", e.Sel, len(e.Candidates))
}

// AmbiguousError is returned by Select when several servers match.
type AmbiguousError struct {
	Sel     string
	Matches []Server
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%q matches %d Jupyter servers", e.Sel, len(e.Matches))
}

// Select picks one of servers (normally the live, probed ones). sel "" picks
// the newest (by Started, then live first, then pid). Otherwise sel is
// matched, in this order of precedence, as: a number equal to a Port or PID;
// an exact Sock or RootDir path; a path suffix of Sock or RootDir that starts at a "/"
// boundary ("proj" matches "/home/u/proj"). The first rule with any match
// decides; more than one match there is an *AmbiguousError. It returns the
// chosen server and the others (newest first).
func Select(servers []Server, sel string) (Server, []Server, error) {
	if len(servers) == 0 {
		return Server{}, nil, ErrNoServers
	}
	ss := append([]Server(nil), servers...)
	sortServers(ss)
	pick := func(i int) (Server, []Server, error) {
		others := append(append([]Server(nil), ss[:i]...), ss[i+1:]...)
		return ss[i], others, nil
	}
	if sel == "" {
		return pick(0)
	}
	rules := []func(Server) bool{
		func(s Server) bool {
			n, err := strconv.Atoi(sel)
			return err == nil && n > 0 && (s.Port == n || s.PID == n)
		},
		func(s Server) bool { return s.Sock == sel || s.RootDir == sel },
		func(s Server) bool {
			t := strings.TrimRight(sel, "/")
			if t == "" {
				return false
			}
			if !strings.HasPrefix(t, "/") {
				t = "/" + t
			}
			return strings.HasSuffix(strings.TrimRight(s.RootDir, "/"), t) ||
				(s.Sock != "" && strings.HasSuffix(s.Sock, t))
		},
	}
	for _, match := range rules {
		var idx []int
		for i, s := range ss {
			if match(s) {
				idx = append(idx, i)
			}
		}
		switch len(idx) {
		case 0:
			continue
		case 1:
			return pick(idx[0])
		default:
			e := &AmbiguousError{Sel: sel}
			for _, i := range idx {
				e.Matches = append(e.Matches, ss[i])
			}
			return Server{}, nil, e
		}
	}
	return Server{}, nil, &NoMatchError{Sel: sel, Candidates: ss}
}
