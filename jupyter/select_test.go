package jupyter_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/jupyter"
)

func TestSelect(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	ss := []jupyter.Server{
		{PID: 100, Port: 8888, RootDir: "/home/u/proj", Started: t0},
		{PID: 200, Port: 8889, RootDir: "/home/u/work/proj", Started: t0.Add(time.Hour)},
		{PID: 300, Sock: "/home/u/.nbtunnel/run/j.sock", RootDir: "/data/other", Started: t0.Add(2 * time.Hour)},
		{PID: 8888, Port: 9999, RootDir: "/srv/x", Started: t0.Add(-time.Hour)},
	}
	tests := []struct {
		sel     string
		wantPID int
		wantErr any
	}{
		{"", 300, nil},
		{"8889", 200, nil},
		{"100", 100, nil},
		{"8888", 0, &jupyter.AmbiguousError{}}, // port of 100 and pid of 8888
		{"/home/u/proj", 100, nil},
		{"work/proj", 200, nil},
		{"proj", 0, &jupyter.AmbiguousError{}},
		{"proj/", 0, &jupyter.AmbiguousError{}},
		{"/home/u/.nbtunnel/run/j.sock", 300, nil},
		{"j.sock", 300, nil},
		{"other", 300, nil},
		{"roj", 0, &jupyter.NoMatchError{}},
		{"/", 0, &jupyter.NoMatchError{}},
		{"42", 0, &jupyter.NoMatchError{}},
	}
	for _, tt := range tests {
		got, others, err := jupyter.Select(ss, tt.sel)
		switch want := tt.wantErr.(type) {
		case nil:
			if err != nil || got.PID != tt.wantPID || len(others) != len(ss)-1 {
				t.Errorf("Select(%q) = pid %d, %d others, %v; want pid %d, %d others", tt.sel, got.PID, len(others), err, tt.wantPID, len(ss)-1)
			}
			for _, o := range others {
				if o.PID == got.PID {
					t.Errorf("Select(%q): chosen server among others", tt.sel)
				}
			}
		case *jupyter.AmbiguousError:
			if !errors.As(err, &want) || len(want.Matches) != 2 {
				t.Errorf("Select(%q) err = %v, want *AmbiguousError with 2 matches", tt.sel, err)
			}
		case *jupyter.NoMatchError:
			if !errors.As(err, &want) {
				t.Errorf("Select(%q) err = %v, want *NoMatchError", tt.sel, err)
			}
		}
	}
	if _, _, err := jupyter.Select(nil, ""); !errors.Is(err, jupyter.ErrNoServers) {
		t.Errorf("Select(nil) err = %v, want ErrNoServers", err)
	}
}
