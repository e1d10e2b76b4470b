package jsonrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/kamsidecar/kamsidecar/rpc"
)

var clientID atomic.Int64

// errNoResult reports a reply with neither result nor error.
var errNoResult = errors.New("reply has no result and no error")

// Call sends one JSON-RPC request over HTTP POST to url and returns the raw
// result (jsonrpc.md §5). A JSON-RPC error comes back as an rpc.Fault (use
// errors.As). params are encoded with encoding/json; the reply size is not
// limited.
func Call(ctx context.Context, url, method string, params ...any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	req := struct {
		JSONRPC string `json:"jsonrpc"`
		Method  string `json:"method"`
		Params  []any  `json:"params"`
		ID      int64  `json:"id"`
	}{"2.0", method, params, clientID.Add(1)}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("jsonrpc call %s: encode: %w", method, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("jsonrpc call %s: %w", method, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("jsonrpc call %s: %w", method, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("jsonrpc call %s: read reply: %w", method, err)
	}
	var rep struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, fmt.Errorf("jsonrpc call %s: http %d: bad reply: %w", method, resp.StatusCode, err)
	}
	if rep.Error != nil {
		return nil, fmt.Errorf("jsonrpc call %s: %w", method, rpc.Fault{Code: rep.Error.Code, Message: rep.Error.Message})
	}
	if rep.Result == nil {
		return nil, fmt.Errorf("jsonrpc call %s: %w", method, errNoResult)
	}
	return rep.Result, nil
}
