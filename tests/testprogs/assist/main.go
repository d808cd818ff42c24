// Command assist makes mutators pay for the GC: a large, pointer-rich live
// heap (-live-mb of small linked nodes the GC must scan) at a low GOGC
// (-gogc, via debug.SetGCPercent) while -workers goroutines allocate
// pointer-carrying objects as fast as they can. The pacer cannot finish
// marking with its background workers alone, so allocating goroutines do
// mark assists: a large share of the GC's CPU is assist time.
//
// Keys added to the ground truth: objects (allocated by the workers).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"gcpilot.dev/testprogs/internal/workload"
)

// node: 64 bytes with three pointers: scan-heavy.
type node struct {
	left, right, up *node
	val             [5]int64
}

type allocator struct {
	live    []*node // read only: new objects point into it, never at each other
	objects atomic.Int64
	sink    atomic.Uint64
}

func (a *allocator) worker(id int, stop <-chan struct{}) {
	var ring [64]*node
	var n int64
	for i := 0; ; i++ {
		if i&1023 == 0 {
			a.objects.Add(n)
			n = 0
			select {
			case <-stop:
				return
			default:
			}
		}
		x := &node{left: a.live[(i*7919+id)%len(a.live)], right: a.live[i%len(a.live)]}
		x.val[0] = int64(i + id)
		ring[i%64] = x
		n++
	}
}

func main() {
	common := workload.Flags("assist")
	liveMB := flag.Int("live-mb", 256, "pointer-rich live heap in MiB")
	gogc := flag.Int("gogc", 25, "GOGC for the run (debug.SetGCPercent)")
	workers := flag.Int("workers", 2, "allocating goroutines")
	flag.Parse()
	if *liveMB < 1 || *workers < 1 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "assist: bad flags")
		flag.Usage()
		os.Exit(2)
	}
	// A linked structure of ~64-byte nodes: every word but val is a pointer.
	count := *liveMB << 20 / 64
	live := make([]*node, 0, count)
	var prev *node
	for i := 0; i < count; i++ {
		x := &node{up: prev}
		if i > 0 {
			x.left = live[i/2]
		}
		live = append(live, x)
		prev = x
	}
	debug.SetGCPercent(*gogc)
	a := &allocator{live: live}

	common.Run(workload.Workload{
		Start: func(stop <-chan struct{}, wg *sync.WaitGroup) {
			for i := 0; i < *workers; i++ {
				wg.Add(1)
				go func(id int) {
					defer wg.Done()
					a.worker(id, stop)
				}(i)
			}
		},
		Progress: func() string { return fmt.Sprintf("objects=%d", a.objects.Load()) },
		Extra: func() map[string]any {
			return map[string]any{"objects": a.objects.Load(), "live_nodes": len(live)}
		},
	})
}
