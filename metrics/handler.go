package metrics

import (
	"bufio"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/kamsidecar/kamsidecar/dispatcher"
)

// Handler serves every metric in the Prometheus text format 0.0.4 (gzip
// when the client accepts it), for /metrics: the registry's global series
// through the client's encoder, then the per-destination series written
// directly by writeDestinations (measured several times faster than
// building client metrics at 10,000 destinations, BenchmarkScrape10k).
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fams, err := m.reg.Gather()
		if err != nil {
			http.Error(w, "gathering metrics failed", http.StatusInternalServerError)
			return
		}
		format := expfmt.NewFormat(expfmt.TypeTextPlain)
		w.Header().Set("Content-Type", string(format))
		var out io.Writer = w
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
			defer gz.Close()
			out = gz
		}
		bw := bufio.NewWriterSize(out, 64<<10)
		defer bw.Flush()
		enc := expfmt.NewEncoder(bw, format)
		for _, f := range fams {
			if err := enc.Encode(f); err != nil {
				return
			}
		}
		m.writeDestinations(bw)
	})
}

// family is one per-destination metric family being written.
type family struct {
	name, help, typ string
	buf             []byte
}

func newFamily(name, typ string, d string) *family {
	return &family{name: Namespace + "_" + name, help: d, typ: typ}
}

// The per-destination families in output order; the help texts are those
// of the descs in collector.go.
type families struct {
	dsUp, dsFlags, dsProbes, dsLastRTT, dsAvg, dsEst, dsStd, dsMax, dsChange       *family
	kaState, kaFailures, kaProbes, kaLastRTT, kaAvg, kaEst, kaStd, kaMax, kaChange *family
}

func (f *families) all() []*family {
	return []*family{f.dsUp, f.dsFlags, f.dsProbes, f.dsLastRTT, f.dsAvg, f.dsEst, f.dsStd, f.dsMax, f.dsChange,
		f.kaState, f.kaFailures, f.kaProbes, f.kaLastRTT, f.kaAvg, f.kaEst, f.kaStd, f.kaMax, f.kaChange}
}

// helpOf extracts the help text of a desc built by desc().
var helps = map[string]string{}

func init() {
	for _, h := range []struct {
		name, help string
	}{
		{"dispatcher_destination_up", "Whether the dispatcher destination is used for routing: 1 when neither inactive (I) nor disabled (D), else 0."},
		{"dispatcher_destination_state_flags", "State bits of the dispatcher destination: 1 inactive (I), 2 trying (T), 4 disabled (D), 8 probing (P), 16 no DNS."},
		{"dispatcher_destination_probes_total", "Finished probes of the dispatcher destination by result: ok (2xx or ds_ping_reply_codes), failing reply class (3xx, 4xx, 5xx, 6xx, other), timeout, transport, dns, unsent."},
		{"dispatcher_destination_last_rtt_seconds", "Round-trip time of the last probe sent to the dispatcher destination."},
		{"dispatcher_destination_latency_average_seconds", "Mean probe latency of the dispatcher destination (AVG of dispatcher.list, ds_ping_latency_stats)."},
		{"dispatcher_destination_latency_estimate_seconds", "Smoothed (exponentially weighted) probe latency of the dispatcher destination (EST of dispatcher.list)."},
		{"dispatcher_destination_latency_stddev_seconds", "Standard deviation of the probe latency of the dispatcher destination (STD of dispatcher.list)."},
		{"dispatcher_destination_latency_max_seconds", "Largest probe latency of the dispatcher destination (MAX of dispatcher.list)."},
		{"dispatcher_destination_last_change_timestamp_seconds", "Unix time of the last state change of the dispatcher destination caused by a probe."},
		{"keepalive_destination_state", "State of the keepalive destination as Kamailio numbers it: 0 unknown, 1 up, 2 down."},
		{"keepalive_destination_consecutive_failures", "Consecutive failed probes of the keepalive destination (keepalive.list counter)."},
		{"keepalive_destination_probes_total", "Finished probes of the keepalive destination by result: ok (2xx), failing reply class (3xx, 4xx, 5xx, 6xx, other), timeout, transport, dns, unsent."},
		{"keepalive_destination_last_rtt_seconds", "Round-trip time of the last probe sent to the keepalive destination."},
		{"keepalive_destination_latency_average_seconds", "Mean probe latency of the keepalive destination, computed as dispatcher computes AVG."},
		{"keepalive_destination_latency_estimate_seconds", "Smoothed probe latency of the keepalive destination, computed as dispatcher computes EST (alpha 0.9)."},
		{"keepalive_destination_latency_stddev_seconds", "Standard deviation of the probe latency of the keepalive destination."},
		{"keepalive_destination_latency_max_seconds", "Largest probe latency of the keepalive destination."},
		{"keepalive_destination_last_change_timestamp_seconds", "Unix time of the last state change of the keepalive destination."},
	} {
		helps[h.name] = h.help
	}
}

func fam(name, typ string) *family { return newFamily(name, typ, helps[name]) }

