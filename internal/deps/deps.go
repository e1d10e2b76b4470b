// Package deps pins dependencies that packages being written use, so that
// go.mod keeps them while the code that imports them lands.
package deps

import (
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/prometheus/common/expfmt"
)
