package unixfile

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

func TestOwner(t *testing.T) {
	root, err := user.LookupId("0")
	if err != nil {
		t.Fatal(err)
	}
	rootGroup, err := user.LookupGroupId("0")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, group string
		uid, gid          int
		err               error
	}{
		{"neither", "", "", -1, -1, nil},
		{"numbers", "1234", "5678", 1234, 5678, nil},
		{"names", root.Username, rootGroup.Name, 0, 0, nil},
		{"user only", root.Username, "", 0, -1, nil},
		{"unknown user", "no-such-user-kamsidecar", "", -1, -1, ErrUnknownOwner},
		{"unknown group", "", "no-such-group-kamsidecar", -1, -1, ErrUnknownOwner},
		{"negative", "-5", "", -1, -1, ErrUnknownOwner},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			uid, gid, err := Owner(tc.user, tc.group)
			if !errors.Is(err, tc.err) || uid != tc.uid || gid != tc.gid {
				t.Errorf("Owner(%q, %q) = %d, %d, %v; want %d, %d, %v", tc.user, tc.group, uid, gid, err, tc.uid, tc.gid, tc.err)
			}
		})
	}
}

// TestCreate: whatever the process umask, the socket is never more open
// than owner rw while it is being created, and ends with the mode and
// owner asked for.
func TestCreate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	tests := []struct {
		name     string
		mode     fs.FileMode
		uid, gid int
		want     fs.FileMode
	}{
		{"default", 0, -1, -1, 0o600},
		{"group", 0o660, -1, -1, 0o660},
		{"world", 0o666, -1, -1, 0o666},
	}
	if os.Geteuid() == 0 {
		tests = append(tests, struct {
			name     string
			mode     fs.FileMode
			uid, gid int
			want     fs.FileMode
		}{"owner", 0o640, 4321, 8765, 0o640})
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "s"+strconv.Itoa(i))
			var ln *net.UnixListener
			err := Create(path, Perm{Mode: tc.mode, UID: tc.uid, GID: tc.gid}, func() error {
				var err error
				ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
				if err != nil {
					return err
				}
				st, err := os.Stat(path)
				if err != nil {
					return err
				}
				if m := st.Mode().Perm(); m&^0o600 != 0 {
					t.Errorf("mode while created %v", m)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != tc.want {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), tc.want)
			}
			sys := st.Sys().(*syscall.Stat_t)
			if tc.uid >= 0 && (int(sys.Uid) != tc.uid || int(sys.Gid) != tc.gid) {
				t.Errorf("owner %d:%d, want %d:%d", sys.Uid, sys.Gid, tc.uid, tc.gid)
			}
		})
	}
	if m := syscall.Umask(0); m != 0 {
		t.Errorf("umask left at %o", m)
	}
	if err := Create(filepath.Join(dir, "x"), Private, func() error { return os.ErrExist }); !errors.Is(err, os.ErrExist) {
		t.Errorf("create error: %v", err)
	}
}
