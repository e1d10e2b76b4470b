// Package unixfile creates the files of the RPC transports that live in the
// file system (the ctl unix sockets, the JSON-RPC FIFO and unix datagram
// socket) with the mode and owner the operator asked for, and with no
// moment at which they are more open than that: ctl's mode/user/group
// (shared/spec/binrpc.md §1) and jsonrpcs's fifo_* and dgram_* parameters
// (shared/spec/jsonrpc.md §2).
package unixfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"sync"
	"syscall"
)

// DefaultMode is the mode of a file created with mode 0: owner read and
// write only.
const DefaultMode fs.FileMode = 0o600

// Perm is the mode and owner a file is created with.
type Perm struct {
	// Mode is the permission bits; 0 means DefaultMode.
	Mode fs.FileMode
	// UID and GID own the file; -1 keeps the process's user or group.
	UID, GID int
}

// Private is DefaultMode, owned by the process: what a file gets unless
// the operator asks for more.
var Private = Perm{Mode: DefaultMode, UID: -1, GID: -1}

// umaskMu serialises the umask changes of Create (the umask is per
// process).
var umaskMu sync.Mutex

// Create runs create, which makes the file at path (a bind of a unix
// socket, a mkfifo), under the umask 0177, so that the new file is at most
// readable and writable by its owner; it then gives the file to p's owner
// and only then sets p's mode. Between the bind and the chmod nobody else can connect,
// whatever the process's umask; a group is granted access only once the
// file is that group's. On an error after create the caller removes the
// file.
func Create(path string, p Perm, create func() error) error {
	mode, uid, gid := p.Mode, p.UID, p.GID
	if mode == 0 {
		mode = DefaultMode
	}
	umaskMu.Lock()
	old := syscall.Umask(0o177)
	err := create()
	syscall.Umask(old)
	umaskMu.Unlock()
	if err != nil {
		return err
	}
	if uid >= 0 || gid >= 0 {
		if err := os.Lchown(path, uid, gid); err != nil {
			return fmt.Errorf("chown %s to %d:%d: %w", path, uid, gid, err)
		}
	}
	if err := os.Chmod(path, mode.Perm()); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	return nil
}

// ErrUnknownOwner is wrapped by Owner's errors for a name that is not a
// user or group of this system.
var ErrUnknownOwner = errors.New("unknown user or group")

// Owner resolves a user and a group as Kamailio's user/group parameters
// take them: a name, or a number used as is; "" keeps the process's (-1).
func Owner(userName, groupName string) (uid, gid int, err error) {
	if uid, err = ownerID("user", userName, userID); err != nil {
		return -1, -1, err
	}
	if gid, err = ownerID("group", groupName, groupID); err != nil {
		return -1, -1, err
	}
	return uid, gid, nil
}

// ownerID returns -1 for "", a number as is, and resolves a name with
// byName; kind names the parameter in the error.
func ownerID(kind, s string, byName func(string) (string, error)) (int, error) {
	if s == "" {
		return -1, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			return -1, fmt.Errorf("%s %q: %w: negative id", kind, s, ErrUnknownOwner)
		}
		return n, nil
	}
	id, err := byName(s)
	if err != nil {
		return -1, fmt.Errorf("%s %q: %w: %v", kind, s, ErrUnknownOwner, err)
	}
	return strconv.Atoi(id)
}

func userID(name string) (string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return "", err
	}
	return u.Uid, nil
}

func groupID(name string) (string, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return "", err
	}
	return g.Gid, nil
}
