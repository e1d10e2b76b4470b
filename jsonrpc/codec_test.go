package jsonrpc

import (
	"context"
	"math"
	"testing"

	"github.com/kamsidecar/kamsidecar/rpc"
)

func TestNumberFormat(t *testing.T) {
	for _, c := range []struct {
		d    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-3, "-3"}, {2147483647, "2147483647"},
		{-2147483648, "-2147483648"}, {2147483648, "2147483648"}, {12345678901, "12345678901"},
		{1e20, "100000000000000000000"}, {1.5, "1.500000"}, {0.2, "0.200000"}, {1e-7, "1.000000e-07"},
		{1.5e9 + 0.5, "1.500000e+09"}, {-2.25, "-2.250000"}, {69.434792, "69.434792"}, {1e-20, "0"},
	} {
		if got := string(AppendNumber(nil, c.d)); got != c.want {
			t.Errorf("AppendNumber(%v) = %s, want %s", c.d, got, c.want)
		}
	}
}

func TestStringEscape(t *testing.T) {
	in := "a\"b\\c/d\b\f\n\r\t\x01\x1f\x7fé😀"
	want := `"a\"b\\c/d\b\f\n\r\t\u0001\u001f` + "\x7fé😀\""
	if got := string(AppendString(nil, in)); got != want {
		t.Errorf("got %s want %s", got, want)
	}
	if got := string(AppendString(nil, "ab\x00cd")); got != `"ab"` {
		t.Errorf("NUL: got %s", got)
	}
}

