package dispatcher

import "github.com/kamsidecar/kamsidecar/kamcfg"

// OptionsFrom takes the add path's settings from the cfg's dispatcher
// modparams (spec §1.1: ds_load_mode, ds_attrs_none; §1.2: ds_dns_mode)
// plus the cfg's listen sockets and core dns_try_ipv6, which the caller
// passes as plain values. The resolver is left nil (no DNS); set it.
func OptionsFrom(d kamcfg.Dispatcher, listen []ListenSocket, tryIPv6 bool) Options {
	return Options{
		LoadMode:  d.DSLoadMode,
		AttrsNone: d.DSAttrsNone != 0,
		DNSMode:   d.DSDNSMode,
		TryIPv6:   tryIPv6,
		Listen:    listen,
	}
}
