package binrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
	"github.com/kamsidecar/kamsidecar/rpc"
)

// startKamailio runs the real Kamailio 5.6.3 with ctl on a unix stream
// socket and a TCP port, and stops its process group when the test ends.
func startKamailio(t *testing.T, dir string) (sock string, tcpAddr string) {
	t.Helper()
	testutil.LookPath(t, "kamailio")
	sip, ctlPort := testutil.FreePort(t), testutil.FreePort(t)
	for ctlPort == sip {
		ctlPort = testutil.FreePort(t)
	}
	sock = filepath.Join(dir, "kctl")
	tcpAddr = "127.0.0.1:" + strconv.Itoa(ctlPort)
	cfg := fmt.Sprintf(`#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=1
auto_aliases=no
dns=no
rev_dns=no
listen=udp:127.0.0.1:%d
mpath="%s/"
loadmodule "ctl.so"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "cfg_rpc.so"
modparam("ctl","binrpc","unix:%s")
modparam("ctl","binrpc","tcp:%s")
request_route { drop; }
`, sip, testutil.KamailioModules, sock, tcpAddr)
	cfgPath := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	k := testutil.StartKamailio(t, dir, nil, "-f", cfgPath, "-DD", "-E", "-Y", dir, "-w", dir)
	waited, logs := k.Done, k.Log
	deadline := time.Now().Add(15 * time.Second)
	for {
		cl, err := Dial(context.Background(), sock)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err = cl.Call(ctx, "core.version")
			cancel()
			cl.Close()
			if err == nil {
				return sock, tcpAddr
			}
		}
		select {
		case <-waited:
			t.Fatalf("kamailio exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("kamailio ctl not ready: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestClientAgainstKamailio reads real Kamailio's replies with our client
// and checks that Print gives exactly kamcmd's text for each.
func TestClientAgainstKamailio(t *testing.T) {
	bin := kamcmdPath(t)
	dir := shortDir(t)
	sock, tcpAddr := startKamailio(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, addr := range []string{sock, "unix:" + sock, "tcp:" + tcpAddr} {
		cl, err := Dial(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		cmds := [][]string{
			{"core.version"}, {"core.printi", "1", "a"}, {"core.printi", "a"}, {"core.prints", "a", "b", ""},
			{"--", "core.echo", "-1", "0x10"}, {"core.echo", "s:x", "7"}, {"no.such.method"}, {"ctl.listen"},
			{"core.sockets_list"}, {"core.modules"}, {"system.listMethods"}, {"core.psx"}, {"core.ps"},
			{"core.ppdefines"}, {"cfg.help"}, {"cfg.list"}, {"core.printi"}, {"system.methodHelp", "core.ps"},
			{"-f", `%v\t%v\n`, "core.ps"}, {"-f", `[%v]`, "core.sockets_list"},
		}
		for _, args := range cmds {
			want := runKamcmd(t, bin, "unix:"+sock, args...)
			method, format := args, ""
			switch method[0] {
			case "--":
				method = method[1:]
			case "-f":
				format, method = Unescape(method[1]), method[2:]
			}
			ps := make([]any, 0, len(method))
			for _, a := range method[1:] {
				ps = append(ps, ParseArg(a))
			}
			r, err := cl.Call(ctx, method[0], ps...)
			var b strings.Builder
			var f rpc.Fault
			switch {
			case errors.As(err, &f):
				PrintFault(&b, f)
			case err != nil:
				t.Fatalf("%s %v: %v", addr, args, err)
			case format != "":
				Format(&b, format, r)
			default:
				r.Print(&b)
			}
			if b.String() != want {
				t.Errorf("%s %v:\nours   %q\nkamcmd %q", addr, args, b.String(), want)
			}
		}
		r, err := cl.Call(ctx, "core.version")
		if err != nil || len(r.Records) != 1 || !strings.HasPrefix(r.Records[0].Str, "kamailio 5.6.3") {
			t.Errorf("core.version %+v %v", r, err)
		}
		r, err = cl.Call(ctx, "core.printi", -2, 70000)
		if err != nil || len(r.Records) != 2 || r.Records[0].Int != -2 || r.Records[1].Int != 70000 {
			t.Errorf("core.printi %+v %v", r, err)
		}
		_, err = cl.Call(ctx, "core.printi", "x")
		if want := (rpc.Fault{Code: 400, Message: "error at parameter 0: expected integer type but record doesn't match type"}); err != want {
			t.Errorf("core.printi x: %v", err)
		}
		r, err = cl.Call(ctx, "core.sockets_list")
		if err != nil || len(r.Records) < 3 || r.Records[1].Name != "socket" || r.Records[1].Type != RecStruct {
			t.Errorf("core.sockets_list %+v %v", r, err)
		}
		cl.Close()
	}
}

// TestRawAgainstKamailio sends the same raw packets to real Kamailio and
// to our server and compares the reply bytes.
func TestRawAgainstKamailio(t *testing.T) {
	dir := shortDir(t)
	ksock, _ := startKamailio(t, dir)
	osock := filepath.Join(dir, "octl")
	startServer(t, testRegistry(t), []string{"unix:" + osock})
	req := func(cookie uint32, m string, ps ...any) []byte {
		p, err := Request(cookie, m, ps...)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	wide := unhex(t, "a1 0f 00 00 00 00 00 00 12 34")
	wide = append(wide, AppendString(nil, "core.printi")...)
	wide = AppendInt(wide, 3)
	wide[5] = byte(len(wide) - 10)
	cases := []struct {
		name    string
		in      []byte
		replies int
		closes  bool
	}{
		{"pipelined", append(req(1, "core.prints", "a", "b"), req(0x1234, "core.printi", 5, -2)...), 2, false},
		{"wide header", wide, 1, false},
		{"unknown method", req(0xabcdef, "no.such.method"), 1, false},
		{"scan fault", req(2, "core.printi", "a"), 1, false},
		{"scan fault discarded", req(2, "core.printi", 1, "a"), 1, false},
		{"echo conversions", req(3, "core.echo", -1, "x", 7), 1, false},
		{"echo double", req(3, "core.echo", 1.5), 1, false},
		{"bad magic", unhex(t, "b1 00 00 00"), 1, true},
		{"reply type", append([]byte{0xa1, 0x11}, req(0x4321, "core.version")[2:]...), 1, true},
		{"method as int", AppendPacket(nil, TypeRequest, 9, AppendInt(nil, 5)), 1, true},
		{"empty body", AppendPacket(nil, TypeRequest, 9, nil), 1, true},
		// Kamailio closes when a 65536th byte arrives for its full buffer;
		// we close as soon as the header shows the packet cannot fit.
		{"oversized", append(unhex(t, "a1 08 01 11 70 01"), make([]byte, MaxPacket-5)...), 0, true},
		{"struct param", AppendPacket(nil, TypeRequest, 4, append(AppendString(nil, "core.prints"), 0x03, 0x83)), 1, false},
	}
	for _, tc := range cases {
		var got [2][]byte
		for i, sock := range []string{ksock, osock} {
			c := rawConn(t, "unix", sock)
			c.Write(tc.in)
			for _, p := range readPackets(t, c, tc.replies) {
				got[i] = append(got[i], p...)
			}
			if tc.closes {
				expectClosed(t, c)
			}
			c.Close()
		}
		if !bytes.Equal(got[0], got[1]) {
			t.Errorf("%s:\nkamailio % x\nours     % x", tc.name, got[0], got[1])
		}
	}
}
