package gcpilot

// Tests against a fake agent (httptest): state handling, middleware
// headers, agent loss, apply and revert, token, unix sockets.

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAgent answers /api/v1/control with what its fields say and records
// the /applied reports.
type fakeAgent struct {
	mu       sync.Mutex
	token    string
	state    string
	gc       map[string]interface{}
	polls    int
	lastPoll *http.Request
	reports  []appliedReport
}

func (f *fakeAgent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"wrong token"}`))
		return
	}
	switch r.URL.Path {
	case "/api/v1/control":
		f.polls++
		f.lastPoll = r
		gc := f.gc
		if gc == nil {
			gc = map[string]interface{}{"apply": false, "gogc": nil, "memory_limit_bytes": nil,
				"policy": "", "reason": "", "revision": 0}
		}
		json.NewEncoder(w).Encode(map[string]interface{}{
			"pid":     1,
			"breaker": map[string]interface{}{"state": f.state, "since_ms": 1.0, "reason": "test"},
			"gc":      gc,
		})
	case "/api/v1/control/applied":
		var rep appliedReport
		if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.reports = append(f.reports, rep)
		w.Write([]byte(`{"recorded":true}`))
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (f *fakeAgent) set(state string, gc map[string]interface{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state, f.gc = state, gc
}

func (f *fakeAgent) snapshot() (int, []appliedReport, *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.polls, append([]appliedReport(nil), f.reports...), f.lastPoll
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testOptions(agent string) Options {
	return Options{Agent: agent, Token: "tok", PollInterval: 10 * time.Millisecond,
		StaleAfter: 200 * time.Millisecond, pid: 4242, pidNS: 4026531836}
}

func TestFollowsTheAgentsBreakerState(t *testing.T) {
	f := &fakeAgent{token: "tok", state: "closed"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	a := Start(testOptions(srv.URL))
	defer a.Stop()
	waitFor(t, "first poll", func() bool { n, _, _ := f.snapshot(); return n > 0 })
	_, _, req := f.snapshot()
	if got := req.URL.Query().Get("pid"); got != "4242" {
		t.Errorf("pid = %q", got)
	}
	if got := req.URL.Query().Get("pidns"); got != "4026531836" {
		t.Errorf("pidns = %q", got)
	}
	for _, want := range []State{Open, HalfOpen, Closed} {
		f.set(want.String(), nil)
		waitFor(t, want.String(), func() bool { return a.State() == want })
	}
	if s := a.Status(); s.Stale || s.LastContact.IsZero() || s.Reason != "test" {
		t.Errorf("status = %+v", s)
	}
}

func TestMiddlewareMarksAndDegrades(t *testing.T) {
	f := &fakeAgent{token: "tok", state: "closed"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	a := Start(testOptions(srv.URL))
	defer a.Stop()
	var seen string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Get(HeaderTrafficColor)
		w.Write([]byte("ok"))
	})
	h := a.Middleware(next, nil)
	serve := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		return rec
	}
	waitFor(t, "contact", func() bool { return !a.Status().Stale })
	rec := serve()
	if rec.Code != 200 || rec.Header().Get(HeaderTrafficColor) != "" || seen != "" {
		t.Errorf("closed: %d %q %q", rec.Code, rec.Header().Get(HeaderTrafficColor), seen)
	}
	f.set("half_open", nil)
	waitFor(t, "half open", func() bool { return a.State() == HalfOpen })
	rec = serve()
	if rec.Code != 200 || rec.Header().Get(HeaderTrafficColor) != ColorYellow || seen != ColorYellow {
		t.Errorf("half open: %d %q %q", rec.Code, rec.Header().Get(HeaderTrafficColor), seen)
	}
	f.set("open", nil)
	waitFor(t, "open", func() bool { return a.State() == Open })
	seen = ""
	rec = serve()
	if rec.Code != 503 || rec.Header().Get(HeaderTrafficColor) != ColorRed || seen != "" {
		t.Errorf("open: %d %q %q", rec.Code, rec.Header().Get(HeaderTrafficColor), seen)
	}
	if rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), "degraded") {
		t.Errorf("degraded answer: %v %q", rec.Header(), rec.Body.String())
	}
	// A custom degraded handler sees the request's color.
	var degradedSaw string
	custom := a.Middleware(next, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		degradedSaw = r.Header.Get(HeaderTrafficColor)
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	rec = httptest.NewRecorder()
	custom.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 429 || degradedSaw != ColorRed || rec.Header().Get(HeaderTrafficColor) != ColorRed {
		t.Errorf("custom: %d %q", rec.Code, degradedSaw)
	}
}

func TestNilActuatorPassesThrough(t *testing.T) {
	var a *Actuator
	h := a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(204)
	}), nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 204 || a.State() != Closed {
		t.Errorf("nil actuator: %d", rec.Code)
	}
	a.Stop()
}

func TestAgentLossDecaysToClosedAndServiceKeepsServing(t *testing.T) {
	f := &fakeAgent{token: "tok", state: "open"}
	srv := httptest.NewServer(f)
	var errs []error
	var mu sync.Mutex
	o := testOptions(srv.URL)
	o.OnError = func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }
	a := Start(o)
	defer a.Stop()
	waitFor(t, "open", func() bool { return a.State() == Open })
	srv.Close()
	start := time.Now()
	waitFor(t, "decay", func() bool { return a.State() == Closed })
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v to decay (StaleAfter 200ms)", d)
	}
	h := a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 || rec.Header().Get(HeaderTrafficColor) != "" {
		t.Errorf("after loss: %d %q", rec.Code, rec.Header().Get(HeaderTrafficColor))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) == 0 || !strings.Contains(errs[0].Error(), "unreachable") {
		t.Errorf("errors: %v", errs)
	}
	if len(errs) > 3 {
		t.Errorf("the same error is reported once, got %d", len(errs))
	}
}

func TestWrongTokenIsReportedAndStaysClosed(t *testing.T) {
	f := &fakeAgent{token: "right", state: "open"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	got := make(chan error, 10)
	o := testOptions(srv.URL)
	o.Token = "wrong"
	o.OnError = func(err error) { got <- err }
	a := Start(o)
	defer a.Stop()
	select {
	case err := <-got:
		if !strings.Contains(err.Error(), "401") {
			t.Errorf("error: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no error reported")
	}
	if a.State() != Closed {
		t.Errorf("state %v with a wrong token", a.State())
	}
}

func TestTokenFromEnvironment(t *testing.T) {
	f := &fakeAgent{token: "fromfile", state: "open"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "token")
	os.WriteFile(file, []byte("fromfile\n"), 0o600)
	t.Setenv("GCPILOT_TOKEN", "")
	t.Setenv("GCPILOT_TOKEN_FILE", file)
	t.Setenv("GCPILOT_AGENT", srv.URL)
	o := Options{PollInterval: 10 * time.Millisecond}
	a := Start(o)
	defer a.Stop()
	waitFor(t, "open via env", func() bool { return a.State() == Open })
}

func TestAppliesNewRevisionsAndReports(t *testing.T) {
	origGOGC := debug.SetGCPercent(100)
	origLimit := debug.SetMemoryLimit(-1)
	defer debug.SetGCPercent(origGOGC)
	defer debug.SetMemoryLimit(origLimit)
	f := &fakeAgent{token: "tok", state: "closed"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	f.set("closed", map[string]interface{}{"apply": true, "gogc": 50,
		"memory_limit_bytes": 1 << 30, "policy": "p", "reason": "r", "revision": 1})
	a := Start(testOptions(srv.URL))
	defer a.Stop()
	waitFor(t, "report 1", func() bool { _, r, _ := f.snapshot(); return len(r) == 1 })
	_, reps, _ := f.snapshot()
	r := reps[0]
	if r.GOGC != 50 || r.MemoryLimitBytes != 1<<30 || r.Revision != 1 || r.PreviousGOGC != 100 ||
		r.PreviousMemoryLimitBytes != origLimit || r.Pid != 4242 || r.PidNS != 4026531836 {
		t.Errorf("report %+v", r)
	}
	if g := debug.SetGCPercent(50); g != 50 {
		t.Errorf("GOGC is %d", g)
	}
	if l := debug.SetMemoryLimit(-1); l != 1<<30 {
		t.Errorf("memory limit is %d", l)
	}
	// The same revision is not applied twice.
	n, _, _ := f.snapshot()
	waitFor(t, "more polls", func() bool { m, _, _ := f.snapshot(); return m > n+3 })
	if _, reps, _ := f.snapshot(); len(reps) != 1 {
		t.Errorf("%d reports for one revision", len(reps))
	}
	// A new revision with GOGC only keeps the limit.
	f.set("closed", map[string]interface{}{"apply": true, "gogc": 80, "revision": 2})
	waitFor(t, "report 2", func() bool { _, r, _ := f.snapshot(); return len(r) == 2 })
	_, reps, _ = f.snapshot()
	if r := reps[1]; r.GOGC != 80 || r.PreviousGOGC != 50 || r.MemoryLimitBytes != 1<<30 {
		t.Errorf("report 2 %+v", r)
	}
	if g := a.Status().GC; !g.Applied || g.GOGC != 80 || g.Revision != 2 {
		t.Errorf("status %+v", g)
	}
	// "apply": false (dry run) changes nothing.
	f.set("closed", map[string]interface{}{"apply": false, "gogc": 10, "revision": 3})
	n, _, _ = f.snapshot()
	waitFor(t, "more polls", func() bool { m, _, _ := f.snapshot(); return m > n+3 })
	if g := debug.SetGCPercent(80); g != 80 {
		t.Errorf("dry run changed GOGC to %d", g)
	}
}

func TestRevertOnAgentLoss(t *testing.T) {
	origGOGC := debug.SetGCPercent(120)
	origLimit := debug.SetMemoryLimit(-1)
	defer debug.SetGCPercent(origGOGC)
	defer debug.SetMemoryLimit(origLimit)
	f := &fakeAgent{token: "tok", state: "closed"}
	f.set("closed", map[string]interface{}{"apply": true, "gogc": 40,
		"memory_limit_bytes": 512 << 20, "revision": 9})
	srv := httptest.NewServer(f)
	o := testOptions(srv.URL)
	o.RevertOnAgentLoss = true
	a := Start(o)
	defer a.Stop()
	waitFor(t, "applied", func() bool { return a.Status().GC.Applied })
	srv.Close()
	waitFor(t, "reverted", func() bool { return a.Status().GC.Reverted })
	if g := debug.SetGCPercent(120); g != 120 {
		t.Errorf("GOGC after revert %d, want 120", g)
	}
	if l := debug.SetMemoryLimit(-1); l != origLimit {
		t.Errorf("limit after revert %d, want %d", l, origLimit)
	}
}

func TestKeepsValuesOnAgentLossByDefault(t *testing.T) {
	origGOGC := debug.SetGCPercent(100)
	defer debug.SetGCPercent(origGOGC)
	f := &fakeAgent{token: "tok", state: "closed"}
	f.set("closed", map[string]interface{}{"apply": true, "gogc": 60, "revision": 1})
	srv := httptest.NewServer(f)
	a := Start(testOptions(srv.URL))
	defer a.Stop()
	waitFor(t, "applied", func() bool { return a.Status().GC.Applied })
	srv.Close()
	waitFor(t, "stale", func() bool { return a.Status().Stale })
	time.Sleep(50 * time.Millisecond)
	if g := debug.SetGCPercent(60); g != 60 {
		t.Errorf("GOGC %d after agent loss, want 60 kept", g)
	}
}

func TestUnixSocketAgent(t *testing.T) {
	dir, err := os.MkdirTemp("", "gcpilot")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip("no unix sockets:", err)
	}
	f := &fakeAgent{token: "tok", state: "half_open"}
	srv := &http.Server{Handler: f}
	go srv.Serve(l)
	defer srv.Close()
	a := Start(testOptions("unix:" + sock))
	defer a.Stop()
	waitFor(t, "half open over unix", func() bool { return a.State() == HalfOpen })
}

// unixAgent serves f on a unix socket in a temporary directory.
func unixAgent(t *testing.T, f http.Handler) (sock string, stop func()) {
	t.Helper()
	dir, err := os.MkdirTemp("", "gcpilot")
	if err != nil {
		t.Fatal(err)
	}
	sock = filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		os.RemoveAll(dir)
		t.Skip("no unix sockets:", err)
	}
	srv := &http.Server{Handler: f}
	go srv.Serve(l)
	return sock, func() { srv.Close(); os.RemoveAll(dir) }
}

// Over the socket: the token is sent, the breaker followed, a revision
// applied and reported back; "unix://" works as well as "unix:".
func TestUnixSocketTokenApplyAndReport(t *testing.T) {
	f := &fakeAgent{token: "tok", state: "open"}
	f.set("open", map[string]interface{}{"apply": true, "gogc": 77, "memory_limit_bytes": nil,
		"policy": "pause-deviation", "reason": "test", "revision": 3})
	sock, stop := unixAgent(t, f)
	defer stop()
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	a := Start(testOptions("unix://" + sock))
	defer a.Stop()
	waitFor(t, "open over unix", func() bool { return a.State() == Open })
	waitFor(t, "report over unix", func() bool { _, reps, _ := f.snapshot(); return len(reps) > 0 })
	_, reps, last := f.snapshot()
	if reps[0].GOGC != 77 || reps[0].Revision != 3 {
		t.Errorf("report %+v, want GOGC 77 revision 3", reps[0])
	}
	if got := last.URL.Query().Get("pid"); got != "4242" {
		t.Errorf("poll pid %q", got)
	}
	if s := a.Status(); s.Agent != "unix://"+sock {
		t.Errorf("Status().Agent = %q", s.Agent)
	}
}

// A wrong token over the socket: reported, and the state stays CLOSED.
func TestUnixSocketWrongToken(t *testing.T) {
	f := &fakeAgent{token: "right", state: "open"}
	sock, stop := unixAgent(t, f)
	defer stop()
	var mu sync.Mutex
	var got error
	o := testOptions("unix:" + sock)
	o.OnError = func(err error) { mu.Lock(); got = err; mu.Unlock() }
	a := Start(o)
	defer a.Stop()
	waitFor(t, "401 error", func() bool { mu.Lock(); defer mu.Unlock(); return got != nil })
	mu.Lock()
	msg := got.Error()
	mu.Unlock()
	if !strings.Contains(msg, "401") {
		t.Errorf("error %q, want the 401", msg)
	}
	if a.State() != Closed {
		t.Errorf("state %v with a wrong token, want CLOSED", a.State())
	}
}

// No agent behind the socket path (nothing there, or a stale socket file
// nobody accepts on): errors, CLOSED, and it follows the agent once one
// listens there.
func TestUnixSocketAgentAbsentThenBack(t *testing.T) {
	dir, err := os.MkdirTemp("", "gcpilot")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "agent.sock")
	var mu sync.Mutex
	errs := 0
	o := testOptions("unix:" + sock)
	o.OnError = func(error) { mu.Lock(); errs++; mu.Unlock() }
	a := Start(o)
	defer a.Stop()
	waitFor(t, "an error without an agent", func() bool { mu.Lock(); defer mu.Unlock(); return errs > 0 })
	if a.State() != Closed {
		t.Errorf("state %v without an agent", a.State())
	}
	f := &fakeAgent{token: "tok", state: "half_open"}
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip("no unix sockets:", err)
	}
	srv := &http.Server{Handler: f}
	go srv.Serve(l)
	defer srv.Close()
	waitFor(t, "half open once the agent is there", func() bool { return a.State() == HalfOpen })
}

// Without Agent and GCPILOT_AGENT, the default socket is used when it
// exists and may be connected to, else the default HTTP address.
func TestDefaultSocketPreferredWhenPresent(t *testing.T) {
	t.Setenv("GCPILOT_AGENT", "")
	f := &fakeAgent{token: "tok", state: "open"}
	sock, stop := unixAgent(t, f)
	defer stop()
	saved := defaultSocket
	defer func() { defaultSocket = saved }()
	defaultSocket = sock
	o := testOptions("")
	a := Start(o)
	defer a.Stop()
	if got := a.Status().Agent; got != "unix:"+sock {
		t.Errorf("agent %q, want the default socket", got)
	}
	waitFor(t, "open through the default socket", func() bool { return a.State() == Open })
	// Not writable for this process: the default HTTP address instead
	// (root may connect to anything, so only checked for other users).
	if os.Geteuid() != 0 {
		if err := os.Chmod(sock, 0o500); err != nil {
			t.Fatal(err)
		}
		c := Start(o)
		defer c.Stop()
		if got := c.Status().Agent; got != DefaultAgent {
			t.Errorf("agent %q with a socket it may not connect to, want %s", got, DefaultAgent)
		}
		os.Chmod(sock, 0o700)
	}
	defaultSocket = filepath.Join(filepath.Dir(sock), "absent.sock")
	b := Start(o)
	defer b.Stop()
	if got := b.Status().Agent; got != DefaultAgent {
		t.Errorf("agent %q without the socket, want %s", got, DefaultAgent)
	}
}

func TestMalformedAnswersNeverPanic(t *testing.T) {
	for _, body := range []string{"", "{", "[]", `{"breaker":7}`, `{"gc":{"apply":true,"gogc":"x"}}`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(body))
		}))
		var got error
		var mu sync.Mutex
		o := testOptions(srv.URL)
		o.OnError = func(err error) { mu.Lock(); got = err; mu.Unlock() }
		a := Start(o)
		waitFor(t, "error for "+body, func() bool { mu.Lock(); defer mu.Unlock(); return got != nil })
		a.Stop()
		srv.Close()
		if a.State() != Closed {
			t.Errorf("%q: state %v", body, a.State())
		}
	}
}

func TestParsePidNS(t *testing.T) {
	if parsePidNS("pid:[4026531836]") != 4026531836 || parsePidNS("net:[1]") != 0 ||
		parsePidNS("pid:[x]") != 0 {
		t.Error("parsePidNS")
	}
	if ownPidNS() == 0 {
		t.Log("no /proc/self/ns/pid here")
	}
}
