// Command stwreasons stops the world for reasons other than GC at a steady
// pace and counts every stop it makes, so a test can compare what gcpilot
// reports per stop reason with what the program did:
//
//   - runtime.ReadMemStats every -memstats-every (reason read_mem_stats);
//   - a GOMAXPROCS toggle every -gomaxprocs-every: GOMAXPROCS(n+1) then
//     GOMAXPROCS(n), two stops (reason gomaxprocs). Setting the value it
//     already has does not stop the world in any of Go 1.19-1.23, so the
//     program changes it and changes it back;
//   - runtime.GoroutineProfile every -profile-every with a buffer large enough
//     for every goroutine: one stop "goroutine profile" plus one
//     "goroutine profile cleanup" (the concurrent profiler of Go 1.19+); a
//     call that finds the buffer too small stops only once, and is counted so.
//
// It also allocates a little (-alloc-mbps) so GC cycles happen in between.
//
// Nothing is stopped before internal/workload's start gate opens
// (-start-after, -start-file), so a watcher can attach first and see every
// counted stop.
//
// Keys added to the ground truth (besides internal/workload's):
//
//	stops                       object  stops this program made, by gcpilot's
//	                                    reason name: read_mem_stats, gomaxprocs,
//	                                    goroutine_profile, goroutine_profile_cleanup
//	stops_total                 uint    sum of stops
//	sched_pauses_other_at_start uint    /sched/pauses/total/other count just
//	                                    before the first counted stop (1.22+)
//	sched_pauses_other_at_end   uint    the same just after the last counted stop,
//	                                    before truth.Write (1.22+)
//
// So from the gate to exit the process makes exactly stops_total + 1 non-GC
// stops (truth.Write's own ReadMemStats is the +1), and on 1.22+
// sched_pauses_other_at_end - sched_pauses_other_at_start == stops_total.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"gcpilot.dev/testprogs/internal/workload"
)

const schedPausesOther = "/sched/pauses/total/other:seconds"

// otherPauses returns the count of /sched/pauses/total/other:seconds (no stop
// of the world), or false on versions without it (before 1.22).
func otherPauses() (uint64, bool) {
	s := []metrics.Sample{{Name: schedPausesOther}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return 0, false
	}
	var n uint64
	for _, c := range s[0].Value.Float64Histogram().Counts {
		n += c
	}
	return n, true
}

type stopper struct {
	memstatsEvery time.Duration
	gomaxEvery    time.Duration
	profileEvery  time.Duration
	allocMBps     float64

	// Written by the stopper goroutine only; read after it has returned.
	readMemStats, gomaxprocs, profile, profileCleanup uint64
	otherStart, otherEnd                              uint64
	haveOther                                         bool

	progress atomic.Uint64 // total stops so far, for progress lines
	sink     atomic.Uint64
}

// ticker returns a ticker channel, or nil (never fires) for d <= 0.
func ticker(d time.Duration) (<-chan time.Time, func()) {
	if d <= 0 {
		return nil, func() {}
	}
	t := time.NewTicker(d)
	return t.C, t.Stop
}

func (s *stopper) run(stop <-chan struct{}) {
	s.otherStart, s.haveOther = otherPauses()

	memC, memStop := ticker(s.memstatsEvery)
	defer memStop()
	gmpC, gmpStop := ticker(s.gomaxEvery)
	defer gmpStop()
	profC, profStop := ticker(s.profileEvery)
	defer profStop()
	records := make([]runtime.StackRecord, 4096)
	var ms runtime.MemStats
	for {
		select {
		case <-stop:
			s.otherEnd, _ = otherPauses()
			return
		case <-memC:
			runtime.ReadMemStats(&ms)
			s.readMemStats++
			s.sink.Add(uint64(ms.NumGC))
		case <-gmpC:
			n := runtime.GOMAXPROCS(0) // n <= 0 only queries: no stop
			runtime.GOMAXPROCS(n + 1)
			runtime.GOMAXPROCS(n)
			s.gomaxprocs += 2
		case <-profC:
			_, ok := runtime.GoroutineProfile(records)
			s.profile++
			if ok {
				s.profileCleanup++
			}
		}
		s.progress.Store(s.total())
	}
}

func (s *stopper) total() uint64 {
	return s.readMemStats + s.gomaxprocs + s.profile + s.profileCleanup
}

// alloc allocates about -alloc-mbps in 64 KiB slices, keeping the last few
// alive, so GC cycles run between the stops.
func (s *stopper) alloc(stop <-chan struct{}) {
	if s.allocMBps <= 0 {
		return
	}
	const chunk = 64 << 10
	every := time.Duration(float64(time.Second) * chunk / (s.allocMBps * (1 << 20)))
	if every < 50*time.Microsecond {
		every = 50 * time.Microsecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var keep [8][]byte
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		b := make([]byte, chunk)
		b[i%chunk] = byte(i)
		if old := keep[i%len(keep)]; old != nil {
			s.sink.Add(uint64(old[0]))
		}
		keep[i%len(keep)] = b
	}
}

func main() {
	common := workload.Flags("stwreasons")
	s := &stopper{}
	flag.DurationVar(&s.memstatsEvery, "memstats-every", 20*time.Millisecond, "call runtime.ReadMemStats this often (0 = never)")
	flag.DurationVar(&s.gomaxEvery, "gomaxprocs-every", 250*time.Millisecond, "toggle GOMAXPROCS (2 stops) this often (0 = never)")
	flag.DurationVar(&s.profileEvery, "profile-every", 250*time.Millisecond, "take a goroutine profile (2 stops) this often (0 = never)")
	flag.Float64Var(&s.allocMBps, "alloc-mbps", 16, "allocate about this many MiB/s so GCs happen (0 = none)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "stwreasons: unexpected arguments")
		flag.Usage()
		os.Exit(2)
	}

	common.Run(workload.Workload{
		Start: func(stop <-chan struct{}, wg *sync.WaitGroup) {
			wg.Add(2)
			go func() {
				defer wg.Done()
				s.run(stop)
			}()
			go func() {
				defer wg.Done()
				s.alloc(stop)
			}()
		},
		Progress: func() string {
			return fmt.Sprintf("stops=%d", s.progress.Load())
		},
		Extra: func() map[string]any {
			// Run calls this after the goroutines have returned.
			extra := map[string]any{
				"stops": map[string]uint64{
					"read_mem_stats":            s.readMemStats,
					"gomaxprocs":                s.gomaxprocs,
					"goroutine_profile":         s.profile,
					"goroutine_profile_cleanup": s.profileCleanup,
				},
				"stops_total": s.total(),
			}
			if s.haveOther {
				extra["sched_pauses_other_at_start"] = s.otherStart
				extra["sched_pauses_other_at_end"] = s.otherEnd
			}
			return extra
		},
	})
}
