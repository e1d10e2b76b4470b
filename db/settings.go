package db

import "github.com/kamsidecar/kamsidecar/kamcfg"

// TableOf builds the Table of the dispatcher modparams read from a cfg
// (dispatcher.md §1.1): table_name, the *_col names and ds_db_extra_attrs,
// which Kamailio 5.6.3 uses only when it is longer than two characters.
// A malformed ds_db_extra_attrs fails with ErrExtraAttrs, as it fails
// Kamailio's start-up.
func TableOf(d kamcfg.Dispatcher) (Table, error) {
	t := Table{Name: d.TableName, SetIDCol: d.SetIDCol, DestinationCol: d.DestinationCol,
		FlagsCol: d.FlagsCol, PriorityCol: d.PriorityCol, AttrsCol: d.AttrsCol}
	if len(d.DSDBExtraAttrs) > 2 {
		extra, err := ParseExtraAttrs(d.DSDBExtraAttrs)
		if err != nil {
			return Table{}, err
		}
		t.ExtraAttrs = extra
	}
	return t.withDefaults(), nil
}
