package api

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/httprate"
)

// DefaultRateLimit is the requests per minute one token may make under /v1
// by default: far above what the browser UI and a polling client make (a poll
// every 50 ms is 1200), low enough that a client in a loop cannot take the
// server from the others.
const DefaultRateLimit = 6000

// rateLimit limits the requests per minute of each token (of each IP address
// when the API runs open) to Config.RateLimit, with a sliding window; past it
// the answer is 429 with Retry-After. It follows auth.
func (s *server) rateLimit() func(http.Handler) http.Handler {
	limit := s.cfg.RateLimit
	if limit == 0 {
		limit = DefaultRateLimit
	}
	if limit < 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	return httprate.Limit(limit, time.Minute,
		httprate.WithKeyFuncs(func(r *http.Request) (string, error) {
			if id := callerOf(r).tokenID; id != "" {
				return "token:" + id, nil
			}
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				host = r.RemoteAddr
			}
			return "ip:" + host, nil
		}),
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			// httprate has set Retry-After (the window, in seconds).
			writeProblem(w, http.StatusTooManyRequests, fmt.Sprintf(
				"rate limit reached: at most %d requests per minute per token; wait and retry", limit))
		}))
}
