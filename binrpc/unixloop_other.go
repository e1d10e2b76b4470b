//go:build !linux

package binrpc

import (
	"context"
	"errors"
)

// unixLoop is Linux only (unixloop_linux.go); elsewhere unix stream
// listeners are served by acceptLoop.
type unixLoop struct{}

var errStalled = errors.New("binrpc: reply pending")

func newUnixLoop(*Server, *listener) (*unixLoop, error) { return nil, errors.ErrUnsupported }

func (*unixLoop) run(context.Context) {}

func (*unixLoop) close() error { return nil }
