package dispatcher

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOracle563 loads testdata/lists/oracle-563.list, whose traps (attr
// numbers, empty names and values, sockets, URI corners, a line split at
// 1023 bytes, a NUL byte) were loaded by the Kamailio 5.6.3 binary
// (listen=udp:127.0.0.1:31999 and tcp:127.0.0.1:31999 name "alt"; no DNS).
// oracle-563.want is its kamcmd dispatcher.list answer and pack_dest() log
// lines; this test compares sets, order, every printed field and the
// messages.
func TestOracle563(t *testing.T) {
	// oracle-563-sets.list: 60 destinations over 19 random set ids with
	// random flags, priorities, duids and weights, for the orders of §2.5
	// and §2.6.
	for _, name := range []string{"oracle-563", "oracle-563-sets"} {
		t.Run(name, func(t *testing.T) { checkOracle(t, name) })
	}
}

func checkOracle(t *testing.T, name string) {
	type dest struct {
		uri    string
		fields map[string]string
	}
	type set struct {
		id    int
		dests []*dest
	}
	f, err := os.Open(filepath.Join("testdata", "lists", name+".want"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sets []*set
	var errs []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "set "):
			id, _ := strconv.Atoi(line[4:])
			sets = append(sets, &set{id: id})
		case strings.HasPrefix(line, "dest "):
			s := sets[len(sets)-1]
			s.dests = append(s.dests, &dest{uri: line[5:], fields: map[string]string{}})
		case strings.HasPrefix(line, "  "):
			s := sets[len(sets)-1]
			k, v, _ := strings.Cut(line[2:], " ")
			s.dests[len(s.dests)-1].fields[k] = v
		case strings.HasPrefix(line, "error "):
			errs = append(errs, line[6:])
		}
	}
	o := DefaultOptions()
	o.Resolver = NoDNS{}
	o.Listen = []ListenSocket{{Proto: "udp", Host: "127.0.0.1", Port: 31999}, {Proto: "tcp", Host: "127.0.0.1", Port: 31999, Name: "alt"}}
	lf, err := os.Open(filepath.Join("testdata", "lists", name+".list"))
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	got, probs, err := Load(name+".list", lf, o)
	if err != nil {
		t.Fatal(err)
	}
	var gotErrs []string
	for _, p := range probs {
		m, _, _ := strings.Cut(p.Msg, ": unable to add destination")
		if strings.HasPrefix(m, "cannot set attributes") {
			m = "cannot set attributes!"
		}
		if strings.HasPrefix(m, "line longer than") || strings.HasPrefix(m, "skipping IPv6") {
			continue // not pack_dest() lines (the IPv6 skip is a debug line)
		}
		gotErrs = append(gotErrs, m)
	}
	want(t, strings.Join(gotErrs, "\n"), strings.Join(errs, "\n"))
	nullable := func(has bool, v string) string {
		if !has {
			return "<null string>"
		}
		return v
	}
	if got.Len() != len(sets) {
		t.Fatalf("%d sets, want %d", got.Len(), len(sets))
	}
	for i, ws := range sets {
		gs := got.At(i)
		if gs.ID() != ws.id || gs.Len() != len(ws.dests) {
			t.Fatalf("set %d: got id %d with %d destinations, want id %d with %d", i, gs.ID(), gs.Len(), ws.id, len(ws.dests))
		}
		for j, wd := range ws.dests {
			d := gs.At(j)
			a := d.Attrs
			have := map[string]string{
				"FLAGS":    FlagsString(d.State().Flags()),
				"PRIORITY": strconv.Itoa(d.Priority),
			}
			if a.Present {
				have["BODY"] = a.Body
				have["DUID"] = nullable(a.Has("duid"), a.DUID)
				have["MAXLOAD"] = strconv.Itoa(a.MaxLoad)
				have["WEIGHT"] = strconv.Itoa(a.Weight)
				have["RWEIGHT"] = strconv.Itoa(a.RWeight)
				have["SOCKET"] = nullable(a.Has("socket"), a.Socket)
				have["SOCKNAME"] = nullable(a.Has("sockname"), a.Sockname)
				have["OBPROXY"] = nullable(a.Has("obproxy"), a.OBProxy)
			}
			if d.URI != wd.uri {
				t.Errorf("set %d dest %d: uri %s, want %s", gs.ID(), j, d.URI, wd.uri)
			}
			if len(have) != len(wd.fields) {
				t.Errorf("set %d dest %d (%s): fields %v, want %v", gs.ID(), j, d.URI, have, wd.fields)
				continue
			}
			for k, v := range wd.fields {
				if have[k] != v {
					t.Errorf("set %d dest %d (%s): %s %q, want %q", gs.ID(), j, d.URI, k, have[k], v)
				}
			}
		}
	}
}
