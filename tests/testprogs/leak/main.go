// Command leak leaks goroutines: every -every it starts a goroutine that
// allocates a -hold-bytes buffer and then blocks forever on a channel nobody
// writes to, so both the goroutine count and the live heap grow linearly
// (100 goroutines and ~1.6 MB a second with the defaults). Meanwhile it
// allocates -churn-mbps of short-lived garbage so GC cycles (which measure
// the live heap) keep happening.
//
// Keys added to the ground truth: leaked (goroutines started and never
// ended), leaked_bytes.
package main

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"gcpilot.dev/testprogs/internal/workload"
)

type leaker struct {
	every     time.Duration
	holdBytes int
	churnBps  float64

	never  chan struct{} // nobody ever closes or writes it
	leaked atomic.Int64
	sink   atomic.Uint64
}

func (l *leaker) leakLoop(stop <-chan struct{}) {
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		l.leaked.Add(1)
		go func(n int) {
			buf := make([]byte, n)
			buf[0] = 1
			<-l.never
			l.sink.Add(uint64(buf[len(buf)-1]))
		}(l.holdBytes)
	}
}

// churn allocates about churnBps bytes/s of garbage in 32 KiB slices.
func (l *leaker) churn(stop <-chan struct{}) {
	if l.churnBps <= 0 {
		return
	}
	const chunk = 32 << 10
	every := time.Duration(float64(time.Second) * chunk / l.churnBps)
	t := time.NewTicker(every)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		b := make([]byte, chunk)
		b[i%chunk] = byte(i)
		l.sink.Add(uint64(b[0]))
	}
}

func main() {
	common := workload.Flags("leak")
	l := &leaker{never: make(chan struct{})}
	flag.DurationVar(&l.every, "every", 10*time.Millisecond, "start one never-ending goroutine this often")
	flag.IntVar(&l.holdBytes, "hold-bytes", 16<<10, "bytes each leaked goroutine keeps alive")
	churn := flag.Float64("churn-mbps", 20, "short-lived garbage in MB/s (10^6 bytes) so GCs happen")
	flag.Parse()
	if l.every <= 0 || l.holdBytes < 1 || *churn < 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "leak: bad flags")
		flag.Usage()
		os.Exit(2)
	}
	l.churnBps = *churn * 1e6

	common.Run(workload.Workload{
		Start: func(stop <-chan struct{}, wg *sync.WaitGroup) {
			wg.Add(2)
			go func() {
				defer wg.Done()
				l.leakLoop(stop)
			}()
			go func() {
				defer wg.Done()
				l.churn(stop)
			}()
		},
		Progress: func() string { return fmt.Sprintf("leaked=%d", l.leaked.Load()) },
		Extra: func() map[string]any {
			return map[string]any{
				"leaked":       l.leaked.Load(),
				"leaked_bytes": l.leaked.Load() * int64(l.holdBytes),
			}
		},
	})
}