func newFamilies() *families {
	return &families{
		dsUp: fam("dispatcher_destination_up", "gauge"), dsFlags: fam("dispatcher_destination_state_flags", "gauge"),
		dsProbes: fam("dispatcher_destination_probes_total", "counter"), dsLastRTT: fam("dispatcher_destination_last_rtt_seconds", "gauge"),
		dsAvg: fam("dispatcher_destination_latency_average_seconds", "gauge"), dsEst: fam("dispatcher_destination_latency_estimate_seconds", "gauge"),
		dsStd: fam("dispatcher_destination_latency_stddev_seconds", "gauge"), dsMax: fam("dispatcher_destination_latency_max_seconds", "gauge"),
		dsChange: fam("dispatcher_destination_last_change_timestamp_seconds", "gauge"),
		kaState:  fam("keepalive_destination_state", "gauge"), kaFailures: fam("keepalive_destination_consecutive_failures", "gauge"),
		kaProbes: fam("keepalive_destination_probes_total", "counter"), kaLastRTT: fam("keepalive_destination_last_rtt_seconds", "gauge"),
		kaAvg: fam("keepalive_destination_latency_average_seconds", "gauge"), kaEst: fam("keepalive_destination_latency_estimate_seconds", "gauge"),
		kaStd: fam("keepalive_destination_latency_stddev_seconds", "gauge"), kaMax: fam("keepalive_destination_latency_max_seconds", "gauge"),
		kaChange: fam("keepalive_destination_last_change_timestamp_seconds", "gauge"),
	}
}

// sample appends one sample: name{labels} value.
func (f *family) sample(labels []byte, v float64) {
	f.buf = append(f.buf, f.name...)
	f.buf = append(f.buf, labels...)
	f.buf = append(f.buf, "} "...)
	f.buf = strconv.AppendFloat(f.buf, v, 'g', -1, 64)
	f.buf = append(f.buf, '\n')
}

// sampleResult appends one probes_total sample with its result label.
func (f *family) sampleResult(labels []byte, result string, v uint64) {
	f.buf = append(f.buf, f.name...)
	f.buf = append(f.buf, labels...)
	f.buf = append(f.buf, `,result="`...)
	f.buf = append(f.buf, result...)
	f.buf = append(f.buf, "\"} "...)
	f.buf = strconv.AppendUint(f.buf, v, 10)
	f.buf = append(f.buf, '\n')
}

func (f *family) writeTo(w *bufio.Writer) {
	if len(f.buf) == 0 {
		return
	}
	w.WriteString("# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.typ + "\n")
	w.Write(f.buf)
}

// appendLabel appends name="value" with the text format's escapes.
func appendLabel(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, '=', '"')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// writeDestinations writes the per-destination families (the series of
// collector) to w and prunes the counters of destinations that are gone.
func (m *Metrics) writeDestinations(w *bufio.Writer) {
	start := time.Now()
	fs := newFamilies()
	live := map[destKey]struct{}{}
	var lb []byte
	if st := m.opts.Dispatcher; st != nil {
		for set := range st.Sets().All() {
			setid := strconv.Itoa(set.ID())
			for _, d := range set.All() {
				k := destKey{setid: d.SetID, uri: d.URI}
				if _, dup := live[k]; dup {
					continue
				}
				live[k] = struct{}{}
				lb = append(lb[:0], '{')
				lb = appendLabel(lb, "setid", setid)
				lb = append(lb, ',')
				lb = appendLabel(lb, "uri", RedactURI(d.URI))
				lb = append(lb, ',')
				lb = appendLabel(lb, "duid", d.Attrs.DUID)
				ds := d.State()
				flags := ds.Flags() & dispatcher.StateMask
				up := 0.0
				if dispatcher.Usable(flags) {
					up = 1
				}
				fs.dsUp.sample(lb, up)
				fs.dsFlags.sample(lb, float64(flags))
				writeLatency(lb, ds.Latency(), fs.dsAvg, fs.dsEst, fs.dsStd, fs.dsMax)
				s := m.snapshot(k)
				if !s.ok {
					continue
				}
				writeCounts(lb, fs.dsProbes, &s.destStats)
				if s.hasRTT {
					fs.dsLastRTT.sample(lb, s.lastRTT.Seconds())
				}
				if !s.lastChange.IsZero() {
					fs.dsChange.sample(lb, unixSeconds(s.lastChange))
				}
			}
		}
	}
	if ka := m.opts.Keepalive; ka != nil {
		for _, d := range ka.List() {
			k := destKey{ka: true, uri: d.URI, owner: d.Owner}
			if _, dup := live[k]; dup {
				continue
			}
			live[k] = struct{}{}
			lb = append(lb[:0], '{')
			lb = appendLabel(lb, "uri", RedactURI(d.URI))
			lb = append(lb, ',')
			lb = appendLabel(lb, "owner", d.Owner)
			fs.kaState.sample(lb, float64(d.State))
			fs.kaFailures.sample(lb, float64(d.Counter))
			s := m.snapshot(k)
			if !s.ok {
				continue
			}
			writeCounts(lb, fs.kaProbes, &s.destStats)
			if s.hasRTT {
				fs.kaLastRTT.sample(lb, s.lastRTT.Seconds())
			}
			writeLatency(lb, s.lat, fs.kaAvg, fs.kaEst, fs.kaStd, fs.kaMax)
			if !s.lastChange.IsZero() {
				fs.kaChange.sample(lb, unixSeconds(s.lastChange))
			}
		}
	}
	m.prune(live, start)
	for _, f := range fs.all() {
		f.writeTo(w)
	}
}

func writeCounts(lb []byte, f *family, s *destStats) {
	for i, n := range s.counts {
		if n > 0 {
			f.sampleResult(lb, resultNames[i], n)
		}
	}
}

func writeLatency(lb []byte, l dispatcher.Latency, avg, est, std, mx *family) {
	if l.Count == 0 {
		return
	}
	avg.sample(lb, float64(l.Avg)/msPerSecond)
	est.sample(lb, float64(l.Est)/msPerSecond)
	std.sample(lb, float64(l.Std)/msPerSecond)
	mx.sample(lb, float64(l.Max)/msPerSecond)
}
