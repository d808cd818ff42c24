// Command periodicgc allocates lightly and calls runtime.GC() every
// -interval, so almost every GC cycle is a forced one. The number of
// completed runtime.GC() calls is recorded as "runtime_gc_calls" in the
// ground truth.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gcpilot.dev/testprogs/internal/workload"
)

func main() {
	common := workload.Flags("periodicgc")
	interval := flag.Duration("interval", 100*time.Millisecond, "call runtime.GC() this often")
	allocKBps := flag.Int("alloc-kbps", 1024, "light background allocation in KB/s (0 = none)")
	flag.Parse()
	if *interval <= 0 || *allocKBps < 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "periodicgc: bad flags")
		flag.Usage()
		os.Exit(2)
	}

	var gcCalls, allocBytes atomic.Int64
	var sink atomic.Uint64

	common.Run(workload.Workload{
		Start: func(stop <-chan struct{}, wg *sync.WaitGroup) {
			wg.Add(2)
			go func() { // forced collections
				defer wg.Done()
				t := time.NewTicker(*interval)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						runtime.GC()
						gcCalls.Add(1)
					}
				}
			}()
			go func() { // light allocation: 1 KB objects every 10 ms
				defer wg.Done()
				if *allocKBps == 0 {
					<-stop
					return
				}
				const step = 10 * time.Millisecond
				perStep := *allocKBps * int(step/time.Millisecond) / 1000 // KB per step
				if perStep < 1 {
					perStep = 1
				}
				var keep [64][]byte
				t := time.NewTicker(step)
				defer t.Stop()
				for i := 0; ; {
					select {
					case <-stop:
						return
					case <-t.C:
					}
					for j := 0; j < perStep; j++ {
						b := make([]byte, 1024)
						b[0] = byte(i)
						if old := keep[i%len(keep)]; old != nil {
							sink.Add(uint64(old[0]))
						}
						keep[i%len(keep)] = b
						i++
					}
					allocBytes.Add(int64(perStep) * 1024)
				}
			}()
		},
		Progress: func() string {
			return fmt.Sprintf("gc_calls=%d", gcCalls.Load())
		},
		Extra: func() map[string]any {
			return map[string]any{
				"runtime_gc_calls": gcCalls.Load(),
				"alloc_bytes_app":  allocBytes.Load(),
				"interval_ns":      interval.Nanoseconds(),
			}
		},
	})
}
