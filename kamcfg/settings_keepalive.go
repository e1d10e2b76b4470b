package kamcfg

import (
	"strings"
	"time"
)

// Keepalive are the keepalive module's settings (shared/spec/keepalive.md
// §2).
type Keepalive struct {
	// Loaded tells whether keepalive is loaded by the cfg.
	Loaded bool `json:"loaded"`
	// PingInterval is the period in seconds between two OPTIONS to the same
	// destination.
	PingInterval int `json:"ping_interval"`
	// DeleteCounter is the number of consecutive failed probes after which
	// probing of a destination stops (0: never).
	DeleteCounter int `json:"delete_counter"`
	// PingFrom is the From URI of the probes.
	PingFrom string `json:"ping_from"`
	// Destination are the destinations added at start-up with owner
	// "_params", one per modparam, in file order.
	Destination []KeepaliveDestination `json:"destination"`
}

// KeepaliveDestination is one keepalive "destination" modparam.
type KeepaliveDestination struct {
	// URI is the destination as keepalive stores it: the value as written,
	// with "sip:" prepended unless it starts with "sip:" or "sips:".
	URI string `json:"uri"`
	// Value is the modparam value as written: Kamailio's duplicate rule
	// compares it with the URIs stored before it, so consumers that
	// imitate that rule need it.
	Value string `json:"value"`
	// Pos is the place of the modparam statement.
	Pos Position `json:"-"`
}

// Interval is the probing period of every destination.
func (k Keepalive) Interval() time.Duration {
	return time.Duration(k.PingInterval) * time.Second
}

// KeepaliveOwner is the owner keepalive gives the destinations of its
// "destination" parameter.
const KeepaliveOwner = "_params"

// keepaliveURI normalises a destination the way keepalive does when it
// adds one: values of at least 4 bytes starting with sip: or sips: (any
// case) stay as they are, everything else gets "sip:" in front.
func keepaliveURI(s string) string {
	l := strings.ToLower(s)
	if len(s) >= 4 && (strings.HasPrefix(l, "sip:") || strings.HasPrefix(l, "sips:")) {
		return s
	}
	return "sip:" + s
}

// keepaliveURIProblem returns why Kamailio's URI parser rejects a
// normalised destination, for the few cases kamsidecar can tell for sure:
// no host, or a host that still contains '@'. Kamailio's parser is lenient
// otherwise ("sip:bad uri" is accepted).
func keepaliveURIProblem(uri string) string {
	rest := uri[strings.IndexByte(uri, ':')+1:]
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.IndexAny(rest, ";?"); i >= 0 {
		rest = rest[:i]
	}
	switch {
	case rest == "":
		return "the URI has no host"
	case strings.Contains(rest, "@"):
		return "the URI's host contains '@'"
	}
	return ""
}

// keepaliveModule is the registry of the keepalive parameters.
var keepaliveModule = &moduleSpec[Keepalive]{
	name: "keepalive",
	params: map[string]paramSpec[Keepalive]{
		"ping_interval":  intParam(30, func(k *Keepalive) *int { return &k.PingInterval }),
		"delete_counter": intParam(5, func(k *Keepalive) *int { return &k.DeleteCounter }),
		"ping_from":      strParam("sip:keepalive@kamailio.org", func(k *Keepalive) *string { return &k.PingFrom }),
		"destination":    {types: takesString, set: addKeepaliveDestination},
	},
	finish: func(k *Keepalive, f *finishCtx) {
		if k.Loaded && !f.isLoaded("tm") {
			f.warn("", "keepalive needs the tm module, which is not loaded: %s", failsToStart)
		}
	},
}

// addKeepaliveDestination appends a destination. Kamailio adds them in
// mod_init and refuses to start when one fails: an unparsable URI, or a
// value equal (byte for byte) to the stored URI of an earlier one.
func addKeepaliveDestination(k *Keepalive, v Value, c *paramCtx) {
	uri := keepaliveURI(v.Str)
	if why := keepaliveURIProblem(uri); why != "" {
		c.warn("%s: invalid destination %s (%s)", failsToStart, v, why)
	}
	for _, d := range k.Destination {
		if d.URI == v.Str {
			c.warn("%s: destination %s duplicates the one at %s", failsToStart, v, d.Pos)
			break
		}
	}
	k.Destination = append(k.Destination, KeepaliveDestination{URI: uri, Value: v.Str, Pos: c.pos})
}
