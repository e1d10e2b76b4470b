package kamcfg

import "testing"

func TestModParamWritten(t *testing.T) {
	cfg, err := Parse("written.cfg", []byte(`loadmodule "jsonrpcs.so"
loadmodule "ctl.so"
modparam("jsonrpcs", "fifo_mode", 0660)
modparam("json.*|ctl", "dgram_user", "kamailio")
modparam("ctl", "mode", 0666)
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		module, param string
		want          bool
	}{
		{"jsonrpcs", "fifo_mode", true},
		{"jsonrpcs", "dgram_mode", false},
		{"jsonrpcs", "dgram_user", true},
		{"ctl", "dgram_user", true}, // the regex selected both modules
		{"ctl", "mode", true},
		{"ctl", "user", false},
		{"jsonrpcs", "FIFO_MODE", false},
	}
	for _, tc := range tests {
		if got := cfg.ModParamWritten(tc.module, tc.param); got != tc.want {
			t.Errorf("ModParamWritten(%q, %q) = %v", tc.module, tc.param, got)
		}
	}
}
