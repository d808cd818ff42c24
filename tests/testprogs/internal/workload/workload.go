// Package workload holds the flags and the lifecycle shared by the test
// programs: run until -duration or a signal, print progress, stop the
// workload, write the ground truth, exit with the requested code.
//
// Nothing here stops the world except truth.Write at exit.
//
// A start gate holds the workload back until a watcher has attached:
// -start-after (a sleep), then -start-file (wait until that file exists).
// -duration counts from the moment the gate opens.
//
// Keys Run adds to the ground truth (besides the program's own Extra):
//
//	program                  string  program name ("steady", "storm", ...)
//	elapsed_s                float   seconds from workload start to stop
//	start_heap_allocs_bytes  uint    /gc/heap/allocs:bytes when the workload
//	                                 started (after setup such as filling a cache)
//	start_gc_cycles_total    uint    /gc/cycles/total:gc-cycles at that moment
//	start_gc_cycles_forced   uint    /gc/cycles/forced:gc-cycles at that moment
//	signal                   string  "SIGINT" or "SIGTERM"; only when stopped
//	                                 by a signal
package workload

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/metrics"
	"sync"
	"syscall"
	"time"

	"gcpilot.dev/testprogs/internal/truth"
)

// Common are the flags every program has.
type Common struct {
	Name           string
	Duration       time.Duration
	Truth          string
	ExitCode       int
	SignalExitCode int
	StdoutEvery    time.Duration
	StartAfter     time.Duration
	StartFile      string
}

// Flags registers the common flags on flag.CommandLine. Call before flag.Parse.
func Flags(name string) *Common {
	c := &Common{Name: name}
	flag.DurationVar(&c.Duration, "duration", 0, "how long to run (0 = until SIGINT/SIGTERM)")
	flag.StringVar(&c.Truth, "truth", "", "write ground truth JSON to this path at exit")
	flag.IntVar(&c.ExitCode, "exit-code", 0, "exit code after a normal finish")
	flag.IntVar(&c.SignalExitCode, "signal-exit-code", 3, "exit code after SIGINT/SIGTERM")
	flag.DurationVar(&c.StdoutEvery, "stdout-every", time.Second, "print a progress line to stdout this often (0 = never)")
	flag.DurationVar(&c.StartAfter, "start-after", 0, "wait this long before starting the workload (a watcher attaches meanwhile)")
	flag.StringVar(&c.StartFile, "start-file", "", "after -start-after, wait until this file exists before starting the workload")
	return c
}

// Workload is what a program plugs into Run.
type Workload struct {
	// Start launches the workload's goroutines (each registered in wg); they
	// must return soon after stop is closed.
	Start func(stop <-chan struct{}, wg *sync.WaitGroup)
	// Progress returns the counters part of a progress line, e.g. "requests=12".
	Progress func() string
	// Extra returns workload counters merged into the ground truth.
	Extra func() map[string]any
}

var signalNames = map[os.Signal]string{
	syscall.SIGINT:  "SIGINT",
	syscall.SIGTERM: "SIGTERM",
}

// readStart reads /gc/heap/allocs:bytes, /gc/cycles/total:gc-cycles and
// /gc/cycles/forced:gc-cycles (no stop of the world) when the workload
// starts, so that tests can tell the workload's own rate from its setup (e.g.
// filling a cache). -1 if missing.
func readStart() (allocs, cycles, forced int64) {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/cycles/forced:gc-cycles"}}
	metrics.Read(s)
	for _, v := range s {
		if v.Value.Kind() != metrics.KindUint64 {
			return -1, -1, -1
		}
	}
	return int64(s[0].Value.Uint64()), int64(s[1].Value.Uint64()), int64(s[2].Value.Uint64())
}

// gate waits for -start-after, then for -start-file to exist. It returns the
// signal that arrived meanwhile, if one did.
func (c *Common) gate(sigs <-chan os.Signal) os.Signal {
	if c.StartAfter > 0 {
		t := time.NewTimer(c.StartAfter)
		defer t.Stop()
		select {
		case s := <-sigs:
			return s
		case <-t.C:
		}
	}
	if c.StartFile == "" {
		return nil
	}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if _, err := os.Stat(c.StartFile); err == nil {
			return nil
		}
		select {
		case s := <-sigs:
			return s
		case <-t.C:
		}
	}
}

func signalName(s os.Signal) string {
	if n := signalNames[s]; n != "" {
		return n
	}
	return s.String()
}

// Run runs w until the duration elapses or SIGINT/SIGTERM arrives, then stops
// it, writes the truth file (if -truth was given) and exits. It never returns.
func (c *Common) Run(w Workload) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)

	sigName := ""
	if s := c.gate(sigs); s != nil {
		sigName = signalName(s)
	}
	startAllocs, startCycles, startForced := readStart()
	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if w.Start != nil && sigName == "" {
		w.Start(stop, &wg)
	}

	var done <-chan time.Time
	if c.Duration > 0 {
		t := time.NewTimer(c.Duration)
		defer t.Stop()
		done = t.C
	}
	var tick <-chan time.Time
	if c.StdoutEvery > 0 {
		t := time.NewTicker(c.StdoutEvery)
		defer t.Stop()
		tick = t.C
	}

loop:
	for sigName == "" {
		select {
		case <-done:
			break loop
		case s := <-sigs:
			sigName = signalName(s)
			break loop
		case <-tick:
			line := fmt.Sprintf("%s: t=%s", c.Name, time.Since(start).Round(100*time.Millisecond))
			if w.Progress != nil {
				line += " " + w.Progress()
			}
			fmt.Fprintln(os.Stdout, line)
		}
	}

	close(stop)
	wg.Wait()
	elapsed := time.Since(start)

	if c.Truth != "" {
		extra := map[string]any{
			"program":   c.Name,
			"elapsed_s": elapsed.Seconds(),
		}
		if startAllocs >= 0 {
			extra["start_heap_allocs_bytes"] = startAllocs
			extra["start_gc_cycles_total"] = startCycles
			extra["start_gc_cycles_forced"] = startForced
		}
		if w.Extra != nil {
			for k, v := range w.Extra() {
				extra[k] = v
			}
		}
		if sigName != "" {
			extra["signal"] = sigName
		}
		if err := truth.Write(c.Truth, extra); err != nil {
			fmt.Fprintf(os.Stderr, "%s: writing truth: %v\n", c.Name, err)
			os.Exit(1)
		}
	}

	if sigName != "" {
		fmt.Fprintf(os.Stderr, "%s: stopped by %s\n", c.Name, sigName)
		os.Exit(c.SignalExitCode)
	}
	fmt.Fprintf(os.Stderr, "%s: done\n", c.Name)
	os.Exit(c.ExitCode)
}
