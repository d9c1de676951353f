package api

import (
	"context"
	"net/http"
	"sync"

	"riverqueue.com/riverui"
)

// riverUIPrefix is where River's own UI is served, for operators: the River
// jobs behind Eddy's jobs, their queues, attempts and errors.
const riverUIPrefix = "/riverui"

// riverUI returns River's UI over the service's River client (both
// databases), or nil when it cannot be built (then /riverui is not found).
// Its background services (counts it caches for its pages) start with the
// first request, not with every API handler, and stop when the server
// closes.
func (s *server) riverUI() http.Handler {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(s.cfg.Jobs.RiverClient(), nil),
		Logger:    s.log.With("component", "riverui"),
		Prefix:    riverUIPrefix,
		// A job's args are Eddy's run id and kind: nothing to hide.
		JobListHideArgsByDefault: false,
	})
	if err != nil {
		s.log.Error("riverui not available", "err", err)
		return nil
	}
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			ctx := context.Background()
			if closing := s.cfg.Closing; closing != nil {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				go func() { <-closing; cancel() }()
			}
			if err := h.Start(ctx); err != nil {
				s.log.Error("riverui background services", "err", err)
			}
		})
		h.ServeHTTP(w, r)
	})
}
