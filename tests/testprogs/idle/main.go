// Command idle allocates almost nothing and runs until -duration or a
// signal: a process in which no GC cycle should happen (the runtime's
// periodic forced GC comes only after 2 minutes without one).
//
// With -goroutines N it first runs and ends 4*N short-lived goroutines (so
// that dead goroutines sit in the runtime's free lists), then parks N more
// until the end, waits until runtime.NumGoroutine() is steady at its value
// before plus N, and prints "idle: goroutines=K" (K = NumGoroutine()) on
// stdout. From then on the count does not change until the program stops.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"gcpilot.dev/testprogs/internal/workload"
)

// parkGoroutines starts the short-lived and parked goroutines and reports
// the steady count (see the package comment).
func parkGoroutines(n int, stop <-chan struct{}, wg *sync.WaitGroup) {
	base := runtime.NumGoroutine()
	var transient sync.WaitGroup
	for i := 0; i < 4*n; i++ {
		transient.Add(1)
		go func() { transient.Done() }()
	}
	transient.Wait()
	var parked sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		parked.Add(1)
		go func() {
			defer wg.Done()
			parked.Done()
			<-stop
		}()
	}
	parked.Wait()
	// The short-lived goroutines may still be exiting: wait for them.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() != base+n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	fmt.Fprintf(os.Stdout, "idle: goroutines=%d\n", runtime.NumGoroutine())
}

func main() {
	common := workload.Flags("idle")
	goroutines := flag.Int("goroutines", 0, "park this many extra goroutines and print runtime.NumGoroutine() once steady")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "idle: unexpected arguments")
		flag.Usage()
		os.Exit(2)
	}
	w := workload.Workload{}
	if *goroutines > 0 {
		w.Start = func(stop <-chan struct{}, wg *sync.WaitGroup) { parkGoroutines(*goroutines, stop, wg) }
	}
	common.Run(w)
}
