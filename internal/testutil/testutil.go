// Package testutil holds helpers shared by kamsidecar's tests: where the
// shared corpus lives and how a test that needs something missing behaves
// in CI (fail) and elsewhere (skip).
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// InCI reports whether the tests run in CI (the CI environment variable is
// set), where nothing a test needs may be missing.
func InCI() bool { return os.Getenv("CI") != "" }

// Need skips the test (or fails it in CI) with the reason why.
func Need(t testing.TB, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if InCI() {
		t.Fatalf("CI is set and %s", why)
	}
	t.Skip(why)
}

// RepoRoot is the root of the kamsidecar module.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// CorpusDir returns ../shared/corpus beside the repository (or
// $KAMSIDECAR_CORPUS), skipping or failing the test when it is missing.
func CorpusDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("KAMSIDECAR_CORPUS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "..", "shared", "corpus")
	}
	_, err := os.Stat(filepath.Join(dir, "MANIFEST.md"))
	Need(t, err == nil, "the shared corpus is missing at "+dir)
	return dir
}

// LookPath returns the path of a program the test needs, skipping or
// failing the test when it is not installed.
func LookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
			if _, serr := os.Stat(filepath.Join(dir, name)); serr == nil {
				return filepath.Join(dir, name)
			}
		}
	}
	Need(t, err == nil, name+" is not installed")
	return p
}
