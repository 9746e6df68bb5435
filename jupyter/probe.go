package jupyter

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
)

// DialFunc opens a connection to network ("tcp" or "unix") and addr on the
// remote host, typically through an SSH direct-tcpip or
// direct-streamlocal channel. It must honour ctx.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Errors Probe wraps so that callers can tell failures apart with errors.Is.
var (
	// ErrNotListening: the dial failed; nothing listens at the server's
	// address (or the SSH server refused to forward). The dial error is
	// wrapped too, so errors.As still finds it.
	ErrNotListening = errors.New("nothing listens there")
	// ErrNotJupyter: something answered, but not as Jupyter's /api does.
	ErrNotJupyter = errors.New("not a Jupyter server")
	// ErrTokenRejected: Jupyter answered, but refused the token on
	// api/status (or wants a password and there is no token).
	ErrTokenRejected = errors.New("token rejected")
)

const maxProbeBody = 64 << 10

// Probe confirms that s is a Jupyter server that accepts its token. It dials
// only s.Target() through dial (never Hostname), asks GET {BaseURL}api (any
// 2xx with a JSON "version"), then GET {BaseURL}api/status with
// "Authorization: token TOKEN" (must be 200). It speaks https when s.Secure,
// without verifying the certificate: the hop is the remote loopback inside
// the SSH tunnel. It returns the server's version, and is bounded by ctx.
// Errors wrap ErrNotListening, ErrNotJupyter or ErrTokenRejected when they
// apply.
func Probe(ctx context.Context, dial DialFunc, s Server) (version string, err error) {
	network, addr := s.Target()
	where := network + " " + addr
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrNotListening, err)
			}
			return c, nil
		},
		// The certificate is the remote server's own, reached on its loopback
		// through SSH; there is no name to verify it against.
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback hop inside SSH
		DisableKeepAlives: true,
		Proxy:             nil,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	host := addr
	if network == "unix" {
		host = "localhost" // Jupyter accepts local Host names only
	}
	base := s.Scheme() + "://" + host + normBaseURL(s.BaseURL)

	code, body, err := get(ctx, client, base+"api", "")
	if err != nil {
		return "", fmt.Errorf("probing %s at %s: %w", s.Kind, where, err)
	}
	var info struct {
		Version *string `json:"version"`
	}
	if code/100 != 2 || json.Unmarshal(body, &info) != nil || info.Version == nil {
		return "", fmt.Errorf("probing %s at %s: GET %sapi answered %d: %w", s.Kind, where, normBaseURL(s.BaseURL), code, ErrNotJupyter)
	}
	code, _, err = get(ctx, client, base+"api/status", s.Token)
	if err != nil {
		return "", fmt.Errorf("probing %s at %s: %w", s.Kind, where, err)
	}
	switch {
	case code == http.StatusOK:
		return *info.Version, nil
	case code == http.StatusForbidden || code == http.StatusUnauthorized || code/100 == 3:
		return "", fmt.Errorf("probing %s at %s: api/status answered %d: %w", s.Kind, where, code, ErrTokenRejected)
	default:
		return "", fmt.Errorf("probing %s at %s: api/status answered %d: %w", s.Kind, where, code, ErrNotJupyter)
	}
}

func get(ctx context.Context, c *http.Client, url, token string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("building request: %w", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, ErrNotListening) || ctx.Err() != nil {
			return 0, nil, err
		}
		return 0, nil, fmt.Errorf("%w: %w", ErrNotJupyter, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	if err != nil {
		return 0, nil, fmt.Errorf("reading %s: %w", url, err)
	}
	return resp.StatusCode, body, nil
}
