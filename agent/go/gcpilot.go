// Package gcpilot is the in-process actuator of gcpilot, the Go GC
// observer: a service imports it to follow the agent's GC-jitter circuit
// breaker and to apply the GOGC / memory limit the agent's tuner decides.
//
// Two lines:
//
//	a := gcpilot.Start(gcpilot.Options{})
//	handler = a.Middleware(handler, nil) // nil: 503 + Retry-After while OPEN
//
// Start finds the local agent (GCPILOT_AGENT: "unix:/run/gcpilot/agent.sock"
// or "http://host:port"; unset: the unix socket DefaultSocket when it exists,
// else DefaultAgent) with its token (GCPILOT_TOKEN or
// the file named by GCPILOT_TOKEN_FILE) and polls GET /api/v1/control once a
// second. When the agent says "apply" with a new revision it calls
// debug.SetGCPercent / debug.SetMemoryLimit and reports what it applied
// (POST /api/v1/control/applied).
//
// If the agent goes away the service keeps running: the breaker state
// decays to CLOSED after Options.StaleAfter (default 10 s) and the GC values
// last applied stay, unless Options.RevertOnAgentLoss restores the values
// the process had before the first change. Nothing in this package panics;
// errors go to Options.OnError. Standard library only; Go 1.19+.
package gcpilot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultAgent is where the agent listens unless GCPILOT_AGENT says otherwise
// (and DefaultSocket does not exist).
const DefaultAgent = "http://127.0.0.1:9464"

// DefaultSocket is the agent's unix socket when it is configured with
// unix_socket = "/run/gcpilot/agent.sock": preferred to DefaultAgent when,
// at Start, it exists and this process may connect to it (write permission).
const DefaultSocket = "/run/gcpilot/agent.sock"

// defaultSocket is DefaultSocket, replaced by tests.
var defaultSocket = DefaultSocket

// State of the agent's circuit breaker for this process.
type State int

const (
	// Closed: pauses are within the SLO; traffic passes unmarked.
	Closed State = iota
	// HalfOpen: recovering; traffic passes, marked JITTER_YELLOW.
	HalfOpen
	// Open: stop-the-world pauses break the SLO; the degraded handler
	// answers, marked JITTER_RED.
	Open
)

func (s State) String() string {
	switch s {
	case HalfOpen:
		return "half_open"
	case Open:
		return "open"
	}
	return "closed"
}

func parseState(s string) State {
	switch s {
	case "open":
		return Open
	case "half_open":
		return HalfOpen
	}
	return Closed
}

// Options configure Start. The zero value is fine.
type Options struct {
	// Agent: "unix:/path/to/socket" (or "unix:///path/to/socket") or
	// "http://host:port". Empty: the GCPILOT_AGENT environment variable,
	// else "unix:" + DefaultSocket when that socket exists and may be
	// connected to, else DefaultAgent.
	Agent string
	// Token for the agent's control API. Empty: GCPILOT_TOKEN, else the
	// content of the file GCPILOT_TOKEN_FILE names.
	Token string
	// How often to ask the agent (default 1 s).
	PollInterval time.Duration
	// Without an answer from the agent for this long, the breaker state
	// counts as CLOSED (default 10 s).
	StaleAfter time.Duration
	// Timeout of each request to the agent (default 2 s).
	RequestTimeout time.Duration
	// When the agent is lost (StaleAfter), restore the GOGC and memory
	// limit the process had before this package first changed them. The
	// agent's values are applied again when it comes back.
	RevertOnAgentLoss bool
	// Retry-After of the default degraded handler (default 1 s).
	RetryAfter time.Duration
	// Told about errors (agent unreachable, wrong token, ...); each
	// distinct error once until the next success. Nil: errors are dropped.
	OnError func(error)

	// For tests: the pid and pid-namespace inode reported (0: this
	// process's own).
	pid   int
	pidNS uint64
}

