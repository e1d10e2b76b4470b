package dispatcher

import (
	"errors"
	"fmt"
	"strings"
)

// ErrAttrsTooLong marks a DB row whose attrs and ds_db_extra_attrs columns
// do not fit Kamailio's 1024-byte buffer: the row fails to load (spec §3.3).
var ErrAttrsTooLong = errors.New("attrs too long")

// ExtraAttr is one ds_db_extra_attrs pair after reading a row: the attr
// name and the column's value (Null for SQL NULL).
type ExtraAttr struct {
	Name  string
	Value string
	Null  bool
}

// maxAttrsBuf is the size of Kamailio's attrs buffer for DB rows (§3.3).
const maxAttrsBuf = 1024

// JoinExtraAttrs builds a DB row's attrs text as 5.6.3 does with
// ds_db_extra_attrs (spec §3.3): the base attrs (if any) get a ';' unless
// they end in one, then "name=value;" is appended for every non-NULL,
// non-empty extra column. The one trailing ';' is removed later by
// ParseAttrs, so attrs "duid=a" plus socket "udp:1.2.3.4:5060" gives BODY
// "duid=a;socket=udp:1.2.3.4:5060". More than 1023 bytes is
// ErrAttrsTooLong.
func JoinExtraAttrs(base string, extras []ExtraAttr) (string, error) {
	var b strings.Builder
	b.WriteString(base)
	if base != "" && !strings.HasSuffix(base, ";") {
		b.WriteByte(';')
	}
	for _, x := range extras {
		if x.Null || x.Value == "" {
			continue
		}
		b.WriteString(x.Name)
		b.WriteByte('=')
		b.WriteString(x.Value)
		b.WriteByte(';')
	}
	if b.Len() >= maxAttrsBuf {
		return "", fmt.Errorf("%w: %d bytes, Kamailio's buffer holds %d", ErrAttrsTooLong, b.Len(), maxAttrsBuf-1)
	}
	return b.String(), nil
}
