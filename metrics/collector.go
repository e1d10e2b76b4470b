package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kamsidecar/kamsidecar/dispatcher"
)

var (
	dsLabels = []string{"setid", "uri", "duid"}
	kaLabels = []string{"uri", "owner"}
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(Namespace+"_"+name, help, labels, nil)
}

func with(base []string, extra ...string) []string {
	return append(append([]string(nil), base...), extra...)
}

// Descriptions of the series the collector computes at scrape time.
var (
	descBuildInfo = desc("build_info", "Build of the running kamsidecar: version, Go version and VCS revision; always 1.",
		"version", "goversion", "revision")
	descInFlight = desc("probes_in_flight", "Probes sent whose outcome is not known yet, by module.", "module")
	descDropped  = desc("probe_results_dropped_total", "Probe results the metrics and history consumer lost because its buffer was full, by module.", "module")
	descDsCount  = desc("dispatcher_destinations", "Dispatcher destinations in the current snapshot.")
	descKaCount  = desc("keepalive_destinations", "Keepalive destinations in the list.")

	descDsUp = desc("dispatcher_destination_up",
		"Whether the dispatcher destination is used for routing: 1 when neither inactive (I) nor disabled (D), else 0.", dsLabels...)
	descDsFlags = desc("dispatcher_destination_state_flags",
		"State bits of the dispatcher destination: 1 inactive (I), 2 trying (T), 4 disabled (D), 8 probing (P), 16 no DNS.", dsLabels...)
	descDsProbes = desc("dispatcher_destination_probes_total",
		"Finished probes of the dispatcher destination by result: ok (2xx or ds_ping_reply_codes), failing reply class (3xx, 4xx, 5xx, 6xx, other), timeout, transport, dns, unsent.",
		with(dsLabels, "result")...)
	descDsLastRTT = desc("dispatcher_destination_last_rtt_seconds",
		"Round-trip time of the last probe sent to the dispatcher destination.", dsLabels...)
	descDsAvg = desc("dispatcher_destination_latency_average_seconds",
		"Mean probe latency of the dispatcher destination (AVG of dispatcher.list, ds_ping_latency_stats).", dsLabels...)
	descDsEst = desc("dispatcher_destination_latency_estimate_seconds",
		"Smoothed (exponentially weighted) probe latency of the dispatcher destination (EST of dispatcher.list).", dsLabels...)
	descDsStd = desc("dispatcher_destination_latency_stddev_seconds",
		"Standard deviation of the probe latency of the dispatcher destination (STD of dispatcher.list).", dsLabels...)
	descDsMax = desc("dispatcher_destination_latency_max_seconds",
		"Largest probe latency of the dispatcher destination (MAX of dispatcher.list).", dsLabels...)
	descDsChange = desc("dispatcher_destination_last_change_timestamp_seconds",
		"Unix time of the last state change of the dispatcher destination caused by a probe.", dsLabels...)

	descKaState = desc("keepalive_destination_state",
		"State of the keepalive destination as Kamailio numbers it: 0 unknown, 1 up, 2 down.", kaLabels...)
	descKaFailures = desc("keepalive_destination_consecutive_failures",
		"Consecutive failed probes of the keepalive destination (keepalive.list counter).", kaLabels...)
	descKaProbes = desc("keepalive_destination_probes_total",
		"Finished probes of the keepalive destination by result: ok (2xx), failing reply class (3xx, 4xx, 5xx, 6xx, other), timeout, transport, dns, unsent.",
		with(kaLabels, "result")...)
	descKaLastRTT = desc("keepalive_destination_last_rtt_seconds",
		"Round-trip time of the last probe sent to the keepalive destination.", kaLabels...)
	descKaAvg = desc("keepalive_destination_latency_average_seconds",
		"Mean probe latency of the keepalive destination, computed as dispatcher computes AVG.", kaLabels...)
	descKaEst = desc("keepalive_destination_latency_estimate_seconds",
		"Smoothed probe latency of the keepalive destination, computed as dispatcher computes EST (alpha 0.9).", kaLabels...)
	descKaStd = desc("keepalive_destination_latency_stddev_seconds",
		"Standard deviation of the probe latency of the keepalive destination.", kaLabels...)
	descKaMax = desc("keepalive_destination_latency_max_seconds",
		"Largest probe latency of the keepalive destination.", kaLabels...)
	descKaChange = desc("keepalive_destination_last_change_timestamp_seconds",
		"Unix time of the last state change of the keepalive destination.", kaLabels...)
)

// globalCollector computes the global series read at scrape time: build
// info, destination counts, probes in flight, dropped results.
type globalCollector struct{ m *Metrics }

