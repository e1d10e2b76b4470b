package metrics

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kamsidecar/kamsidecar/internal/testutil"
)

// TestAlertRules runs promtool check rules and promtool test rules on
// contrib/prometheus: every alert has a unit test proving that it fires.
func TestAlertRules(t *testing.T) {
	pt := testutil.LookPath(t, "promtool")
	dir := filepath.Join(testutil.RepoRoot(), "contrib", "prometheus")
	for _, args := range [][]string{
		{"check", "rules", "kamsidecar-rules.yml"},
		{"test", "rules", "kamsidecar-rules.test.yml"},
	} {
		cmd := exec.Command(pt, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestDashboard checks that the Grafana dashboard is JSON and that every
// kamsidecar_ metric it queries exists.
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "contrib", "grafana", "kamsidecar.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"kamsidecar_probe_duration_seconds_bucket": true, "kamsidecar_probes_in_flight": true,
		"kamsidecar_reloads_total": true, "kamsidecar_rpc_requests_total": true, "kamsidecar_probe_results_dropped_total": true}
	for name := range helps {
		known[Namespace+"_"+name] = true
	}
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, f := range strings.FieldsFunc(tg.Expr, func(r rune) bool {
				return !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
			}) {
				if strings.HasPrefix(f, "kamsidecar_") {
					n++
					if !known[f] {
						t.Errorf("panel %q queries unknown metric %s", p.Title, f)
					}
				}
			}
		}
	}
	if n < 8 {
		t.Errorf("the dashboard queries %d kamsidecar metrics", n)
	}
}
