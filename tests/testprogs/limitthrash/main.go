// Command limitthrash drives the GC into the memory-limit death spiral: it
// sets a memory limit (debug.SetMemoryLimit(-limit-mb), as GOMEMLIMIT would)
// and grows a retained heap by -grow-mbps up to -max-live-mb, past the limit,
// while allocating -churn-mbps of short-lived garbage. Once the live heap
// nears the limit the GC runs back to back (up to its 50% CPU cap).
//
// Keys added to the ground truth: memory_limit_bytes, retained_bytes.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"gcpilot.dev/testprogs/internal/workload"
)

type thrasher struct {
	growBps  float64
	maxLive  int64
	churnBps float64

	mu       sync.Mutex
	retained [][]byte
	bytes    atomic.Int64
	sink     atomic.Uint64
}

// grow appends 64 KiB chunks to the retained set at growBps until maxLive.
func (t *thrasher) grow(stop <-chan struct{}) {
	const chunk = 64 << 10
	tick := time.NewTicker(time.Duration(float64(time.Second) * chunk / t.growBps))
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if t.bytes.Load() >= t.maxLive {
			continue
		}
		b := make([]byte, chunk)
		b[0] = 1
		t.mu.Lock()
		t.retained = append(t.retained, b)
		t.mu.Unlock()
		t.bytes.Add(chunk)
	}
}

// churn allocates churnBps of garbage in 16 KiB slices, in 1 ms batches.
func (t *thrasher) churn(stop <-chan struct{}) {
	const chunk = 16 << 10
	perMs := int(t.churnBps / 1000 / chunk)
	if perMs < 1 {
		perMs = 1
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		for j := 0; j < perMs; j++ {
			b := make([]byte, chunk)
			b[j%chunk] = byte(i)
			t.sink.Add(uint64(b[0]))
		}
	}
}

func main() {
	common := workload.Flags("limitthrash")
	limitMB := flag.Int64("limit-mb", 64, "memory limit in MiB (debug.SetMemoryLimit)")
	startMB := flag.Int64("start-live-mb", 16, "retained heap before the workload starts, in MiB")
	growMBps := flag.Float64("grow-mbps", 4, "retained heap growth in MiB/s")
	maxLiveMB := flag.Int64("max-live-mb", 96, "stop growing at this retained heap, in MiB")
	churnMBps := flag.Float64("churn-mbps", 40, "short-lived garbage in MiB/s")
	flag.Parse()
	if *limitMB < 1 || *startMB < 0 || *growMBps <= 0 || *maxLiveMB < *startMB || *churnMBps < 0 ||
		flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "limitthrash: bad flags")
		flag.Usage()
		os.Exit(2)
	}
	t := &thrasher{growBps: *growMBps * (1 << 20), maxLive: *maxLiveMB << 20, churnBps: *churnMBps * (1 << 20)}
	for t.bytes.Load() < *startMB<<20 {
		t.retained = append(t.retained, make([]byte, 64<<10))
		t.bytes.Add(64 << 10)
	}
	debug.SetMemoryLimit(*limitMB << 20)

	common.Run(workload.Workload{
		Start: func(stop <-chan struct{}, wg *sync.WaitGroup) {
			wg.Add(2)
			go func() {
				defer wg.Done()
				t.grow(stop)
			}()
			go func() {
				defer wg.Done()
				t.churn(stop)
			}()
		},
		Progress: func() string { return fmt.Sprintf("retained_mb=%d", t.bytes.Load()>>20) },
		Extra: func() map[string]any {
			return map[string]any{
				"memory_limit_bytes": *limitMB << 20,
				"retained_bytes":     t.bytes.Load(),
			}
		},
	})
}
