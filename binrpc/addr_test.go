package binrpc

import "testing"

func TestParseAddr(t *testing.T) {
	tests := []struct {
		in     string
		want   Addr
		client bool
		bad    bool
	}{
		{in: "unix:/tmp/ctl", want: Addr{Transport: UnixStream, Path: "/tmp/ctl"}},
		{in: "UNIXS:/tmp/ctl", want: Addr{Transport: UnixStream, Path: "/tmp/ctl"}},
		{in: "unixd:/tmp/ctld", want: Addr{Transport: UnixDgram, Path: "/tmp/ctld"}},
		{in: "tcp:127.0.0.1:2050", want: Addr{Transport: TCP, Host: "127.0.0.1", Port: 2050}},
		{in: "tcp:3012", want: Addr{Transport: TCP, Host: "*", Port: 3012}},
		{in: "tcp:localhost", want: Addr{Transport: TCP, Host: "localhost", Port: 2049}},
		{in: "udp:*:2046", want: Addr{Transport: UDP, Host: "*", Port: 2046}},
		{in: "udp:10.0.0.1", want: Addr{Transport: UDP, Host: "10.0.0.1", Port: 2049}},
		{in: "/var/run/kamailio//kamailio_ctl", want: Addr{Transport: UnixStream, Path: "/var/run/kamailio//kamailio_ctl"}},
		{in: "127.0.0.1:2046", want: Addr{Transport: UDP, Host: "127.0.0.1", Port: 2046}},
		{in: "[::1]:2046", want: Addr{Transport: UDP, Host: "::1", Port: 2046}},
		{in: "tcp:[::1]:2046", want: Addr{Transport: TCP, Host: "::1", Port: 2046}},
		{in: "tcp:[::1]", want: Addr{Transport: TCP, Host: "::1", Port: 2049}},
		{in: "localhost", want: Addr{Transport: UDP, Host: "localhost", Port: 2049}},
		{in: "ctl.sock", client: true, want: Addr{Transport: UnixStream, Path: "ctl.sock"}},
		{in: ""},
		{in: "unix:", bad: true},
		{in: "fifo:/tmp/f", bad: true},
		{in: "tcp:1.2.3.4:99999", bad: true},
		{in: "tcp:[::1", bad: true},
		{in: "tcp:h:nosuchservicename", bad: true},
	}
	for _, tt := range tests {
		if tt.in == "" {
			tt.bad = true
		}
		parse := ParseAddr
		if tt.client {
			parse = ParseClientAddr
		}
		got, err := parse(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseAddr(%q) = %+v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAddr(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	if a, _ := ParseAddr("tcp:3012"); a.Address() != ":3012" || a.String() != "tcp:*:3012" || a.Network() != "tcp" {
		t.Errorf("tcp:3012 → %q %q %q", a.Address(), a.String(), a.Network())
	}
}
