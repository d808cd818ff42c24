// Command serveworkload is the Go workload of the serve benchmark
// (bench/serve_bench.sh): it collects garbage at a controlled rate, about
// -gc-rate cycles per second, and does nothing that stops the world outside
// GC (no ReadMemStats, no runtime.GC, no GOMAXPROCS changes).
//
// Every 1/-gc-rate seconds it allocates -chunk-byte slices (kept in a small
// ring, so they die young) until the runtime's completed-cycle count
// (runtime/metrics /gc/cycles/total:gc-cycles, read without a stop) moves,
// then sleeps until the next tick. Run it with a small GOGC (the benchmark
// uses GOGC=25: a 1 MB minimum heap) so a cycle costs little allocation.
// A tick missed because the machine is busy is skipped, not made up, so the
// rate is at most -gc-rate; the benchmark measures the real one.
// Standard library only; exits on SIGTERM/SIGINT or after -duration.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/metrics"
	"syscall"
	"time"
)

// sink keeps the allocations observable.
var sink byte

func main() {
	rate := flag.Float64("gc-rate", 10, "GC cycles per second to aim for")
	chunk := flag.Int("chunk", 32<<10, "bytes per allocation")
	maxPerCycle := flag.Int("max-mb-per-cycle", 64, "allocation cap per tick (MB), in case a cycle never completes")
	duration := flag.Duration("duration", 0, "stop after this long (0: until a signal)")
	flag.Parse()
	if *rate <= 0 || *chunk <= 0 {
		fmt.Fprintln(os.Stderr, "serveworkload: -gc-rate and -chunk must be positive")
		os.Exit(2)
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	var deadline <-chan time.Time
	if *duration > 0 {
		deadline = time.After(*duration)
	}

	sample := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	cycles := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	const ringSize = 8
	var ring [ringSize][]byte
	for j := range ring {
		ring[j] = make([]byte, 1)
	}
	ticker := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	defer ticker.Stop()
	limit := (*maxPerCycle << 20) / *chunk
	for i := 0; ; {
		select {
		case <-stop:
			return
		case <-deadline:
			return
		case <-ticker.C:
		}
		start := cycles()
		for n := 0; n < limit; n++ {
			b := make([]byte, *chunk)
			b[len(b)-1] = byte(i)
			ring[i%ringSize] = b
			sink += ring[(i+1)%ringSize][0:1][0]
			i++
			if n&7 == 7 && cycles() != start {
				break
			}
		}
	}
}
