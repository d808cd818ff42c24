// Command pausespike produces stop-the-world pause spikes the Go way: a
// goroutine that cannot be preempted. Every -spike-every it runs a tight
// loop without function calls for about -spike (calibrated at start); run
// with GODEBUG=asyncpreemptoff=1 so only cooperative preemption exists, any
// stop of the world that starts meanwhile waits for the loop to finish. In
// between it allocates -alloc-mbps (64 KiB slices, in 1 ms batches) so GCs run often and
// the process has a baseline of short pauses.
//
// Keys added to the ground truth: spikes (loops run), spin_ns (calibrated
// loop length).
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

var sink atomic.Uint64

// spin runs n iterations without a call (no preemption point).
//
//go:noinline
func spin(n int) uint64 {
	x := uint64(1)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + uint64(i)
	}
	return x
}

// calibrate returns the iterations that take about d.
func calibrate(d time.Duration) int {
	n := 1 << 20
	for {
		start := time.Now()
		sink.Add(spin(n))
		took := time.Since(start)
		if took >= 5*time.Millisecond {
			return int(float64(n) * float64(d) / float64(took))
		}
		n *= 2
	}
}

func main() {
	common := workload.Flags("pausespike")
	spikeEvery := flag.Duration("spike-every", 2*time.Second, "start a non-preemptible loop this often")
	spike := flag.Duration("spike", 30*time.Millisecond, "length of each loop")
	allocMBps := flag.Float64("alloc-mbps", 64, "allocation in MiB/s so GCs run often")
	flag.Parse()
	if *spikeEvery <= 0 || *spike <= 0 || *allocMBps <= 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "pausespike: bad flags")
		flag.Usage()
		os.Exit(2)
	}
	iters := calibrate(*spike)
	var spikes atomic.Int64

	common.Run(workload.Workload{
		Start: func(stop <-chan struct{}, wg *sync.WaitGroup) {
			wg.Add(2)
			go func() {
				defer wg.Done()
				t := time.NewTicker(*spikeEvery)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
					}
					sink.Add(spin(iters))
					spikes.Add(1)
				}
			}()
			go func() {
				defer wg.Done()
				const chunk = 64 << 10
				perMs := int(*allocMBps * (1 << 20) / 1000 / chunk)
				if perMs < 1 {
					perMs = 1
				}
				t := time.NewTicker(time.Millisecond)
				defer t.Stop()
				var keep [4][]byte
				var last []byte
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					case <-t.C:
					}
					for j := 0; j < perMs; j++ {
						b := make([]byte, chunk)
						b[j%chunk] = byte(i)
						keep[j%4] = b
						last = b
					}
					sink.Add(uint64(last[0]))
				}
			}()
		},
		Progress: func() string { return fmt.Sprintf("spikes=%d", spikes.Load()) },
		Extra: func() map[string]any {
			return map[string]any{"spikes": spikes.Load(), "spin_iterations": iters}
		},
	})
}
