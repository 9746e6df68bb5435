package putty_test

import (
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf/putty"
)

func TestPortForwardingsRoundTrip(t *testing.T) {
	tests := []struct {
		in   string
		want []putty.Forward
	}{
		{"", nil},
		{"L8890=127.0.0.1:8888", []putty.Forward{{Type: 'L', Listen: "8890", Target: "127.0.0.1:8888"}}},
		{"4L127.0.0.1:1=h:2,6R::1:3=x:4,D1080=,D1081", []putty.Forward{
			{Family: '4', Type: 'L', Listen: "127.0.0.1:1", Target: "h:2"},
			{Family: '6', Type: 'R', Listen: "::1:3", Target: "x:4"},
			{Type: 'D', Listen: "1080"},
			{Type: 'D', Listen: "1081"},
		}},
		{`L1=a\,b\=c\\d`, []putty.Forward{{Type: 'L', Listen: "1", Target: `a,b=c\d`}}},
		{"X1=y,,L2=z,", []putty.Forward{{Listen: "X1", Target: "y"}, {}, {Type: 'L', Listen: "2", Target: "z"}, {}}},
	}
	for _, tt := range tests {
		got, err := putty.ParsePortForwardings(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("Parse(%q) = %d entries, want %d", tt.in, len(got), len(tt.want))
			continue
		}
		for i := range got {
			g, w := got[i], tt.want[i]
			if g.Family != w.Family || g.Type != w.Type || g.Listen != w.Listen || g.Target != w.Target {
				t.Errorf("Parse(%q)[%d] = %c %c %q %q, want %c %c %q %q", tt.in, i, g.Family, g.Type, g.Listen, g.Target, w.Family, w.Type, w.Listen, w.Target)
			}
		}
		if s := putty.FormatPortForwardings(got); s != tt.in {
			t.Errorf("Format(Parse(%q)) = %q", tt.in, s)
		}
	}
	fwds, _ := putty.ParsePortForwardings(`L1=a\,b,R2=c`)
	fwds[1].Target = "d,e"
	fwds = append(fwds, putty.Forward{Family: '4', Type: 'L', Listen: "9", Target: `w\x`})
	if got, want := putty.FormatPortForwardings(fwds), `L1=a\,b,R2=d\,e,4L9=w\\x`; got != want {
		t.Errorf("Format after edit = %q, want %q", got, want)
	}
	if _, err := putty.ParsePortForwardings(`L1=a\`); err == nil {
		t.Error("a trailing lone backslash: got no error")
	}
}

func FuzzPortForwardings(f *testing.F) {
	for _, s := range []string{"L8890=127.0.0.1:8888,4R2222=localhost:22,D1080=", `L1=a\,b\=c`, ",,", "6D[::1]:1="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fwds, err := putty.ParsePortForwardings(s)
		if err != nil {
			return
		}
		if got := putty.FormatPortForwardings(fwds); got != s {
			t.Fatalf("round trip of %q gave %q", s, got)
		}
		// Rewriting every entry from its fields must parse back to the same fields.
		fresh := make([]putty.Forward, len(fwds))
		for i, x := range fwds {
			fresh[i] = putty.Forward{Family: x.Family, Type: x.Type, Listen: x.Listen, Target: x.Target}
		}
		again, err := putty.ParsePortForwardings(putty.FormatPortForwardings(fresh))
		if err != nil || len(again) != len(fresh) && len(fresh) > 0 {
			t.Fatalf("re-parse of formatted %q: %d entries, %v", s, len(again), err)
		}
	})
}
