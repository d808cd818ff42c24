package gcpilot

// The breaker's HTTP middleware: while the agent's breaker for this
// process is OPEN, requests get the degraded handler and are marked
// X-Traffic-Color: JITTER_RED (request and response); HALF_OPEN passes them
// through marked JITTER_YELLOW; CLOSED passes them through unmarked.

import (
	"net/http"
	"strconv"
)

// HeaderTrafficColor is the header the middleware sets.
const HeaderTrafficColor = "X-Traffic-Color"

// Values of HeaderTrafficColor.
const (
	ColorRed    = "JITTER_RED"
	ColorYellow = "JITTER_YELLOW"
)

// Middleware wraps next. degraded answers while the breaker is OPEN; nil
// means DegradedHandler(Options.RetryAfter): 503 with Retry-After.
func (a *Actuator) Middleware(next http.Handler, degraded http.Handler) http.Handler {
	if degraded == nil {
		retry := 1.0
		if a != nil {
			retry = a.opts.RetryAfter.Seconds()
		}
		degraded = DegradedHandler(retry)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch a.State() {
		case Open:
			r.Header.Set(HeaderTrafficColor, ColorRed)
			w.Header().Set(HeaderTrafficColor, ColorRed)
			degraded.ServeHTTP(w, r)
		case HalfOpen:
			r.Header.Set(HeaderTrafficColor, ColorYellow)
			w.Header().Set(HeaderTrafficColor, ColorYellow)
			next.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// DegradedHandler answers 503 Service Unavailable with Retry-After (whole
// seconds, at least 1) and a short text body.
func DegradedHandler(retryAfterSeconds float64) http.Handler {
	secs := int(retryAfterSeconds + 0.999)
	if secs < 1 {
		secs = 1
	}
	retry := strconv.Itoa(secs)
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", retry)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("degraded: GC jitter circuit breaker open (gcpilot)\n"))
	})
}
