package db_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/kamsidecar/kamsidecar/db"
	"github.com/kamsidecar/kamsidecar/kamcfg"
)

func TestTableOf(t *testing.T) {
	cases := []struct {
		name    string
		in      kamcfg.Dispatcher
		want    db.Table
		wantErr bool
	}{
		{"defaults", kamcfg.Dispatcher{}, db.DefaultTable(), false},
		{"custom names and extra attrs",
			kamcfg.Dispatcher{TableName: "gw", SetIDCol: "g", DestinationCol: "u", FlagsCol: "f", PriorityCol: "p", AttrsCol: "a", DSDBExtraAttrs: "socket=sockcol;"},
			db.Table{Name: "gw", SetIDCol: "g", DestinationCol: "u", FlagsCol: "f", PriorityCol: "p", AttrsCol: "a", ExtraAttrs: []db.ExtraAttr{{Name: "socket", Column: "sockcol"}}}, false},
		{"short extra attrs ignored like Kamailio", kamcfg.Dispatcher{DSDBExtraAttrs: "a="}, db.DefaultTable(), false},
		{"extra attr without column", kamcfg.Dispatcher{DSDBExtraAttrs: "socket=;x=y"}, db.Table{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := db.TableOf(c.in)
			if c.wantErr {
				if !errors.Is(err, db.ErrExtraAttrs) {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}