// GC is what the actuator applied last.
type GC struct {
	Applied     bool   // Something was applied (else the values are unset).
	GOGC        int    // As passed to debug.SetGCPercent.
	MemoryLimit int64  // As passed to debug.SetMemoryLimit (0: unchanged).
	Revision    uint64 // The agent's revision of these values.
	Policy      string
	Reason      string
	Reverted    bool // Restored to the original values (agent lost).
}

// Status is a snapshot of what the actuator knows.
type Status struct {
	State       State     // Effective state (CLOSED when the agent is stale).
	AgentState  State     // What the agent said last.
	Reason      string    // The agent's reason for AgentState.
	LastContact time.Time // Last successful poll; zero if never.
	Stale       bool      // No answer for StaleAfter.
	GC          GC
	Agent       string // The agent address in use ("unix:/path" or "http://host:port").
}

// Actuator polls the agent and holds the breaker state. Its methods are
// safe for concurrent use, also on a nil *Actuator (which passes
// everything through).
type Actuator struct {
	opts   Options
	client *http.Client
	base   string // "http://host:port" (or "http://gcpilot" over a unix socket)
	pid    int
	pidNS  uint64

	mu          sync.Mutex
	agentState  State
	reason      string
	lastContact time.Time
	gc          GC
	origGOGC    int
	origLimit   int64
	haveOrig    bool
	report      *appliedReport // Waiting to be sent.
	lastErr     string

	setGCPercent   func(int) int
	setMemoryLimit func(int64) int64
	now            func() time.Time

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

type controlResponse struct {
	Pid     int `json:"pid"`
	Breaker struct {
		State   string   `json:"state"`
		SinceMs *float64 `json:"since_ms"`
		Reason  string   `json:"reason"`
	} `json:"breaker"`
	GC struct {
		Apply            bool   `json:"apply"`
		GOGC             *int   `json:"gogc"`
		MemoryLimitBytes *int64 `json:"memory_limit_bytes"`
		Policy           string `json:"policy"`
		Reason           string `json:"reason"`
		Revision         uint64 `json:"revision"`
	} `json:"gc"`
}

type appliedReport struct {
	Pid                      int    `json:"pid"`
	PidNS                    uint64 `json:"pidns,omitempty"`
	GOGC                     int    `json:"gogc"`
	MemoryLimitBytes         int64  `json:"memory_limit_bytes"`
	Revision                 uint64 `json:"revision"`
	PreviousGOGC             int    `json:"previous_gogc"`
	PreviousMemoryLimitBytes int64  `json:"previous_memory_limit_bytes"`
	Reverted                 bool   `json:"reverted"`
}

// Start begins polling the agent in the background and returns at once
// (never nil, also when the agent is not there yet).
func Start(o Options) *Actuator {
	a := newActuator(o)
	go a.run()
	return a
}

func newActuator(o Options) *Actuator {
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = 10 * time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 2 * time.Second
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = time.Second
	}
	if o.Agent == "" {
		o.Agent = os.Getenv("GCPILOT_AGENT")
	}
	if o.Agent == "" {
		o.Agent = DefaultAgent
		if st, err := os.Stat(defaultSocket); err == nil && st.Mode()&os.ModeSocket != 0 &&
			canConnect(defaultSocket) {
			o.Agent = "unix:" + defaultSocket
		}
	}
	a := &Actuator{
		opts:           o,
		pid:            o.pid,
		pidNS:          o.pidNS,
		setGCPercent:   debug.SetGCPercent,
		setMemoryLimit: debug.SetMemoryLimit,
		now:            time.Now,
		stop:           make(chan struct{}),
		done:           make(chan struct{}),
	}
	if a.pid == 0 {
		a.pid = os.Getpid()
	}
	if a.pidNS == 0 {
		a.pidNS = ownPidNS()
	}
	transport := &http.Transport{MaxIdleConns: 2, IdleConnTimeout: 30 * time.Second}
	if strings.HasPrefix(o.Agent, "unix:") {
		path := strings.TrimPrefix(o.Agent, "unix:")
		if strings.HasPrefix(path, "//") {
			path = strings.TrimPrefix(path, "//")
		}
		transport.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}
		a.base = "http://gcpilot"
	} else {
		a.base = strings.TrimRight(o.Agent, "/")
	}
	a.client = &http.Client{Transport: transport, Timeout: o.RequestTimeout}
	return a
}