// Describe implements prometheus.Collector.
func (c *globalCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBuildInfo, descInFlight, descDropped, descDsCount, descKaCount} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *globalCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	ch <- gauge(descBuildInfo, 1, m.opts.Version, goVersion, buildRevision())
	if p := m.opts.Prober; p != nil {
		ch <- gauge(descInFlight, float64(p.InFlight()), "dispatcher")
		ch <- counter(descDropped, float64(p.ResultsDropped()), "dispatcher")
	}
	if ka := m.opts.Keepalive; ka != nil {
		ch <- gauge(descInFlight, float64(ka.InFlight()), "keepalive")
		var dropped uint64
		if s := m.kaSub.Load(); s != nil {
			dropped = s.Dropped()
		}
		ch <- counter(descDropped, float64(dropped), "keepalive")
	}
	if st := m.opts.Dispatcher; st != nil {
		ch <- gauge(descDsCount, float64(st.Sets().Destinations()))
	}
	if ka := m.opts.Keepalive; ka != nil {
		ch <- gauge(descKaCount, float64(ka.Len()))
	}
}

// collector computes the per-destination series at scrape time as a
// prometheus.Collector (Metrics.Collector). Handler does not use it: it
// writes the same series with writeDestinations, several times faster.
type collector struct{ m *Metrics }

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDsUp, descDsFlags, descDsProbes, descDsLastRTT, descDsAvg, descDsEst, descDsStd, descDsMax, descDsChange,
		descKaState, descKaFailures, descKaProbes, descKaLastRTT, descKaAvg, descKaEst, descKaStd, descKaMax, descKaChange} {
		ch <- d
	}
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

const msPerSecond = 1000

// snap is a copy of a destStats taken under the lock.
type snap struct {
	ok bool
	destStats
}

func (m *Metrics) snapshot(k destKey) snap {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.dests[k]; s != nil {
		return snap{true, *s}
	}
	return snap{}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	start := time.Now()
	live := map[destKey]struct{}{}
	if st := m.opts.Dispatcher; st != nil {
		sets := st.Sets()
		for set := range sets.All() {
			setid := strconv.Itoa(set.ID())
			for _, d := range set.All() {
				k := destKey{setid: d.SetID, uri: d.URI}
				if _, dup := live[k]; dup {
					continue // a duplicate (setid, URI): one series set
				}
				live[k] = struct{}{}
				c.collectDispatcher(ch, d, k, setid)
			}
		}
	}
	if ka := m.opts.Keepalive; ka != nil {
		list := ka.List()
		for _, d := range list {
			k := destKey{ka: true, uri: d.URI, owner: d.Owner}
			if _, dup := live[k]; dup {
				continue
			}
			live[k] = struct{}{}
			lv := []string{RedactURI(d.URI), d.Owner}
			ch <- gauge(descKaState, float64(d.State), lv...)
			ch <- gauge(descKaFailures, float64(d.Counter), lv...)
			s := m.snapshot(k)
			if s.ok {
				collectCounts(ch, descKaProbes, &s.destStats, lv)
				if s.hasRTT {
					ch <- gauge(descKaLastRTT, s.lastRTT.Seconds(), lv...)
				}
				collectLatency(ch, s.lat, lv, descKaAvg, descKaEst, descKaStd, descKaMax)
				if !s.lastChange.IsZero() {
					ch <- gauge(descKaChange, unixSeconds(s.lastChange), lv...)
				}
			}
		}
	}
	m.prune(live, start)
}

func (c *collector) collectDispatcher(ch chan<- prometheus.Metric, d *dispatcher.Destination, k destKey, setid string) {
	lv := []string{setid, RedactURI(d.URI), d.Attrs.DUID}
	st := d.State()
	flags := st.Flags() & dispatcher.StateMask
	up := 0.0
	if dispatcher.Usable(flags) {
		up = 1
	}
	ch <- gauge(descDsUp, up, lv...)
	ch <- gauge(descDsFlags, float64(flags), lv...)
	collectLatency(ch, st.Latency(), lv, descDsAvg, descDsEst, descDsStd, descDsMax)
	s := c.m.snapshot(k)
	if !s.ok {
		return
	}
	collectCounts(ch, descDsProbes, &s.destStats, lv)
	if s.hasRTT {
		ch <- gauge(descDsLastRTT, s.lastRTT.Seconds(), lv...)
	}
	if !s.lastChange.IsZero() {
		ch <- gauge(descDsChange, unixSeconds(s.lastChange), lv...)
	}
}

// collectCounts emits the probes_total series of the results seen at
// least once (at most nResults).
func collectCounts(ch chan<- prometheus.Metric, d *prometheus.Desc, s *destStats, lv []string) {
	for i, n := range s.counts {
		if n > 0 {
			ch <- counter(d, float64(n), with(lv, resultNames[i])...)
		}
	}
}

// collectLatency emits AVG, EST, STD and MAX in seconds once there is a
// sample (or a latency= seed).
func collectLatency(ch chan<- prometheus.Metric, l dispatcher.Latency, lv []string, avg, est, std, mx *prometheus.Desc) {
	if l.Count == 0 {
		return
	}
	ch <- gauge(avg, float64(l.Avg)/msPerSecond, lv...)
	ch <- gauge(est, float64(l.Est)/msPerSecond, lv...)
	ch <- gauge(std, float64(l.Std)/msPerSecond, lv...)
	ch <- gauge(mx, float64(l.Max)/msPerSecond, lv...)
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
