package dispatcher

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// ErrBadLine marks a list line that holds a setid and nothing else: Kamailio
// refuses the whole load for it, whatever ds_load_mode says (spec §2.1 step 3,
// §2.8).
var ErrBadLine = errors.New("bad line")

// ErrRead marks a list that could not be read (spec §2.8: start-up fails, a
// reload keeps the old list).
var ErrRead = errors.New("cannot read list")

// lineBuf is Kamailio's fgets buffer: a physical line longer than
// lineBuf-1 bytes is split and the rest parsed as a new line (spec §2.1).
const lineBuf = 1024

// Entry is one destination as written in a list line, a DB row or a
// dispatcher.add call, before it is checked and added (spec §2.2). Source and
// Line say where it came from, for messages.
type Entry struct {
	// Source names the origin (file name, "table dispatcher", "rpc").
	Source string
	// Line is the 1-based physical line (or row number); 0 when unknown.
	Line int
	// SetID is the set id (group) column.
	SetID int
	// URI is the destination text exactly as written.
	URI string
	// Flags is the flags column (§2.3), stored as given.
	Flags int
	// Priority is the priority column (§2.5).
	Priority int
	// Attrs is the attrs text as written (one trailing ';' is removed later).
	Attrs string
	// HasAttrs tells an empty attrs column from an absent one.
	HasAttrs bool
}

// Severity tells a Problem that only warns from one that fails the load.
type Severity int

const (
	// Warning problems are logged; the load goes on (ds_load_mode 0 skips).
	Warning Severity = iota
	// Fatal problems fail the whole load (bad line, ds_load_mode 1, read error).
	Fatal
)

// Problem is one message about a list, in the form "file:line: what". Err,
// when set, wraps one of the package's sentinel errors.
type Problem struct {
	// Source and Line say where (file name and 1-based line, or row).
	Source string
	Line   int
	// Msg is what is wrong, with Kamailio's wording where it has one.
	Msg string
	// Severity says whether the load goes on.
	Severity Severity
	// Err is ErrBadLine, ErrRead or ErrBadDestination (possibly wrapped).
	Err error
}

// String formats the problem as "file:line: what" (or "file: what" when the
// line is unknown).
func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.Source, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.Source, p.Msg)
}

// Error makes a Problem usable as an error; it unwraps to Err.
func (p Problem) Error() string { return p.String() }

// Unwrap returns the sentinel error behind the problem, if any.
func (p Problem) Unwrap() error { return p.Err }

// ReadList reads a dispatcher.list with Kamailio 5.6.3's exact tokenizer
// (spec §2.1): comments and blank lines are skipped, a line is split at 1023
// bytes like fgets does, malformed columns shift text into later columns and
// never fail, and a line that is only a setid is a fatal "bad line". name is
// used in messages. Reading stops at the first fatal problem.
func ReadList(name string, r io.Reader) ([]Entry, []Problem) {
	var (
		entries []Entry
		probs   []Problem
	)
	br := bufio.NewReaderSize(r, 64*1024)
	lineNo := 1
	var chunk []byte
	for {
		b, err := br.ReadByte()
		if err != nil {
			if len(chunk) > 0 {
				if p, ok := parseChunk(name, lineNo, chunk, &entries); !ok {
					probs = append(probs, p)
					return entries, probs
				}
			}
			if !errors.Is(err, io.EOF) {
				probs = append(probs, Problem{Source: name, Line: lineNo, Msg: fmt.Sprintf("read error: %v", err), Severity: Fatal, Err: fmt.Errorf("%w: %w", ErrRead, err)})
			}
			return entries, probs
		}
		chunk = append(chunk, b)
		if b == '\n' || len(chunk) == lineBuf-1 {
			if b != '\n' {
				if next, perr := br.Peek(1); perr == nil && next[0] != '\n' {
					// fgets splits here: the rest of the physical line is parsed on its own.
					probs = append(probs, Problem{Source: name, Line: lineNo, Msg: fmt.Sprintf("line longer than %d bytes is split as Kamailio's fgets does", lineBuf-1), Severity: Warning})
				}
			}
			if p, ok := parseChunk(name, lineNo, chunk, &entries); !ok {
				probs = append(probs, p)
				return entries, probs
			}
			if b == '\n' {
				lineNo++
			}
			chunk = chunk[:0]
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digits reads the longest run of decimal digits at s[i:] the way Kamailio's
// loop does (no sign, 32-bit wrap on overflow) and returns the value and the
// index after the run.
func digits(s []byte, i int) (int, int) {
	var v int32
	for i < len(s) && isDigit(s[i]) {
		v = v*10 + int32(s[i]-'0')
		i++
	}
	return int(v), i
}

func skipSpace(s []byte, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// parseChunk parses one fgets chunk (spec §2.1); ok is false for a bad line.
func parseChunk(name string, lineNo int, chunk []byte, out *[]Entry) (Problem, bool) {
	s := chunk
	for k, c := range s { // C string: a NUL ends the line
		if c == 0 {
			s = s[:k]
			break
		}
	}
	i := skipSpace(s, 0)
	if i == len(s) || s[i] == '#' {
		return Problem{}, true
	}
	e := Entry{Source: name, Line: lineNo}
	e.SetID, i = digits(s, i)
	i = skipSpace(s, i)
	if i == len(s) || s[i] == '#' {
		return Problem{Source: name, Line: lineNo, Msg: "bad line: a setid without a destination fails the whole load", Severity: Fatal, Err: ErrBadLine}, false
	}
	start := i
	for i < len(s) && !isSpace(s[i]) && s[i] != '#' {
		i++
	}
	e.URI = string(s[start:i])
	i = skipSpace(s, i)
	if i < len(s) && s[i] != '#' {
		e.Flags, i = digits(s, i)
		i = skipSpace(s, i)
		if i < len(s) && s[i] != '#' {
			e.Priority, i = digits(s, i)
			i = skipSpace(s, i)
			if i < len(s) && s[i] != '#' {
				start = i
				for i < len(s) && !isSpace(s[i]) {
					i++
				}
				e.Attrs, e.HasAttrs = string(s[start:i]), true
			}
		}
	}
	*out = append(*out, e)
	return Problem{}, true
}
