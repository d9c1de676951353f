package e2e

import (
	"encoding/json"

	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Expressions that used to stall the API (the parser was quadratic and
// unbounded) are refused at submit by the length and nesting limits, with the
// position, and the API still serves and shuts down promptly afterwards.
func TestHostileExpressionsAreRefused(t *testing.T) {
	addr := freeAddr(t)
	api := startProc(t, "api", []string{"EDDY_ADDR=" + addr, "EDDY_DATA_DIR=" + t.TempDir(), "DATABASE_URL=", "EDDY_WORKERS=1"})
	c := client{"http://" + addr}
	c.waitReady(t)

	cases := []struct {
		name, exact, want string
	}{
		// 60,000 "^" (120 KB): refused by the length limit before any parsing.
		{"power tower", strings.Repeat("2^", 60000) + "x", "at most 4096"},
		// Short but deep: refused by the nesting limit.
		{"deep parentheses", strings.Repeat("(", 100) + "x" + strings.Repeat(")", 100), "nesting deeper than 64"},
		{"deep powers", strings.Repeat("2^", 100) + "x", "nesting deeper than 64"},
		{"deep signs", strings.Repeat("-", 100) + "x", "nesting deeper than 64"},
	}
	for _, tc := range cases {
		body, _ := json.Marshal(map[string]any{"kind": "gp.solve", "params": map[string]any{"pde": "poisson1d", "exact": tc.exact}})
		code, resp := c.req(t, "POST", "/v1/jobs", string(body))
		if code != 422 {
			t.Fatalf("%s: %d %s", tc.name, code, resp)
		}
		var p struct {
			Errors []struct{ Path, Message string } `json:"errors"`
		}
		if err := json.Unmarshal(resp, &p); err != nil || len(p.Errors) == 0 {
			t.Fatalf("%s: problem %s", tc.name, resp)
		}
		if p.Errors[0].Path != "/params/exact" || !strings.Contains(p.Errors[0].Message, tc.want) ||
			!strings.Contains(p.Errors[0].Message, "character") {
			t.Fatalf("%s: error %+v, want at /params/exact with the position and %q", tc.name, p.Errors[0], tc.want)
		}
	}
	if code, _ := c.req(t, "GET", "/healthz", ""); code != 200 {
		t.Fatalf("healthz after hostile expressions: %d", code)
	}
	// Nothing was queued, so nothing holds the shutdown.
	code, list := c.req(t, "GET", "/v1/jobs", "")
	if code != 200 || strings.Contains(string(list), `"kind": "gp.solve"`) {
		t.Fatalf("jobs after refusals: %d %s", code, list)
	}
	api.signal(t, syscall.SIGTERM)
	if err := api.waitExit(t, time.Minute); err != nil {
		log, _ := os.ReadFile(api.log)
		t.Fatalf("api exit: %v\n%s", err, log)
	}
	if log, _ := os.ReadFile(api.log); strings.Contains(string(log), "context deadline exceeded") {
		t.Fatalf("shutdown ran out of its budget:\n%s", log)
	}
}