// TestEnvelope covers §3, §3.1, §3.2, §4.1, §4.2 and checklist items 1, 2,
// 4, 5, 6 on the compact layout; expectations are Kamailio 5.6.3's replies.
func TestEnvelope(t *testing.T) {
	s := NewServer(testRegistry(t), WithPretty(false))
	cases := []struct{ in, want string }{
		{`{"jsonrpc":"2.0","method":"nosuch","id":1}`, `{"jsonrpc":"2.0","error":{"code":500,"message":"Method Not Found"},"id":1}`},
		{`{"jsonrpc":"1.0","method":"core.version","id":1}`, `{"jsonrpc":"2.0","result":{},"id":1}`},
		{`{"method":"core.version","id":1}`, `{"jsonrpc":"2.0","result":{},"id":1}`},
		{`{"jsonrpc":"2.0","id":1}`, `{"jsonrpc":"2.0","result":{},"id":1}`},
		{`{"jsonrpc":"2.0","method":5,"id":1}`, `{"jsonrpc":"2.0","result":{},"id":1}`},
		{`[{"jsonrpc":"2.0","method":"core.version","id":1}]`, `{"jsonrpc":"2.0","result":{}}`},
		{`{"jsonrpc":"2.0","method":"core.echo","params":"x","id":1}`, `{"jsonrpc":"2.0","result":[],"id":1}`},
		{`{"jsonrpc":"2.0","method":"core.version","params":"x","id":1}`, `{"jsonrpc":"2.0","result":{},"id":1}`},
		{`{"jsonrpc":"2.0","method":"core.version"}`, `{"jsonrpc":"2.0","result":"kamailio 5.6.3 (x86_64/linux) "}`},
		{`{"jsonrpc":"2.0","method":"core.version","id":null}`, `{"jsonrpc":"2.0","result":"kamailio 5.6.3 (x86_64/linux) ","id":0}`},
		{`{"jsonrpc":"2.0","method":"core.version","id":true}`, `{"jsonrpc":"2.0","result":"kamailio 5.6.3 (x86_64/linux) ","id":1}`},
		{`{"jsonrpc":"2.0","method":"core.version","id":1.5}`, `{"jsonrpc":"2.0","result":"kamailio 5.6.3 (x86_64/linux) ","id":1.500000}`},
		{`{"jsonrpc":"2.0","method":"core.version","id":12345678901}`, `{"jsonrpc":"2.0","result":"kamailio 5.6.3 (x86_64/linux) ","id":12345678901}`},
		{`{"jsonrpc":"2.0","method":"core.version","id":-3}`, `{"jsonrpc":"2.0","result":"kamailio 5.6.3 (x86_64/linux) ","id":-3}`},
		{`{"jsonrpc":"2.0","method":"core.version","id":{"a":1}}`, `{"jsonrpc":"2.0","result":"kamailio 5.6.3 (x86_64/linux) ","id":0}`},
		{`{"jsonrpc":"2.0","method":"core.version","id":"a\"b\\\u001f\u00e9\/"}`, `{"jsonrpc":"2.0","result":"kamailio 5.6.3 (x86_64/linux) ","id":"a\"b\\\u001fé/"}`},
		{`{"jsonrpc":"2.0","method":"core.version","id":1e-7}`, `{"jsonrpc":"2.0","result":"kamailio 5.6.3 (x86_64/linux) ","id":1.000000e-07}`},
		{`{"JSONRPC":"2.0","Method":"core.version","id":1,"id":2}xyz`, `{"jsonrpc":"2.0","result":"kamailio 5.6.3 (x86_64/linux) ","id":1}`},
		{`{"jsonrpc":"2.0","method":"core.printi","params":["a"],"id":1}`, `{"jsonrpc":"2.0","result":[0],"id":1}`},
		{`{"jsonrpc":"2.0","method":"core.printi","params":[-0, 1e400, -],"id":1}`, `{"jsonrpc":"2.0","result":[0,-2147483648,0],"id":1}`},
		{`{"jsonrpc":"2.0","method":"core.printi","params":[3000000000, -3000000000, 2.9, true],"id":1}`, `{"jsonrpc":"2.0","result":[-2147483648,-2147483648,2,1],"id":1}`},
		{`{"jsonrpc":"2.0","method":"core.prints","params":["a\x", "\ud800", "\ud83d\ude00", "a` + "\t" + `b"],"id":1}`, `{"jsonrpc":"2.0","result":["ax","","😀","a\tb"],"id":1}`},
		{`{"jsonrpc":"2.0","method":"core.prints","params":["a",1,"b"],"id":1}`, `{"jsonrpc":"2.0","result":["a"],"id":1}`},
		{`{"jsonrpc":"2.0","method":"core.echo","params":[2.5, -1, "x", null, 3],"id":1e2}`, `{"jsonrpc":"2.0","result":["2","18446744073709551615","x"],"id":100}`},
		{`{"jsonrpc":"2.0","method":"core.echo","params":{"b":1,"a":"z"},"id":1}`, `{"jsonrpc":"2.0","result":["1","z"],"id":1}`},
		{`{"jsonrpc":"2.0","method":"core.echo","params":[1.0e+2,2E-1, 1e9, 1.5e9, 0.0000001, 123456789012345678901234567890]}`, `{"jsonrpc":"2.0","result":["100","0","1000000000","1500000000","0","0"]}`},
		{`{"jsonrpc":"2.0","method":"jsonrpc.echo","params":[2.5,"x"],"id":1}`, `{"jsonrpc":"2.0","result":["2",0],"id":1}`},
		{`{"jsonrpc":"2.0","method":"jsonrpc.echo","params":["a",7],"id":1}`, `{"jsonrpc":"2.0","result":["a",7],"id":1}`},
		{`{"jsonrpc":"2.0","method":"jsonrpc.echo","params":[null],"id":1}`, `{"jsonrpc":"2.0","result":[],"id":1}`},
		{`{"jsonrpc":"2.0","method":"system.methodHelp","params":[{}],"id":1}`, `{"jsonrpc":"2.0","error":{"code":400,"message":"Method Name Expected"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"system.methodHelp","params":["nosuch"],"id":1}`, `{"jsonrpc":"2.0","error":{"code":400,"message":"command not found"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"system.methodSignature","id":1}`, `{"jsonrpc":"2.0","error":{"code":500,"message":"Not Implemented Yet"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"t.multi","id":1}`, `{"jsonrpc":"2.0","result":3,"id":1}`},
		{`{"jsonrpc":"2.0","method":"t.multiA","id":1}`, `{"jsonrpc":"2.0","result":[1,"two",3],"id":1}`},
		{`{"jsonrpc":"2.0","method":"t.none","id":1}`, `{"jsonrpc":"2.0","result":{},"id":1}`},
		{`{"jsonrpc":"2.0","method":"t.noneA","id":1}`, `{"jsonrpc":"2.0","result":[],"id":1}`},
		{`{"jsonrpc":"2.0","method":"t.wrap","id":1}`, `{"jsonrpc":"2.0","result":{"k":true,"k":null,"t":"19700101T00:00:00","arr":1},"id":1}`},
		{`{"jsonrpc":"2.0","method":"t.fault0","id":1}`, `{"jsonrpc":"2.0","error":{"code":-32000,"message":"Execution Error"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"t.faultEmpty","id":1}`, `{"jsonrpc":"2.0","error":{"code":404,"message":"Unexpected Error"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"t.faultLong","id":1}`, `{"jsonrpc":"2.0","error":{"code":400,"message":"` + string(make127a()) + `"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"t.faultTable","id":1}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid Parameters"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"t.faultTwice","id":1}`, `{"jsonrpc":"2.0","error":{"code":606,"message":"second"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"t.scanStruct","id":1}`, `{"jsonrpc":"2.0","error":{"code":400,"message":"Unsupported param type"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"t.scanBad","params":["a"],"id":1}`, `{"jsonrpc":"2.0","error":{"code":500,"message":"Internal Server Error (inval formatting str)"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"t.scan","params":[1.9,"7",2.5,1e30,-2.5],"id":1}`, `{"jsonrpc":"2.0","result":[5,1,0,2.500000,-9223372036854775808,"18446744073709551614"],"id":1}`},
	}
	for _, c := range cases {
		got, ok := s.Handle(context.Background(), []byte(c.in), "test")
		if !ok || string(got) != c.want {
			t.Errorf("%s\n got %s (ok %v)\nwant %s", c.in, got, ok, c.want)
		}
	}
	for _, bad := range []string{``, `{`, `{"a":007}`, `[1.]`, `[.5]`, `[1,]`, `{"a":tru}`, `{"a":1,}`, `xx{"jsonrpc":"2.0"}`, "{\x00}"} {
		if got, ok := s.Handle(context.Background(), []byte(bad), "test"); ok {
			t.Errorf("%q: got a reply %s, want none", bad, got)
		}
	}
}

