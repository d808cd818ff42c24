// Command finalizers piles up finalizers: it creates -objects-per-sec
// objects with a finalizer (runtime.SetFinalizer) and drops them at once;
// each finalizer sleeps -finalizer-sleep (a slow release, as if it closed a
// network connection), and the runtime runs finalizers one at a time on a
// single goroutine. With the defaults (200/s queued, at most 100/s run) the
// queue grows by about 100 a second. -churn-mbps of garbage keeps GC cycles
// (which queue the finalizers of unreachable objects) coming.
//
// Keys added to the ground truth: created, finalized.
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

// last keeps the latest churn buffer reachable, so it is a heap allocation
// (a non-escaping 32 KiB make would live on the stack and cause no GC).
var last atomic.Value

type resource struct {
	id  int64
	buf [48]byte
}

func main() {
	common := workload.Flags("finalizers")
	perSec := flag.Int("objects-per-sec", 200, "objects with a finalizer created (and dropped) per second")
	sleep := flag.Duration("finalizer-sleep", 10*time.Millisecond, "how long each finalizer takes")
	churnMbps := flag.Float64("churn-mbps", 20, "short-lived garbage in MB/s (10^6 bytes) so GCs happen")
	flag.Parse()
	if *perSec < 1 || *sleep < 0 || *churnMbps < 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "finalizers: bad flags")
		flag.Usage()
		os.Exit(2)
	}
	var created, finalized atomic.Int64
	var sink atomic.Uint64
	finalize := func(r *resource) {
		time.Sleep(*sleep)
		sink.Add(uint64(r.buf[0]))
		finalized.Add(1)
	}

	common.Run(workload.Workload{
		Start: func(stop <-chan struct{}, wg *sync.WaitGroup) {
			wg.Add(2)
			go func() {
				defer wg.Done()
				t := time.NewTicker(10 * time.Millisecond)
				defer t.Stop()
				start := time.Now()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
					}
					want := int64(time.Since(start).Seconds() * float64(*perSec))
					for created.Load() < want {
						r := &resource{id: created.Add(1)}
						r.buf[0] = byte(r.id)
						runtime.SetFinalizer(r, finalize)
					}
				}
			}()
			go func() {
				defer wg.Done()
				const chunk = 32 << 10
				every := time.Duration(float64(time.Second) * chunk / (*churnMbps*1e6 + 1))
				if *churnMbps <= 0 {
					<-stop
					return
				}
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
					last.Store(b)
				}
			}()
		},
		Progress: func() string {
			return fmt.Sprintf("created=%d finalized=%d", created.Load(), finalized.Load())
		},
		Extra: func() map[string]any {
			return map[string]any{"created": created.Load(), "finalized": finalized.Load()}
		},
	})
}