// ownPidNS is the inode of this process's pid namespace, 0 if unknown.
func ownPidNS() uint64 {
	link, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return 0
	}
	return parsePidNS(link)
}

// parsePidNS reads "pid:[4026531836]"; 0 if malformed.
func parsePidNS(link string) uint64 {
	if !strings.HasPrefix(link, "pid:[") || !strings.HasSuffix(link, "]") {
		return 0
	}
	n, err := strconv.ParseUint(link[5:len(link)-1], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func (a *Actuator) token() string {
	if a.opts.Token != "" {
		return a.opts.Token
	}
	if t := os.Getenv("GCPILOT_TOKEN"); t != "" {
		return t
	}
	if f := os.Getenv("GCPILOT_TOKEN_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err == nil {
			return strings.TrimSpace(string(b))
		}
		a.fail(fmt.Errorf("gcpilot: reading GCPILOT_TOKEN_FILE: %w", err))
	}
	return ""
}

// Stop ends polling (the applied GC values stay). Idempotent.
func (a *Actuator) Stop() {
	if a == nil {
		return
	}
	a.stopOnce.Do(func() { close(a.stop) })
	<-a.done
}

func (a *Actuator) run() {
	defer close(a.done)
	t := time.NewTicker(a.opts.PollInterval)
	defer t.Stop()
	for {
		a.pollOnce()
		select {
		case <-a.stop:
			return
		case <-t.C:
		}
	}
}

// pollOnce asks the agent once, applies what it says, and handles loss.
func (a *Actuator) pollOnce() {
	defer func() {
		if r := recover(); r != nil {
			a.fail(fmt.Errorf("gcpilot: internal error: %v", r))
		}
	}()
	resp, err := a.fetch()
	if err != nil {
		a.fail(err)
		a.checkLoss()
		return
	}
	a.mu.Lock()
	a.lastErr = ""
	a.agentState = parseState(resp.Breaker.State)
	a.reason = resp.Breaker.Reason
	a.lastContact = a.now()
	a.mu.Unlock()
	a.apply(resp)
	a.sendReport()
}

func (a *Actuator) fetch() (*controlResponse, error) {
	q := url.Values{}
	q.Set("pid", strconv.Itoa(a.pid))
	if a.pidNS != 0 {
		q.Set("pidns", strconv.FormatUint(a.pidNS, 10))
	}
	req, err := http.NewRequest(http.MethodGet, a.base+"/api/v1/control?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("gcpilot: agent address %q: %w", a.opts.Agent, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token())
	res, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("gcpilot: agent %s unreachable: %w", a.opts.Agent, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("gcpilot: reading the agent's answer: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("gcpilot: agent answered %d: %s", res.StatusCode,
			strings.TrimSpace(string(body)))
	}
	var cr controlResponse
	if err := json.Unmarshal(body, &cr); err != nil {
		return nil, fmt.Errorf("gcpilot: malformed answer from the agent: %w", err)
	}
	return &cr, nil
}

// apply sets GOGC / the memory limit when the agent says so with a new revision.
func (a *Actuator) apply(r *controlResponse) {
	if !r.GC.Apply || (r.GC.GOGC == nil && r.GC.MemoryLimitBytes == nil) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gc.Applied && !a.gc.Reverted && a.gc.Revision == r.GC.Revision {
		return
	}
	rep := &appliedReport{Pid: a.pid, PidNS: a.pidNS, Revision: r.GC.Revision}
	prevGOGC := -2
	if r.GC.GOGC != nil {
		prevGOGC = a.setGCPercent(*r.GC.GOGC)
		rep.GOGC = *r.GC.GOGC
	}
	prevLimit := int64(-1)
	if r.GC.MemoryLimitBytes != nil && *r.GC.MemoryLimitBytes > 0 {
		prevLimit = a.setMemoryLimit(*r.GC.MemoryLimitBytes)
		rep.MemoryLimitBytes = *r.GC.MemoryLimitBytes
	}
	// The current values for what was not changed.
	if prevGOGC == -2 {
		prevGOGC = a.setGCPercent(100)
		a.setGCPercent(prevGOGC)
		rep.GOGC = prevGOGC
	}
	if prevLimit == -1 {
		prevLimit = a.setMemoryLimit(-1)
		rep.MemoryLimitBytes = prevLimit
	}
	if !a.haveOrig {
		a.origGOGC, a.origLimit, a.haveOrig = prevGOGC, prevLimit, true
	}
	rep.PreviousGOGC, rep.PreviousMemoryLimitBytes = prevGOGC, prevLimit
	a.gc = GC{Applied: true, GOGC: rep.GOGC, MemoryLimit: rep.MemoryLimitBytes,
		Revision: r.GC.Revision, Policy: r.GC.Policy, Reason: r.GC.Reason}
	a.report = rep
}

// checkLoss reverts the GC values once the agent is stale, if asked to.
func (a *Actuator) checkLoss() {
	if !a.opts.RevertOnAgentLoss {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.staleLocked() || !a.haveOrig || !a.gc.Applied || a.gc.Reverted {
		return
	}
	prevGOGC := a.setGCPercent(a.origGOGC)
	prevLimit := a.setMemoryLimit(a.origLimit)
	a.gc.Reverted = true
	a.report = &appliedReport{Pid: a.pid, PidNS: a.pidNS, GOGC: a.origGOGC,
		MemoryLimitBytes: a.origLimit, Revision: 0, PreviousGOGC: prevGOGC,
		PreviousMemoryLimitBytes: prevLimit, Reverted: true}
}

func (a *Actuator) sendReport() {
	a.mu.Lock()
	rep := a.report
	a.mu.Unlock()
	if rep == nil {
		return
	}
	body, err := json.Marshal(rep)
	if err != nil {
		a.fail(fmt.Errorf("gcpilot: encoding the report: %w", err))
		return
	}
	req, err := http.NewRequest(http.MethodPost, a.base+"/api/v1/control/applied",
		strings.NewReader(string(body)))
	if err != nil {
		a.fail(fmt.Errorf("gcpilot: agent address %q: %w", a.opts.Agent, err))
		return
	}
	req.Header.Set("Authorization", "Bearer "+a.token())
	req.Header.Set("Content-Type", "application/json")
	res, err := a.client.Do(req)
	if err != nil {
		a.fail(fmt.Errorf("gcpilot: reporting to the agent: %w", err))
		return
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		a.fail(fmt.Errorf("gcpilot: agent refused the report: %d", res.StatusCode))
		return
	}
	a.mu.Lock()
	if a.report == rep {
		a.report = nil
	}
	a.mu.Unlock()
}

func (a *Actuator) fail(err error) {
	a.mu.Lock()
	same := err.Error() == a.lastErr
	a.lastErr = err.Error()
	cb := a.opts.OnError
	a.mu.Unlock()
	if same || cb == nil {
		return
	}
	defer func() { _ = recover() }() // A panicking callback must not stop polling.
	cb(err)
}

func (a *Actuator) staleLocked() bool {
	return a.lastContact.IsZero() || a.now().Sub(a.lastContact) > a.opts.StaleAfter
}

// State is the breaker state to act on now: the agent's last word, or
// CLOSED when the agent has not answered for StaleAfter.
func (a *Actuator) State() State {
	if a == nil {
		return Closed
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.staleLocked() {
		return Closed
	}
	return a.agentState
}

// Status is a snapshot of the breaker state, the agent contact and the GC
// values applied.
func (a *Actuator) Status() Status {
	if a == nil {
		return Status{Stale: true}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := Status{State: a.agentState, AgentState: a.agentState, Reason: a.reason,
		LastContact: a.lastContact, Stale: a.staleLocked(), GC: a.gc, Agent: a.opts.Agent}
	if s.Stale {
		s.State = Closed
	}
	return s
}
