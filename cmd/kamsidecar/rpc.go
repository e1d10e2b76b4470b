package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kamsidecar/kamsidecar/binrpc"
	"github.com/kamsidecar/kamsidecar/jsonrpc"
	"github.com/kamsidecar/kamsidecar/rpc"
)

// runRPC is `kamsidecar rpc` (cli.md "Calling RPC"): a client for
// kamsidecar and Kamailio, BINRPC to a ctl socket or JSON-RPC to an HTTP
// URL, printing what kamcmd prints or, with --json, the JSON result. Unlike
// kamcmd it has no reply size limit.
func runRPC(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rpc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("s", defaultCtl(defaultRundir()), "server: unix:PATH, unixd:PATH, tcp:HOST:PORT, udp:HOST:PORT or http://HOST:PORT/RPC")
	asJSON := fs.Bool("json", false, "print the JSON result (or error, with a non-zero exit status)")
	format := fs.String("f", "", "print with kamcmd's -f template (%v per value)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: kamsidecar rpc [-s ADDR] [--json] METHOD [PARAM]...")
		return 2
	}
	method := fs.Arg(0)
	params := make([]any, 0, fs.NArg()-1)
	for _, a := range fs.Args()[1:] {
		params = append(params, binrpc.ParseArg(a))
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	var values []rpc.Value
	var raw json.RawMessage
	var err error
	if strings.HasPrefix(*server, "http://") || strings.HasPrefix(*server, "https://") {
		raw, err = jsonrpc.Call(ctx, *server, method, params...)
		if err == nil && !*asJSON {
			values, err = jsonValues(raw)
		}
	} else {
		var cl *binrpc.Client
		cl, err = binrpc.Dial(ctx, *server)
		if err == nil {
			var rep *binrpc.Reply
			rep, err = cl.Call(ctx, method, params...)
			cl.Close()
			if err == nil {
				if !*asJSON && *format == "" {
					if perr := rep.Print(stdout); perr != nil {
						fmt.Fprintln(stderr, perr)
						return 1
					}
					return 0
				}
				values = rep.Values()
				if *asJSON {
					raw = valuesJSON(values)
				}
			}
		}
	}
	var f rpc.Fault
	switch {
	case errors.As(err, &f):
		if *asJSON {
			b, _ := json.Marshal(struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}{f.Code, f.Message})
			fmt.Fprintf(stdout, "%s\n", b)
			return 1
		}
		binrpc.PrintFault(stdout, f)
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "kamsidecar rpc: %v\n", err)
		return 1
	}
	if *asJSON {
		var out bytes.Buffer
		if json.Indent(&out, raw, "", "  ") != nil {
			out.Reset()
			out.Write(raw)
		}
		out.WriteByte('\n')
		_, _ = stdout.Write(out.Bytes())
		return 0
	}
	body := binrpc.AppendValues(nil, values)
	recs, err := binrpc.ParseBody(body, true)
	if err != nil {
		fmt.Fprintf(stderr, "kamsidecar rpc: %v\n", err)
		return 1
	}
	rep := &binrpc.Reply{Records: recs}
	if *format != "" {
		err = binrpc.Format(stdout, binrpc.Unescape(*format), rep)
	} else {
		err = rep.Print(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kamsidecar rpc: %v\n", err)
		return 1
	}
	return 0
}

// jsonValues turns a JSON-RPC result into the values kamcmd would have
// received over BINRPC: an array result is the sequence of top-level values
// (what a RET_ARRAY method added), an array inside a struct is a struct, and
// a one-member object inside such an array is a named member (how the JSON
// codec writes struct_add on an array, jsonrpc.md §4.1).
func jsonValues(raw json.RawMessage) ([]rpc.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := jsonValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if v.Kind == rpc.KindArray {
		out := make([]rpc.Value, 0, len(v.C.Members))
		for _, m := range v.C.Members {
			if m.Named {
				c := &rpc.Container{}
				c.Add(m.Name, m.Value)
				out = append(out, rpc.Value{Kind: rpc.KindStruct, C: c})
				continue
			}
			out = append(out, m.Value)
		}
		return out, nil
	}
	return []rpc.Value{v}, nil
}

func jsonValue(dec *json.Decoder, depth int) (rpc.Value, error) {
	if depth > 1000 {
		return rpc.Value{}, errors.New("reply nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return rpc.Value{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		c := &rpc.Container{}
		if t == '{' {
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return rpc.Value{}, err
				}
				v, err := jsonValue(dec, depth+1)
				if err != nil {
					return rpc.Value{}, err
				}
				c.Add(kt.(string), v)
			}
			_, err = dec.Token()
			return rpc.Value{Kind: rpc.KindStruct, C: c}, err
		}
		for dec.More() {
			v, err := jsonValue(dec, depth+1)
			if err != nil {
				return rpc.Value{}, err
			}
			if v.Kind == rpc.KindStruct && len(v.C.Members) == 1 && v.C.Members[0].Named {
				c.Add(v.C.Members[0].Name, v.C.Members[0].Value)
				continue
			}
			c.Append(v)
		}
		_, err = dec.Token()
		return rpc.Value{Kind: rpc.KindArray, C: c}, err
	case string:
		return rpc.String(t), nil
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			if i >= math.MinInt32 && i <= math.MaxInt32 {
				return rpc.Int(int(i)), nil
			}
			return rpc.Long(i), nil
		}
		f, _ := t.Float64()
		return rpc.Double(f), nil
	case bool:
		return rpc.Bool(t), nil
	case nil:
		return rpc.Null(), nil
	}
	return rpc.Value{}, fmt.Errorf("unexpected JSON token %v", tok)
}

// valuesJSON renders a BINRPC reply as JSON: one value as itself, several
// as an array, none as an empty object (what JSON-RPC answers for a
// method that added nothing).
func valuesJSON(vs []rpc.Value) json.RawMessage {
	var b bytes.Buffer
	switch len(vs) {
	case 0:
		b.WriteString("{}")
	case 1:
		writeJSON(&b, vs[0])
	default:
		b.WriteByte('[')
		for i, v := range vs {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(&b, v)
		}
		b.WriteByte(']')
	}
	return b.Bytes()
}

func writeJSON(b *bytes.Buffer, v rpc.Value) {
	switch v.Kind {
	case rpc.KindStruct, rpc.KindArray:
		// BINRPC has no arrays: a struct with unnamed values becomes an
		// array, one with names an object (repeated names kept).
		named := false
		for _, m := range v.C.Members {
			named = named || m.Named
		}
		if !named {
			b.WriteByte('[')
			for i, m := range v.C.Members {
				if i > 0 {
					b.WriteByte(',')
				}
				writeJSON(b, m.Value)
			}
			b.WriteByte(']')
			return
		}
		b.WriteByte('{')
		for i, m := range v.C.Members {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(m.Name)
			b.Write(k)
			b.WriteByte(':')
			writeJSON(b, m.Value)
		}
		b.WriteByte('}')
	case rpc.KindString:
		s, _ := json.Marshal(v.S)
		b.Write(s)
	case rpc.KindNull:
		b.WriteString("null")
	case rpc.KindDouble:
		if math.IsInf(v.F, 0) || math.IsNaN(v.F) {
			b.WriteString("null")
			return
		}
		b.WriteString(strconv.FormatFloat(v.F, 'f', -1, 64))
	case rpc.KindBool:
		b.WriteString(strconv.FormatBool(v.I != 0))
	default:
		b.WriteString(strconv.FormatInt(v.I, 10))
	}
}
