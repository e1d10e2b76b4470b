package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kamsidecar/kamsidecar/kamcfg"

	"fmt"
	"github.com/kamsidecar/kamsidecar/internal/testutil"
	"github.com/kamsidecar/kamsidecar/internal/unixfile"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// TestSIPSocketsFromCfg: --listen-from-cfg opens every protocol of a
// listen without one, keeps names and advertise, and leaves a tcp socket
// that carries xhttp to the HTTP server.
func TestSIPSocketsFromCfg(t *testing.T) {
	file := filepath.Join(t.TempDir(), "k.cfg")
	src := "listen=udp:127.0.0.1:5090 advertise 192.0.2.1:5060 name \"pub\"\n" +
		"listen=127.0.0.1:5092\n" +
		"listen=tcp:127.0.0.1:5094\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := kamcfg.Load(file, kamcfg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &serveFlags{listenFromCfg: true}
	got, err := sipSockets(f, cfg, map[string]bool{"127.0.0.1:5094": true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"udp:127.0.0.1:5090 pub 192.0.2.1:5060", "udp:127.0.0.1:5092  ", "tcp:127.0.0.1:5092  "}
	if len(got) != len(want) {
		t.Fatalf("got %d sockets %+v, want %d", len(got), got, len(want))
	}
	for i, s := range got {
		if g := s.String() + " " + s.Name + " " + s.Advertise; g != want[i] {
			t.Errorf("socket %d: %q, want %q", i, g, want[i])
		}
	}
	if n := len(cfgSockets(cfg)); n != 4 {
		t.Errorf("core.sockets_list would show %d sockets, want 4 (the xhttp tcp one too)", n)
	}
}

// TestSocketPerms: the modes and owners of the ctl sockets, the FIFO and
// the datagram socket, from the flags (0600, the process's) or from the
// cfg (binrpc.md §1, jsonrpc.md §2).
func TestSocketPerms(t *testing.T) {
	const mods = "loadmodule \"ctl.so\"\nloadmodule \"jsonrpcs.so\"\n"
	def := unixfile.Private
	tests := []struct {
		name    string
		fromCfg bool
		src     string
		want    rpcPerms
		err     string
	}{
		{"flags", false, mods + "modparam(\"ctl\", \"mode\", 0666)\n", rpcPerms{def, def, def}, ""},
		{"cfg defaults", true, mods, rpcPerms{def, def, def}, ""},
		{"cfg modes and owners", true, mods +
			"modparam(\"ctl\", \"mode\", 0660)\nmodparam(\"ctl\", \"user\", \"1001\")\nmodparam(\"ctl\", \"group\", \"root\")\n" +
			"modparam(\"jsonrpcs\", \"fifo_mode\", 0640)\nmodparam(\"jsonrpcs\", \"fifo_group\", 7)\n" +
			"modparam(\"jsonrpcs\", \"dgram_mode\", 0666)\nmodparam(\"jsonrpcs\", \"dgram_user\", \"root\")\n",
			rpcPerms{unixfile.Perm{Mode: 0o660, UID: 1001, GID: 0}, unixfile.Perm{Mode: 0o640, UID: -1, GID: 7}, unixfile.Perm{Mode: 0o666, UID: 0, GID: -1}}, ""},
		{"ctl not loaded", true, "loadmodule \"jsonrpcs.so\"\n", rpcPerms{def, def, def}, ""},
		{"unknown user", true, mods + "modparam(\"ctl\", \"user\", \"no-such-user-kamsidecar\")\n", rpcPerms{}, "ctl user/group"},
		{"unknown fifo group", true, mods + "modparam(\"jsonrpcs\", \"fifo_group\", \"no-such-group-kamsidecar\")\n", rpcPerms{}, "fifo_user/fifo_group"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := kamcfg.Parse("perms.cfg", []byte(tc.src), kamcfg.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := socketPerms(tc.fromCfg, cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v %v, want %+v", got, err, tc.want)
			}
		})
	}
}

// TestServeSocketPermsFromCfg: serve --listen-from-cfg creates the ctl
// socket, the FIFO and the datagram socket with the cfg's modes and
// owners, and fails to start on an unknown user, as Kamailio does.
func TestServeSocketPermsFromCfg(t *testing.T) {
	// A short path: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "ksperm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	group := strconv.Itoa(os.Getgid())
	if os.Geteuid() == 0 {
		group = "4321" // root may give the files to any group
	}
	cfg := func(user string) string {
		return fmt.Sprintf(`listen=udp:127.0.0.1:%d
loadmodule "ctl.so"
loadmodule "jsonrpcs.so"
modparam("ctl", "binrpc", "unix:%s/ctl")
modparam("ctl", "mode", 0660)
modparam("ctl", "group", "%s")
modparam("ctl", "user", "%s")
modparam("jsonrpcs", "transport", 6)
modparam("jsonrpcs", "fifo_name", "%s/fifo")
modparam("jsonrpcs", "fifo_mode", 0640)
modparam("jsonrpcs", "fifo_group", %s)
modparam("jsonrpcs", "dgram_socket", "%s/dgram")
request_route { drop; }
`, testutil.FreePort(t), dir, group, user, dir, group, dir)
	}
	file := filepath.Join(dir, "k.cfg")
	if err := os.WriteFile(file, []byte(cfg("no-such-user-kamsidecar")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := runBinary(t, dir, "serve", "-f", file, "--listen-from-cfg"); code == 0 || !strings.Contains(errs, "no-such-user-kamsidecar") {
		t.Errorf("unknown user: exit %d, %s", code, errs)
	}
	if err := os.WriteFile(file, []byte(cfg(strconv.Itoa(os.Geteuid()))), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), "serve", "-f", file, "--listen-from-cfg")
	cmd.Dir = dir
	stderr := &testutil.SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	files := map[string]os.FileMode{"ctl": 0o660, "fifo": 0o640, "dgram": 0o600}
	waitFor(t, 20*time.Second, "the RPC files", func() bool {
		for name := range files {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				return false
			}
		}
		return true
	})
	for name, mode := range files {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sys := st.Sys().(*syscall.Stat_t)
		wantGID := group
		if name == "dgram" {
			wantGID = strconv.Itoa(os.Getgid())
		}
		if st.Mode().Perm() != mode || strconv.Itoa(int(sys.Gid)) != wantGID || int(sys.Uid) != os.Geteuid() {
			t.Errorf("%s: mode %v owner %d:%d, want %v %d:%s\n%s", name, st.Mode().Perm(), sys.Uid, sys.Gid, mode, os.Geteuid(), wantGID, stderr.String())
		}
	}
}
