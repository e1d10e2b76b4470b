package binrpc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/kamsidecar/kamsidecar/rpc"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRecordExamples checks the byte strings of binrpc.md §4.
func TestRecordExamples(t *testing.T) {
	tests := []struct {
		name string
		enc  []byte
		rec  Record
		want string
	}{
		{"int 0", AppendInt(nil, 0), Record{Type: RecInt}, "00"},
		{"int 5", AppendInt(nil, 5), Record{Type: RecInt, Int: 5}, "10 05"},
		{"int 300", AppendInt(nil, 300), Record{Type: RecInt, Int: 300}, "20 01 2c"},
		{"int 70000", AppendInt(nil, 70000), Record{Type: RecInt, Int: 70000}, "30 01 11 70"},
		{"int 500", AppendInt(nil, 500), Record{Type: RecInt, Int: 500}, "20 01 f4"},
		{"int -2", AppendInt(nil, -2), Record{Type: RecInt, Int: -2}, "40 ff ff ff fe"},
		{"double 1.5", AppendDouble(nil, 1.5), Record{Type: RecDouble, Double: 1.5}, "22 05 dc"},
		{"double 16", AppendDouble(nil, 16), Record{Type: RecDouble, Double: 16}, "22 3e 80"},
		{"double -1.25", AppendDouble(nil, -1.25), Record{Type: RecDouble, Double: -1.25}, "82 ff ff ff ff ff ff fb 1e"},
		{"double 0", AppendDouble(nil, 0), Record{Type: RecDouble}, "02"},
		{"str a", AppendString(nil, "a"), Record{Type: RecStr, Str: "a"}, "21 61 00"},
		{"str x.y", AppendString(nil, "x.y"), Record{Type: RecStr, Str: "x.y"}, "41 78 2e 79 00"},
		{"str empty", AppendString(nil, ""), Record{Type: RecStr}, "11 00"},
		{"str 8", AppendString(nil, "abcdefgh"), Record{Type: RecStr, Str: "abcdefgh"}, "91 09 61 62 63 64 65 66 67 68 00"},
		{"str 31", AppendString(nil, "kamailio 5.6.3 (x86_64/linux) "), Record{Type: RecStr, Str: "kamailio 5.6.3 (x86_64/linux) "}, "91 1f" + hex.EncodeToString([]byte("kamailio 5.6.3 (x86_64/linux) ")) + "00"},
		{"avp uri", AppendAVP(nil, "uri"), Record{Type: RecAVP, Str: "uri"}, "45 75 72 69 00"},
		{"bytes", AppendBytes(nil, []byte{1, 2}), Record{Type: RecBytes, Str: "\x01\x02"}, "26 01 02"},
		{"struct start", AppendStructStart(nil), Record{Type: RecStruct}, "03"},
		{"struct end", AppendStructEnd(nil), Record{Type: RecStruct, End: true}, "83"},
		{"array start", AppendArrayStart(nil), Record{Type: RecArray}, "04"},
		{"array end", AppendArrayEnd(nil), Record{Type: RecArray, End: true}, "84"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.want)
			if !bytes.Equal(tt.enc, want) {
				t.Errorf("encoded % x, want % x", tt.enc, want)
			}
			if got := AppendRecord(nil, tt.rec); !bytes.Equal(got, want) {
				t.Errorf("AppendRecord % x, want % x", got, want)
			}
			r, n, err := ReadRecord(want)
			if err != nil || n != len(want) || r != tt.rec {
				t.Errorf("ReadRecord = %+v, %d, %v; want %+v, %d", r, n, err, tt.rec, len(want))
			}
		})
	}
	// A long string takes a 2-byte length.
	long := strings.Repeat("x", 300)
	b := AppendString(nil, long)
	if !bytes.Equal(b[:3], []byte{0xa1, 0x01, 0x2d}) {
		t.Errorf("300-byte string header % x", b[:3])
	}
}

