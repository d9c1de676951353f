package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"eddy/storage"
)

// listFeed serves the job-list event streams (GET /v1/events): every change
// of any job, for a live list. Like changeFeed, it reads the runs changed
// since its last poll with one query per poll interval however many list
// streams are open, and polls only while one is open; unlike a job stream,
// whose mailbox keeps only its run's newest version, a list stream keeps the
// newest version of every run changed since it last wrote, so no job's change
// is lost to a slow client.
type listFeed struct {
	feedSource
	subs map[*listSub]struct{} // under mu
}

// listSub is one list stream's mailbox.
type listSub struct {
	client string
	wake   chan struct{} // signalled when pending gains a run

	mu      sync.Mutex
	pending map[string]*storage.Run
	order   []string
	// seen is the change time of the version of each run handed over; the
	// lookback reads a change on several polls.
	seen map[string]time.Time
}

func newListFeed(read storage.Querier, poll time.Duration, maxTotal, maxClient int, log *slog.Logger) *listFeed {
	return &listFeed{feedSource: newFeedSource(read, poll, maxTotal, maxClient, log),
		subs: map[*listSub]struct{}{}}
}

func (f *listFeed) subscribe(client string) (*listSub, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	startPoll, err := f.admit(client)
	if err != nil {
		return nil, err
	}
	s := &listSub{client: client, wake: make(chan struct{}, 1), pending: map[string]*storage.Run{}, seen: map[string]time.Time{}}
	f.subs[s] = struct{}{}
	if startPoll {
		go f.pollRuns("job list feed", f.offer)
	}
	return s, nil
}

func (f *listFeed) unsubscribe(s *listSub) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.subs, s)
	f.release(s.client)
}

// offer hands a batch of changed runs to every list stream.
func (f *listFeed) offer(runs []*storage.Run, forget time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		s.offer(runs, forget)
	}
}

// offer adds the runs whose version the stream has not had, and forgets
// change times older than forget (no poll reads them again).
func (s *listSub) offer(runs []*storage.Run, forget time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	added := false
	for _, r := range runs {
		if t, ok := s.seen[r.ID]; ok && !r.UpdatedAt.After(t) {
			continue
		}
		s.seen[r.ID] = r.UpdatedAt
		if _, ok := s.pending[r.ID]; !ok {
			s.order = append(s.order, r.ID)
		}
		s.pending[r.ID] = r
		added = true
	}
	for id, t := range s.seen {
		if t.Before(forget) {
			delete(s.seen, id)
		}
	}
	if added {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// take returns the pending runs, oldest change first, and empties the mailbox.
func (s *listSub) take() []*storage.Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*storage.Run, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.pending[id])
	}
	s.pending, s.order = map[string]*storage.Run{}, nil
	return out
}

// jobListEvents serves GET /v1/events: server-sent events for every job
// that changes (submitted, started, progressed, ended, deleted runs excepted),
// one "job" event each with the job's JSON as GET /v1/jobs/{id} shows it,
// for as long as the client stays. A client builds its list from GET /v1/jobs
// and then applies the events; changes made up to a few seconds before the
// stream opened are sent again, so none falls between the two. A "ready"
// event opens the stream. Past the stream caps the answer is 429.
func (s *server) jobListEvents(f *listFeed) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		flusher, ok := w.(http.Flusher)
		if !ok {
			s.internalError(w, r, errors.New("response writer cannot stream"))
			return
		}
		// A stream shows the caller's own jobs; an admin's every owner's,
		// or those of ?owner=.
		c := callerOf(r)
		owner, ferr := listOwner(r)
		if ferr != nil {
			writeProblem(w, http.StatusBadRequest, "invalid query", *ferr)
			return
		}
		sub, err := f.subscribe(clientKey(r))
		if err != nil {
			w.Header().Set("Retry-After", "10")
			writeProblem(w, http.StatusTooManyRequests, fmt.Sprintf(
				"too many open event streams (at most %d per client, %d in all); close one, or poll GET /v1/jobs",
				s.cfg.MaxStreamsPerClient, s.cfg.MaxStreams))
			return
		}
		defer f.unsubscribe(sub)
		startEventStream(w)
		fmt.Fprint(w, "event: ready\ndata: {}\n\n")
		flusher.Flush()
		keepAlive := time.NewTicker(15 * time.Second)
		defer keepAlive.Stop()
		seq := 0
		for {
			select {
			case <-r.Context().Done():
				return
			case <-s.cfg.Closing:
				return
			case <-keepAlive.C:
				fmt.Fprint(w, ": keep-alive\n\n")
				flusher.Flush()
			case <-sub.wake:
				for _, run := range sub.take() {
					if !c.sees(run.Owner) || owner != "" && run.Owner != owner {
						continue
					}
					data, _ := json.Marshal(viewOf(run))
					seq++
					fmt.Fprintf(w, "id: %d\nevent: job\ndata: %s\n\n", seq, data)
				}
				flusher.Flush()
			}
		}
	}
}

// startEventStream sends the status and headers of a server-sent event
// stream, unbuffered by proxies.
func startEventStream(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
}
