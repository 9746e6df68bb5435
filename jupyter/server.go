package jupyter

import (
	"net"
	"net/url"
	"strconv"
	"time"
)

// Kinds of Jupyter server, as Server.Kind reports them.
const (
	// KindNotebook is the classic Notebook (<= 6), runtime file nbserver-PID.json.
	KindNotebook = "notebook"
	// KindServer is jupyter_server (JupyterLab, Notebook 7), runtime file jpserver-PID.json.
	KindServer = "jupyter_server"
)

// Server is one Jupyter server as its runtime file describes it. It is plain
// data; values come from a file on the remote host and are never put on a
// shell line.
type Server struct {
	Kind     string    // KindNotebook or KindServer
	File     string    // runtime file path on the remote host
	PID      int       // server process id
	Alive    bool      // the discovery script saw the pid alive (EPERM counts as alive)
	Port     int       // TCP port on the remote loopback; 0 when Sock is set
	Sock     string    // unix socket path, verbatim; "" for TCP
	Hostname string    // bind address from the file; informational only, never dialed
	BaseURL  string    // starts and ends with "/"
	RootDir  string    // root_dir (jupyter_server) or notebook_dir (notebook)
	Version  string    // server version (jupyter_server files only)
	Token    string    // access token; "" when the server has none
	Password bool      // the server requires a password
	Secure   bool      // the server speaks https
	Started  time.Time // the runtime file's modification time; zero when unknown
	UID      int       // owner uid of the runtime file, -1 when unknown
	User     string    // owner's name when UID is the remote user's own (Remote.User), else ""
}

// Scheme is "https" for a Secure server, else "http".
func (s Server) Scheme() string {
	if s.Secure {
		return "https"
	}
	return "http"
}

// Target is the remote address to forward to: ("unix", Sock) for a socket
// server, else ("tcp", "127.0.0.1:PORT"), or ("tcp", "[::1]:PORT") when the
// server is bound to the IPv6 loopback only. It never returns Hostname.
func (s Server) Target() (network, addr string) {
	if s.Sock != "" {
		return "unix", s.Sock
	}
	host := "127.0.0.1"
	if ip := net.ParseIP(s.Hostname); ip != nil && ip.To4() == nil && ip.IsLoopback() {
		host = "::1"
	}
	return "tcp", net.JoinHostPort(host, strconv.Itoa(s.Port))
}

// Link is the URL to open through a local forward on 127.0.0.1:localPort:
// scheme://127.0.0.1:LOCALPORT{BaseURL}?token=TOKEN, with the token
// query-escaped and no query at all when Token is empty.
func (s Server) Link(localPort int) string {
	u := s.Scheme() + "://127.0.0.1:" + strconv.Itoa(localPort) + normBaseURL(s.BaseURL)
	if s.Token != "" {
		u += "?token=" + url.QueryEscape(s.Token)
	}
	return u
}

// String names the server for messages: kind, pid and address.
func (s Server) String() string {
	_, addr := s.Target()
	return s.Kind + " pid " + strconv.Itoa(s.PID) + " at " + addr + normBaseURL(s.BaseURL)
}

// normBaseURL makes p start and end with "/".
func normBaseURL(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	if p[len(p)-1] != '/' {
		p += "/"
	}
	return p
}