func TestHeader(t *testing.T) {
	tests := []struct {
		h    Header
		want string
	}{
		{Header{Type: TypeRequest, Length: 0x0f, Cookie: 0x1234}, "a1 01 0f 12 34"},
		{Header{Type: TypeRequest, Length: 0x3b, Cookie: 0x66f1d785}, "a1 03 3b 66 f1 d7 85"},
		{Header{Type: TypeReply, Length: 0x21, Cookie: 0x1234}, "a1 11 21 12 34"},
		{Header{Type: TypeFault, Length: 0x23, Cookie: 0x1234}, "a1 31 23 12 34"},
		{Header{Type: TypeReply, Length: 0, Cookie: 1}, "a1 10 00 01"},
		{Header{Type: TypeFault, Length: 0x23, Cookie: 0}, "a1 30 23 00"},
		{Header{Type: TypeReply, Length: 0x10000, Cookie: 0}, "a1 18 01 00 00 00"},
	}
	for _, tt := range tests {
		want := unhex(t, tt.want)
		if got := AppendHeader(nil, tt.h); !bytes.Equal(got, want) {
			t.Errorf("AppendHeader(%+v) = % x, want % x", tt.h, got, want)
		}
		h, n, err := ParseHeader(want)
		if err != nil || n != len(want) || h != tt.h {
			t.Errorf("ParseHeader(% x) = %+v %d %v", want, h, n, err)
		}
	}
	// Wide fields with leading zeros are read.
	h, n, err := ParseHeader(unhex(t, "a1 0f 00 00 00 05 00 00 12 34"))
	if err != nil || n != 10 || h.Length != 5 || h.Cookie != 0x1234 {
		t.Errorf("wide header: %+v %d %v", h, n, err)
	}
	for _, bad := range []string{"b1 00 00 00", "a2 00 00 00", "a1 20 00 00", "a1 40 00 00"} {
		if _, _, err := ParseHeader(unhex(t, bad)); !errors.Is(err, ErrCorrupted) {
			t.Errorf("ParseHeader(%s) err %v, want corrupted", bad, err)
		}
	}
	for _, short := range []string{"", "a1", "a1 00 00", "a1 0f 00 00 00 05 00"} {
		if _, _, err := ParseHeader(unhex(t, short)); !errors.Is(err, ErrMoreData) {
			t.Errorf("ParseHeader(%q) err %v, want more data", short, err)
		}
	}
}

