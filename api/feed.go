package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"eddy/storage"
)

var (
	feedQueries = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "eddy_event_feed_queries_total",
		Help: "Database queries of the change feed that serves every open event stream.",
	})
	openStreams = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "eddy_event_streams_open",
		Help: "Server-sent event streams open now.",
	})
	refusedStreams = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "eddy_event_streams_refused_total",
		Help: "Event streams refused with 429 because a cap was reached.",
	})
)

func init() { prometheus.MustRegister(feedQueries, openStreams, refusedStreams) }

// errTooManyStreams is returned by subscribe when a cap is reached.
var errTooManyStreams = errors.New("too many open event streams")

// feedBatch bounds the runs read by one poll; a busier interval is read on by the
// next poll from where this one stopped.
const feedBatch = 2000

// changeFeed serves every open event stream of the process from one database
// query per poll interval: it reads the runs changed since its last poll (a
// lookback covers writers whose clocks run behind this one's) and hands each to
// the streams following that run. Each stream keeps only the newest version of
// its run, so a slow client never holds the feed back. The poll runs only while
// some stream is open.
type changeFeed struct {
	feedSource
	subs map[string]map[*subscription]struct{} // run id → streams; under mu
}

// subscription is one stream's mailbox: the newest changed version of its run.
// last is the change time of the version the stream has (the feed's lookback
// reads a changed run on several polls; only a version with another change
// time is handed over).
type subscription struct {
	runID  string
	client string
	ch     chan *storage.Run
	last   time.Time
}

func newChangeFeed(read storage.Querier, poll time.Duration, maxTotal, maxClient int, log *slog.Logger) *changeFeed {
	return &changeFeed{feedSource: newFeedSource(read, poll, maxTotal, maxClient, log),
		subs: map[string]map[*subscription]struct{}{}}
}

// feedSource is what the event feeds share: the poll of the runs changed
// since the last one, one query per poll interval however many streams are
// open and only while one is, and the count of open streams against the
// caps (in all, per client).
type feedSource struct {
	read      storage.Querier
	poll      time.Duration
	lookback  time.Duration
	maxTotal  int
	maxClient int
	log       *slog.Logger

	mu       sync.Mutex // guards the fields below and the feed's subscriptions
	open     int
	byClient map[string]int
	polling  bool
}

func newFeedSource(read storage.Querier, poll time.Duration, maxTotal, maxClient int, log *slog.Logger) feedSource {
	return feedSource{read: read, poll: poll, lookback: max(2*poll, 5*time.Second), maxTotal: maxTotal, maxClient: maxClient,
		log: log, byClient: map[string]int{}}
}

// admit counts a new stream of client, or refuses it with errTooManyStreams
// when the process or the client has reached its cap; mu must be held. It
// reports whether the caller must start the poll.
func (f *feedSource) admit(client string) (startPoll bool, err error) {
	if f.open >= f.maxTotal || f.byClient[client] >= f.maxClient {
		refusedStreams.Inc()
		return false, errTooManyStreams
	}
	f.open++
	f.byClient[client]++
	openStreams.Inc()
	startPoll = !f.polling
	f.polling = true
	return startPoll, nil
}

// release uncounts a stream of client; mu must be held.
func (f *feedSource) release(client string) {
	f.open--
	if f.byClient[client]--; f.byClient[client] == 0 {
		delete(f.byClient, client)
	}
	openStreams.Dec()
}

// pollRuns reads the changed runs every poll interval until no stream is
// open, and hands each batch to deliver with the change time before which
// versions will not be read again.
func (f *feedSource) pollRuns(what string, deliver func(runs []*storage.Run, forget time.Time)) {
	since := time.Now().Add(-f.lookback)
	t := time.NewTicker(f.poll)
	defer t.Stop()
	for range t.C {
		f.mu.Lock()
		if f.open == 0 {
			f.polling = false
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), max(f.poll, 5*time.Second))
		started := time.Now()
		runs, err := storage.RunsChangedSince(ctx, f.read, since, feedBatch)
		cancel()
		feedQueries.Inc()
		if err != nil {
			f.log.Warn(what+": reading changed runs failed", "err", err)
			continue
		}
		if len(runs) == feedBatch {
			since = runs[len(runs)-1].UpdatedAt
		} else {
			since = started.Add(-f.lookback)
		}
		deliver(runs, since.Add(-f.lookback))
	}
}

// subscribe registers a stream of client following run, as the stream has read
// it, or refuses it with errTooManyStreams when the process or the client has
// reached its cap. A change made since that read is delivered: the feed's
// lookback reaches back past it.
func (f *changeFeed) subscribe(run *storage.Run, client string) (*subscription, error) {
	id := run.ID
	f.mu.Lock()
	defer f.mu.Unlock()
	startPoll, err := f.admit(client)
	if err != nil {
		return nil, err
	}
	s := &subscription{runID: id, client: client, ch: make(chan *storage.Run, 1), last: run.UpdatedAt}
	if f.subs[id] == nil {
		f.subs[id] = map[*subscription]struct{}{}
	}
	f.subs[id][s] = struct{}{}
	if startPoll {
		go f.pollRuns("event feed", func(runs []*storage.Run, _ time.Time) { f.deliver(runs) })
	}
	return s, nil
}

func (f *changeFeed) unsubscribe(s *subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.subs[s.runID], s)
	if len(f.subs[s.runID]) == 0 {
		delete(f.subs, s.runID)
	}
	f.release(s.client)
}

// deliver hands each run to its streams, replacing an undelivered older version.
func (f *changeFeed) deliver(runs []*storage.Run) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range runs {
		for s := range f.subs[r.ID] {
			if r.UpdatedAt.Equal(s.last) {
				continue
			}
			s.last = r.UpdatedAt
			select {
			case <-s.ch:
			default:
			}
			s.ch <- r
		}
	}
}

// clientKey names the client for the per-client stream cap: its bearer token
// (hashed) when it sent one, else its IP address.
func clientKey(r *http.Request) string {
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		sum := sha256.Sum256([]byte(tok))
		return "token:" + hex.EncodeToString(sum[:8])
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "ip:" + host
}