func make127a() []byte {
	b := make([]byte, 127)
	for i := range b {
		b[i] = 'a'
	}
	return b
}

// dispatcherReply builds the dispatcher.list reply of dispatcher.md §6.3
// with rpc containers.
func dispatcherReply(c *rpc.Call, sets [][]dest) {
	top := c.Struct()
	top.Add("NRSETS", rpc.Int(len(sets)))
	recs := top.Array("RECORDS")
	for i, set := range sets {
		st := recs.Struct("SET")
		st.Add("ID", rpc.Int(len(sets)-i))
		tg := st.Array("TARGETS")
		for _, d := range set {
			ds := tg.Struct("DEST")
			ds.Add("URI", rpc.String(d.uri))
			ds.Add("FLAGS", rpc.String(d.flags))
			ds.Add("PRIORITY", rpc.Int(d.prio))
			if d.body != "" {
				a := ds.Struct("ATTRS")
				a.Add("BODY", rpc.String(d.body))
				a.Add("DUID", rpc.StringOrNull(d.duid))
				a.Add("MAXLOAD", rpc.Int(0))
				a.Add("WEIGHT", rpc.Int(d.weight))
				a.Add("RWEIGHT", rpc.Int(0))
				a.Add("SOCKET", rpc.StringOrNull(d.socket))
				a.Add("SOCKNAME", rpc.Null())
				a.Add("OBPROXY", rpc.Null())
			}
		}
	}
}

type dest struct {
	uri, flags, body, duid, socket string
	prio, weight                   int
}

var specSets = [][]dest{
	{{uri: "sip:127.0.0.1:5071;transport=udp", flags: "AP", body: "duid=px1", duid: "px1"}},
	{{uri: "sip:10.0.0.2:5060", flags: "AP", prio: 5, body: "duid=gw2;weight=50;socket=udp:127.0.0.1:5090", duid: "gw2", weight: 50, socket: "udp:127.0.0.1:5090"},
		{uri: "sip:10.0.0.1:5060", flags: "AX"}},
}

func dsCall(sets [][]dest) *rpc.Call {
	m := &rpc.Method{Name: "dispatcher.list", Handler: func(c *rpc.Call) { dispatcherReply(c, sets) }}
	c := rpc.NewCall(context.Background(), m, "test", nil)
	m.Handler(c)
	return c
}

