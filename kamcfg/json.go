package kamcfg

import (
	"bytes"
	"encoding/json"
)

// jsonParam is a modparam in the `kamsidecar config` output: value is a
// JSON integer for int values and a JSON string for strings
// (shared/spec/cli.md).
type jsonParam struct {
	Module string          `json:"module"`
	Param  string          `json:"param"`
	Value  json.RawMessage `json:"value"`
}

// jsonSocket is a listen or alias socket with its place.
type jsonSocket struct {
	Socket
	At string `json:"at"`
}

// jsonConfig is the document `kamsidecar config` prints: the two keys of
// the contract first, then what kamsidecar resolved.
type jsonConfig struct {
	LoadModules []string     `json:"loadmodules"`
	ModParams   []jsonParam  `json:"modparams"`
	LoadPath    string       `json:"loadpath,omitempty"`
	CfgEngine   string       `json:"cfgengine,omitempty"`
	Listen      []jsonSocket `json:"listen"`
	Aliases     []jsonSocket `json:"aliases,omitempty"`
	Settings    Settings     `json:"settings"`
}

// MarshalJSON renders a Value as Kamailio typed it: a number or a string.
func (v Value) MarshalJSON() ([]byte, error) {
	if v.Kind == IntValue {
		return json.Marshal(v.Int)
	}
	return marshalNoEscape(v.Str)
}

// JSON renders the configuration as `kamsidecar config` prints it
// (shared/spec/cli.md): loadmodules and modparams in file order, then the
// listen sockets and the resolved settings. Output is indented and ends
// with a newline.
func (c *Config) JSON() ([]byte, error) {
	doc := jsonConfig{
		LoadModules: []string{},
		ModParams:   []jsonParam{},
		LoadPath:    c.LoadPath,
		CfgEngine:   c.CfgEngine,
		Listen:      []jsonSocket{},
		Settings:    c.Settings,
	}
	for _, m := range c.LoadModules {
		doc.LoadModules = append(doc.LoadModules, m.Path)
	}
	for _, m := range c.ModParams {
		v, err := m.Value.MarshalJSON()
		if err != nil {
			return nil, err
		}
		doc.ModParams = append(doc.ModParams, jsonParam{Module: m.Module, Param: m.Param, Value: v})
	}
	for _, s := range c.Listen {
		doc.Listen = append(doc.Listen, jsonSocket{Socket: s, At: s.Pos.String()})
	}
	for _, s := range c.Aliases {
		doc.Aliases = append(doc.Aliases, jsonSocket{Socket: s, At: s.Pos.String()})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// marshalNoEscape encodes v without HTML escaping (<, >, & stay as they
// are, as in Kamailio's own JSON).
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
