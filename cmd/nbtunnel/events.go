package main

import (
	"time"

	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy/tunnel"
)

// `nbtunnel open --json` prints one JSON object per line on stdout for each
// event, so editors and scripts can drive nbtunnel:
//
//	{"event":"link","time":...,"host":"gpu","url":"http://127.0.0.1:8890/?token=...","local_port":8890,
//	 "remote":"tcp:127.0.0.1:8888","pid":1234,"kind":"notebook","root_dir":"/home/me"}
//	{"event":"reconnecting","error":"..."}         the SSH connection ended (why); reconnecting
//	{"event":"reconnect_failed","error":"..."}     an attempt failed (said once per distinct error)
//	{"event":"reconnected"}
//	{"event":"server_gone","error":"..."}          the server stopped answering; watching for a new one
//	{"event":"server_back"}                        it answers again at the same link
//	{"event":"server_restarted", ...as link}      a new server (token, port or socket): the new link
//	{"event":"closed","error":"..."}              nbtunnel ends (error absent after Ctrl-C)
//
// Fields that do not apply are left out. The url carries the token: stdout
// is where the link goes in every mode.

type openEvent struct {
	Event     string `json:"event"`
	Time      string `json:"time"`
	Host      string `json:"host"`
	URL       string `json:"url,omitempty"`
	LocalPort int    `json:"local_port,omitempty"`
	Remote    string `json:"remote,omitempty"`
	PID       int    `json:"pid,omitempty"`
	Kind      string `json:"kind,omitempty"`
	RootDir   string `json:"root_dir,omitempty"`
	Error     string `json:"error,omitempty"`
}

// eventWriter prints events for one host.
type eventWriter struct {
	ui    *ui
	host  string
	links int
	now   func() time.Time
}

// link reports the first link as "link", later ones as "server_restarted".
func (w *eventWriter) link(link string, s jupyter.Server) {
	kind := "link"
	if w.links > 0 {
		kind = "server_restarted"
	}
	w.links++
	network, addr := s.Target()
	w.emit(openEvent{Event: kind, URL: link, LocalPort: portOf(link), Remote: network + ":" + addr,
		PID: s.PID, Kind: s.Kind, RootDir: s.RootDir})
}

func (w *eventWriter) tunnel(ev tunnel.Event) {
	o := openEvent{Event: string(ev.Kind)}
	if ev.Kind == tunnel.EventConnectionLost {
		o.Event = "reconnecting" // the connection ended; nbtunnel reconnects
	}
	if ev.Err != nil {
		o.Error = ev.Err.Error()
	}
	w.emit(o)
}

func (w *eventWriter) closed(err error) {
	o := openEvent{Event: "closed"}
	if err != nil {
		o.Error = err.Error()
	}
	w.emit(o)
}