// TestDispatcherListBytes is the verbatim JSON of dispatcher.md §6.3
// (compact) and its pretty_format=1 layout per jsonrpc.md §4.3.
func TestDispatcherListBytes(t *testing.T) {
	c := dsCall(specSets)
	wantCompact := `{"jsonrpc":"2.0","result":{"NRSETS":2,"RECORDS":[{"SET":{"ID":2,"TARGETS":[{"DEST":{"URI":"sip:127.0.0.1:5071;transport=udp","FLAGS":"AP","PRIORITY":0,"ATTRS":{"BODY":"duid=px1","DUID":"px1","MAXLOAD":0,"WEIGHT":0,"RWEIGHT":0,"SOCKET":null,"SOCKNAME":null,"OBPROXY":null}}}]}},{"SET":{"ID":1,"TARGETS":[{"DEST":{"URI":"sip:10.0.0.2:5060","FLAGS":"AP","PRIORITY":5,"ATTRS":{"BODY":"duid=gw2;weight=50;socket=udp:127.0.0.1:5090","DUID":"gw2","MAXLOAD":0,"WEIGHT":50,"RWEIGHT":0,"SOCKET":"udp:127.0.0.1:5090","SOCKNAME":null,"OBPROXY":null}}},{"DEST":{"URI":"sip:10.0.0.1:5060","FLAGS":"AX","PRIORITY":0}}]}}]},"id":1}`
	if got := string(EncodeResult(c, 1, false)); got != wantCompact {
		t.Errorf("compact:\n got %s\nwant %s", got, wantCompact)
	}
	c1 := dsCall(specSets[:1])
	wantPretty := "{\n\t\"jsonrpc\":\t\"2.0\",\n\t\"result\":\t{\n\t\t\"NRSETS\":\t1,\n\t\t\"RECORDS\":\t[{\n\t\t\t\t\"SET\":\t{\n\t\t\t\t\t\"ID\":\t1,\n\t\t\t\t\t\"TARGETS\":\t[{\n\t\t\t\t\t\t\t\"DEST\":\t{\n\t\t\t\t\t\t\t\t\"URI\":\t\"sip:127.0.0.1:5071;transport=udp\",\n\t\t\t\t\t\t\t\t\"FLAGS\":\t\"AP\",\n\t\t\t\t\t\t\t\t\"PRIORITY\":\t0,\n\t\t\t\t\t\t\t\t\"ATTRS\":\t{\n\t\t\t\t\t\t\t\t\t\"BODY\":\t\"duid=px1\",\n\t\t\t\t\t\t\t\t\t\"DUID\":\t\"px1\",\n\t\t\t\t\t\t\t\t\t\"MAXLOAD\":\t0,\n\t\t\t\t\t\t\t\t\t\"WEIGHT\":\t0,\n\t\t\t\t\t\t\t\t\t\"RWEIGHT\":\t0,\n\t\t\t\t\t\t\t\t\t\"SOCKET\":\tnull,\n\t\t\t\t\t\t\t\t\t\"SOCKNAME\":\tnull,\n\t\t\t\t\t\t\t\t\t\"OBPROXY\":\tnull\n\t\t\t\t\t\t\t\t}\n\t\t\t\t\t\t\t}\n\t\t\t\t\t\t}]\n\t\t\t\t}\n\t\t\t}]\n\t},\n\t\"id\":\t1\n}"
	if got := string(EncodeResult(c1, 1, true)); got != wantPretty {
		t.Errorf("pretty:\n got %q\nwant %q", got, wantPretty)
	}
}

// TestPrettyLayout checks §4.3's example shapes: [{ … }, { … }], empty
// object and array, error object, no trailing newline.
func TestPrettyLayout(t *testing.T) {
	s := NewServer(testRegistry(t))
	for _, c := range []struct{ in, want string }{
		{`{"jsonrpc":"2.0","method":"t.none","id":1}`, "{\n\t\"jsonrpc\":\t\"2.0\",\n\t\"result\":\t{\n\t},\n\t\"id\":\t1\n}"},
		{`{"jsonrpc":"2.0","method":"t.noneA"}`, "{\n\t\"jsonrpc\":\t\"2.0\",\n\t\"result\":\t[]\n}"},
		{`{"jsonrpc":"2.0","method":"t.multiA","id":"x"}`, "{\n\t\"jsonrpc\":\t\"2.0\",\n\t\"result\":\t[1, \"two\", 3],\n\t\"id\":\t\"x\"\n}"},
		{`{"jsonrpc":"2.0","method":"nosuch","id":1}`, "{\n\t\"jsonrpc\":\t\"2.0\",\n\t\"error\":\t{\n\t\t\"code\":\t500,\n\t\t\"message\":\t\"Method Not Found\"\n\t},\n\t\"id\":\t1\n}"},
		{`{"jsonrpc":"2.0","method":"core.psx","id":1}`, "{\n\t\"jsonrpc\":\t\"2.0\",\n\t\"result\":\t[{\n\t\t\t\"IDX\":\t0,\n\t\t\t\"PID\":\t" + itoa(osPid()) + ",\n\t\t\t\"DSC\":\t\"main process\"\n\t\t}],\n\t\"id\":\t1\n}"},
	} {
		got, _ := s.Handle(context.Background(), []byte(c.in), "test")
		if string(got) != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}
