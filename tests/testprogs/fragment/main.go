// Command fragment fragments its heap for real: with the GC held off
// (debug.SetGCPercent(-1)) it allocates -fragment-mb of -object-bytes
// objects back to back, so they fill fresh spans in order, keeps one in
// -keep-every of them alive for the whole run and drops the rest, then runs
// one GC and restores GOGC. Every span of that size class now holds a few
// live objects and stays in use (runtime.mheap_.pagesInUse) while the live
// heap is small. Afterwards it allocates -churn-mbps of short-lived garbage
// of a different size class (-churn-bytes), which cannot reuse those spans,
// so GC cycles keep measuring the small live heap.
//
// Keys added to the ground truth: pinned_objects, fragment_bytes.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"gcpilot.dev/testprogs/internal/workload"
)

func main() {
	common := workload.Flags("fragment")
	fragmentMB := flag.Int("fragment-mb", 96, "MB (2^20 bytes) of small objects allocated before the churn")
	objectBytes := flag.Int("object-bytes", 64, "size of each fragmenting object")
	keepEvery := flag.Int("keep-every", 64, "keep one object in this many alive (one or more per span)")
	churnMbps := flag.Float64("churn-mbps", 20, "short-lived garbage in MB/s (10^6 bytes), of another size class")
	churnBytes := flag.Int("churn-bytes", 2048, "size of each churn allocation (another size class)")
	flag.Parse()
	if *fragmentMB < 1 || *objectBytes < 8 || *keepEvery < 1 || *churnMbps < 0 ||
		*churnBytes < 1 || *churnBytes == *objectBytes || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "fragment: bad flags")
		flag.Usage()
		os.Exit(2)
	}

	var pinned [][]byte
	var sink atomic.Uint64
	common.Run(workload.Workload{
		Start: func(stop <-chan struct{}, wg *sync.WaitGroup) {
			// No GC while the spans fill: freed slots would otherwise be
			// reused by the next objects and the survivors packed densely.
			old := debug.SetGCPercent(-1)
			n := (*fragmentMB << 20) / *objectBytes
			pinned = make([][]byte, 0, n / *keepEvery + 1)
			for i := 0; i < n; i++ {
				b := make([]byte, *objectBytes)
				b[0] = byte(i)
				if i%*keepEvery == 0 {
					pinned = append(pinned, b)
				}
			}
			debug.SetGCPercent(old)
			runtime.GC()
			wg.Add(1)
			go func() {
				defer wg.Done()
				if *churnMbps <= 0 {
					<-stop
					return
				}
				every := time.Duration(float64(time.Second) * float64(*churnBytes) / (*churnMbps * 1e6))
				batch := 1
				for every < time.Millisecond {
					every *= 2
					batch *= 2
				}
				t := time.NewTicker(every)
				defer t.Stop()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					case <-t.C:
					}
					for j := 0; j < batch; j++ {
						b := make([]byte, *churnBytes)
						b[i%len(b)] = byte(j)
						sink.Add(uint64(b[0]))
					}
				}
			}()
		},
		Progress: func() string { return fmt.Sprintf("pinned=%d", len(pinned)) },
		Extra: func() map[string]any {
			return map[string]any{
				"pinned_objects": len(pinned),
				"fragment_bytes": *fragmentMB << 20,
			}
		},
	})
	runtime.KeepAlive(pinned)
}
