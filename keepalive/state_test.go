package keepalive

import (
	"testing"
	"time"

	"github.com/kamsidecar/kamsidecar/keepalive/probe"
)

var t0 = time.Date(2026, 11, 22, 22, 55, 59, 0, time.UTC)

func reply(code int) probe.Result {
	return probe.Result{Class: probe.ClassReply, Code: code}
}

var (
	timeout   = probe.Result{Class: probe.ClassTimeout, Code: 408, Local: true}
	transport = probe.Result{Class: probe.ClassTransport, Code: 503, Local: true}
	dnsFail   = probe.Result{Class: probe.ClassDNS}
	unsent    = probe.Result{Class: probe.ClassUnsent}
	canceled  = probe.Result{Class: probe.ClassCanceled}
)

// TestMachine is the table of Kamailio's keepalive rules (spec §4, §5):
// each row is a sequence of probe results, one per second, and the Status
// and transitions they leave.
func TestMachine(t *testing.T) {
	tests := []struct {
		name          string
		deleteCounter int
		results       []probe.Result
		wantState     State
		wantCounter   int
		wantChanges   []State // New of every Changed transition, in order
		wantStopped   bool
		wantSent      int // OPTIONS sent (Ping said yes)
		lastUp        int // index of the result that set LastUp, -1 never
		lastDown      int
	}{
		{"unknown to up on 200", 5, []probe.Result{reply(200)}, StateUp, 0, []State{StateUp}, false, 1, 0, -1},
		{"every 2xx is up", 5, []probe.Result{reply(202), reply(299)}, StateUp, 0, []State{StateUp}, false, 2, 1, -1},
		{"404 is down", 5, []probe.Result{reply(404)}, StateDown, 1, []State{StateDown}, false, 1, -1, 0},
		{"405 is down", 5, []probe.Result{reply(405)}, StateDown, 1, []State{StateDown}, false, 1, -1, 0},
		{"3xx and 6xx are down", 5, []probe.Result{reply(302), reply(603)}, StateDown, 2, []State{StateDown}, false, 2, -1, 1},
		{"local 408 is down", 5, []probe.Result{timeout}, StateDown, 1, []State{StateDown}, false, 1, -1, 0},
		{"transport error is down", 5, []probe.Result{transport}, StateDown, 1, []State{StateDown}, false, 1, -1, 0},
		{"up down up, one change each", 5, []probe.Result{reply(200), reply(200), reply(503), reply(503), reply(200)}, StateUp, 0, []State{StateUp, StateDown, StateUp}, false, 5, 4, 3},
		{"dns failure changes nothing", 5, []probe.Result{dnsFail, dnsFail, dnsFail, dnsFail, dnsFail, dnsFail, dnsFail, dnsFail}, StateUnknown, 0, nil, false, 8, -1, -1},
		{"unsent and canceled change nothing", 5, []probe.Result{reply(200), unsent, canceled}, StateUp, 0, []State{StateUp}, false, 3, 0, -1},
		// spec §5: delete_counter=3 → 4 failed probes, then silence.
		{"delete_counter 3 stops after 4 failures", 3, []probe.Result{reply(404), reply(404), reply(404), reply(404), reply(404), reply(404)}, StateDown, 4, []State{StateDown}, true, 4, -1, 3},
		{"default 5 stops after 6", 5, []probe.Result{timeout, timeout, timeout, timeout, timeout, timeout, timeout, timeout}, StateDown, 6, []State{StateDown}, true, 6, -1, 5},
		{"2xx before the limit resets", 2, []probe.Result{reply(404), reply(404), reply(200), reply(404), reply(404), reply(200)}, StateUp, 0, []State{StateDown, StateUp, StateDown, StateUp}, false, 6, 5, 4},
		{"delete_counter 0 never stops", 0, []probe.Result{timeout, timeout, timeout, timeout, timeout, timeout, timeout, timeout, timeout, timeout}, StateDown, 10, []State{StateDown}, false, 10, -1, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Machine{DeleteCounter: tt.deleteCounter}
			var s Status
			var changes []State
			sent := 0
			for i, r := range tt.results {
				now := t0.Add(time.Duration(i) * time.Second)
				var send bool
				s, send = m.Ping(s, now)
				if !send {
					continue
				}
				sent++
				if !s.LastChecked.Equal(now) {
					t.Fatalf("probe %d: last checked %v", i, s.LastChecked)
				}
				var tr Transition
				s, tr = m.Result(s, r, now)
				if tr.Changed {
					changes = append(changes, tr.New)
				}
				if tr.Changed != (tr.Old != tr.New) {
					t.Fatalf("probe %d: transition %+v", i, tr)
				}
			}
			if s.State != tt.wantState || s.Counter != tt.wantCounter || s.Stopped != tt.wantStopped || sent != tt.wantSent {
				t.Errorf("state %v counter %d stopped %v sent %d; want %v %d %v %d", s.State, s.Counter, s.Stopped, sent, tt.wantState, tt.wantCounter, tt.wantStopped, tt.wantSent)
			}
			if len(changes) != len(tt.wantChanges) {
				t.Fatalf("changes %v, want %v", changes, tt.wantChanges)
			}
			for i := range changes {
				if changes[i] != tt.wantChanges[i] {
					t.Fatalf("changes %v, want %v", changes, tt.wantChanges)
				}
			}
			at := func(i int) time.Time {
				if i < 0 {
					return time.Time{}
				}
				return t0.Add(time.Duration(i) * time.Second)
			}
			// The 5.6.3 swap is fixed: LastUp is the last 2xx.
			if !s.LastUp.Equal(at(tt.lastUp)) || !s.LastDown.Equal(at(tt.lastDown)) {
				t.Errorf("last up %v last down %v; want %v %v", s.LastUp, s.LastDown, at(tt.lastUp), at(tt.lastDown))
			}
		})
	}
}

// TestMachineReadd: a duplicate add resets the counter and lifts a stop.
func TestMachineReadd(t *testing.T) {
	m := Machine{DeleteCounter: 1}
	var s Status
	var tr Transition
	for range 2 {
		s, _ = m.Ping(s, t0)
		s, tr = m.Result(s, timeout, t0)
	}
	if !s.Stopped || !tr.Stopped {
		t.Fatalf("not stopped after 2 failures with delete_counter 1: %+v %+v", s, tr)
	}
	s, restart := m.Readd(s)
	if !restart || s.Stopped || s.Counter != 0 || s.State != StateDown {
		t.Errorf("readd: %+v restart %v", s, restart)
	}
	if _, send := m.Ping(s, t0); !send {
		t.Error("no ping after readd")
	}
	s2, restart := m.Readd(Status{State: StateUp, Counter: 0})
	if restart || s2.State != StateUp {
		t.Errorf("readd of a running destination: %+v %v", s2, restart)
	}
}