// TestCaptures decodes and re-encodes the captures of binrpc.md §4.3.
func TestCaptures(t *testing.T) {
	ka := "03 45" + hex.EncodeToString([]byte("uri\x00")) + "91 13" + hex.EncodeToString([]byte("sip:127.0.0.1:5071\x00")) +
		"65" + hex.EncodeToString([]byte("owner\x00")) + "91 08" + hex.EncodeToString([]byte("_params\x00")) +
		"65" + hex.EncodeToString([]byte("state\x00")) + "10 01 83"
	body := unhex(t, ka)
	recs, err := ParseBody(body, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{
		{Type: RecStruct},
		{Type: RecStr, Name: "uri", Named: true, Str: "sip:127.0.0.1:5071"},
		{Type: RecStr, Name: "owner", Named: true, Str: "_params"},
		{Type: RecInt, Name: "state", Named: true, Int: 1},
		{Type: RecStruct, End: true},
	}
	if len(recs) != len(want) {
		t.Fatalf("records %+v", recs)
	}
	var re []byte
	for i := range want {
		if recs[i] != want[i] {
			t.Errorf("record %d = %+v, want %+v", i, recs[i], want[i])
		}
		re = AppendRecord(re, recs[i])
	}
	if !bytes.Equal(re, body) {
		t.Errorf("re-encoded % x", re)
	}
	c := rpc.NewCall(t.Context(), &rpc.Method{Name: "x"}, "binrpc", nil)
	s := c.Struct()
	s.Add("uri", rpc.String("sip:127.0.0.1:5071")).Add("owner", rpc.String("_params")).Add("state", rpc.Int(1))
	if got := AppendValues(nil, c.Values()); !bytes.Equal(got, body) {
		t.Errorf("AppendValues % x", got)
	}
	// The server's "not found" fault (binrpc.md §4.3).
	f := faultPacket(0x1234, rpc.Fault{Code: 500, Message: "command no.such.method not found"})
	wantF := unhex(t, "a1 31 26 12 34 20 01 f4 91 21"+hex.EncodeToString([]byte("command no.such.method not found\x00")))
	if !bytes.Equal(f, wantF) {
		t.Errorf("fault % x", f)
	}
}

func TestParseBodyRules(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		lenient bool
		ok      bool
	}{
		{"empty", "", false, true},
		{"unnamed in struct strict", "03 10 01 83", false, false},
		{"unnamed in struct lenient", "03 10 01 03 83 83", true, true},
		{"array member", "03 21 61 00 04 84 83", true, false},
		{"array in struct lenient", "03 04 84 83", true, false},
		{"avp at top", "25 61 00 10 01", true, false},
		{"unterminated", "03", true, false},
		{"stray end", "83", true, false},
		{"mismatched end", "03 84", true, false},
		{"array of structs", "04 03 83 10 01 84", false, true},
		{"avp then end", "03 25 61 00 83", true, false},
		{"bad type", "07", true, false},
		{"int 5 bytes", "50 01 02 03 04 05", true, false},
		{"double 9", "92 00 00 00 00 00 00 00 00 00", true, false},
		{"str len past end", "91 ff 00", true, false},
		{"str len of len 5", "d1 00 00 00 00 01", true, false},
	}
	for _, tt := range tests {
		_, err := ParseBody(unhex(t, tt.body), tt.lenient)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestEncodeKinds(t *testing.T) {
	c := rpc.NewCall(t.Context(), &rpc.Method{Name: "x"}, "binrpc", nil)
	c.Add(rpc.Long(5), rpc.Uint(4294967295), rpc.Bool(true), rpc.Null(), rpc.Int(-2))
	arr := c.Array()
	arr.Append(rpc.Int(1)).Add("n", rpc.String("v"))
	got := AppendValues(nil, c.Values())
	want := unhex(t, "22 13 88 40 ff ff ff ff 10 01 91 0e"+hex.EncodeToString([]byte("<null string>\x00"))+
		"40 ff ff ff fe 03 10 01 25 6e 00 21 76 00 83")
	if !bytes.Equal(got, want) {
		t.Errorf("got  % x\nwant % x", got, want)
	}
	if got, want := EncodeReply(0x1234, c, nil), AppendPacket(nil, TypeReply, 0x1234, AppendValues(nil, c.Values())); !bytes.Equal(got, want) {
		t.Errorf("EncodeReply % x, want % x", got, want)
	}
	// The first fault wins over the body.
	c.Fault(404, "first")
	c.Fault(500, "second")
	p := EncodeReply(7, c, nil)
	if !bytes.Equal(p, faultPacket(7, rpc.Fault{Code: 404, Message: "first"})) {
		t.Errorf("fault reply % x", p)
	}
	long := rpc.Fault{Code: 1, Message: strings.Repeat("m", 300)}
	recs, _ := ParseBody(AppendFaultBody(nil, long), true)
	if len(recs) != 2 || len(recs[1].Str) != 255 {
		t.Errorf("long fault message not cut to 255: %d", len(recs[1].Str))
	}
}

func TestParseArg(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"x.y", "x.y"}, {"sip:1.2.3.4", "sip:1.2.3.4"}, {"s:1", "1"}, {"5", int32(5)}, {"-2", int32(-2)},
		{"1.5", 1.5}, {"0x10", 16.0}, {"", int32(0)}, {"300", int32(300)}, {"70000", int32(70000)},
		{"2147483648", int32(-2147483648)}, {"abcdefgh", "abcdefgh"}, {"1e3", 1000.0}, {"s:", ""},
		{"99999999999999999999", int32(-1)}, {" 7", int32(7)}, {"+7", int32(7)}, {"7 ", "7 "},
		{"0x1p3", 8.0}, {"1_000", "1_000"}, {"0x", "0x"}, {"-", "-"}, {"--1", "--1"},
	}
	for _, tt := range tests {
		if got := ParseArg(tt.in); got != tt.want {
			t.Errorf("ParseArg(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
	if f, ok := ParseArg("inf").(float64); !ok || f < 1e308 {
		t.Errorf("inf: %#v", ParseArg("inf"))
	}
	// The kamcmd capture of binrpc.md §9.2.
	args := []string{"sip:1.2.3.4", "s:1", "5", "-2", "1.5", "0x10", "", "300", "70000", "2147483648", "abcdefgh"}
	ps := make([]any, len(args))
	for i, a := range args {
		ps[i] = ParseArg(a)
	}
	pkt, err := Request(0x66f1d785, "x.y", ps...)
	if err != nil {
		t.Fatal(err)
	}
	want := "a1 03 3b 66 f1 d7 85 41 782e7900 91 0c" + hex.EncodeToString([]byte("sip:1.2.3.4\x00")) +
		"21 3100 10 05 40 ff ff ff fe 22 05 dc 22 3e 80 00 20 01 2c 30 01 11 70 40 80 00 00 00 91 09" + hex.EncodeToString([]byte("abcdefgh\x00"))
	if !bytes.Equal(pkt, unhex(t, want)) {
		t.Errorf("request\n% x\nwant\n% x", pkt, unhex(t, want))
	}
}

func TestPrintAndFormat(t *testing.T) {
	recs := []Record{
		{Type: RecStruct},
		{Type: RecStruct, Named: true, Name: "a"},
		{Type: RecInt, Named: true, Name: "b", Int: 1},
		{Type: RecStruct, End: true},
		{Type: RecStr, Named: true, Name: "c", Str: "x"},
		{Type: RecStruct, End: true},
		{Type: RecArray},
		{Type: RecStr, Str: "i"},
		{Type: RecArray, End: true},
		{Type: RecDouble, Double: 1.5},
		{Type: RecDouble, Double: 2},
		{Type: RecDouble, Double: -1.25},
	}
	var b strings.Builder
	(&Reply{Records: recs}).Print(&b)
	want := "{\n\ta: {\n\t\tb: 1\n\t}\n\tc: x\n}\n\t[\n\ti\n]\n1.500000\n2\n-1.250000\n"
	if b.String() != want {
		t.Errorf("Print:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	ps := &Reply{Records: []Record{{Type: RecInt, Int: 11062}, {Type: RecStr, Str: "main"}, {Type: RecInt, Int: 11064}, {Type: RecStr, Str: "udp"}}}
	Format(&b, Unescape(`%v:%v\n`), ps)
	if b.String() != "11062:main\n11064:udp\n" {
		t.Errorf("Format: %q", b.String())
	}
	b.Reset()
	Format(&b, "[%v] %%v %v|", &Reply{Records: recs[:3]})
	if b.String() != "[{] %v a: {|[b: 1] %v |" {
		t.Errorf("Format: %q", b.String())
	}
}
