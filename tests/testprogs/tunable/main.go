// Command tunable is the tuner's example workload: a "service" with a
// pointer-rich live heap of about -live-mb (so a GC cycle has real marking
// work) that allocates short-lived garbage at a fixed rate of -alloc-mbps
// (paced, so the allocation rate does not depend on GC settings; the GC
// rate and GC CPU then follow GOGC / GOMEMLIMIT as the pacer says).
//
// After -warmup it measures, until -duration ends, what the tuner promises to
// change and writes it as one JSON object to -truth:
//
//	go_version, gogc_env, gomemlimit_env  the settings it ran with
//	measured_s                            length of the measured span
//	gc_cycles                             GCs in the span
//	gcs_per_sec                           gc_cycles / measured_s
//	gc_cpu_share                          GC CPU / (measured_s x GOMAXPROCS),
//	                                      idle marking excluded (as gcpilot
//	                                      counts it): /cpu/classes/gc/mark/assist
//	                                      + mark/dedicated + pause, Go 1.20+;
//	                                      MemStats.GCCPUFraction on 1.19
//	gc_cpu_share_with_idle                the same with idle marking
//	                                      (/cpu/classes/gc/total)
//	heap_peak_bytes                       highest /gc/heap/goal seen (sampled
//	                                      every 50 ms): the heap's peak
//	vm_hwm_bytes                          VmHWM (peak RSS) from /proc/self/status
//	alloc_bytes                           bytes allocated in the span
//
//	gogc_final, memory_limit_final        the settings at exit (changed by the
//	                                      actuator with -actuator)
//
// With -actuator it runs the gcpilot actuator (agent/go), which applies the
// agent's GOGC / memory limit (`gcpilot serve --apply`); the agent is found
// through GCPILOT_AGENT and GCPILOT_TOKEN_FILE. Reading runtime/metrics does
// not stop the world; ReadMemStats is called once, at exit (Go 1.19 only).
// Standard library and the actuator only (Go 1.19+).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gcpilot "gcpilot.dev/agent"
)

type node struct {
	next  *node
	other *node
	data  [112]byte
}

var sink atomic.Pointer[[]byte]

func readMetric(name string) (float64, bool) {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	switch s[0].Value.Kind() {
	case metrics.KindUint64:
		return float64(s[0].Value.Uint64()), true
	case metrics.KindFloat64:
		return s[0].Value.Float64(), true
	}
	return 0, false
}

// currentGOGC reads GOGC (setting it back at once).
func currentGOGC() int {
	old := debug.SetGCPercent(100)
	debug.SetGCPercent(old)
	return old
}

// gcCPU: GC CPU seconds without idle marking (Go 1.20+).
func gcCPU() (float64, bool) {
	var sum float64
	for _, m := range []string{"/cpu/classes/gc/mark/assist:cpu-seconds",
		"/cpu/classes/gc/mark/dedicated:cpu-seconds", "/cpu/classes/gc/pause:cpu-seconds"} {
		v, ok := readMetric(m)
		if !ok {
			return 0, false
		}
		sum += v
	}
	return sum, true
}

func vmHWM() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "VmHWM:") {
			fields := strings.Fields(line)
			kb, _ := strconv.ParseUint(fields[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func main() {
	liveMB := flag.Int("live-mb", 64, "live heap (pointer-rich nodes)")
	allocMBps := flag.Float64("alloc-mbps", 80, "short-lived garbage per second, paced")
	duration := flag.Duration("duration", 20*time.Second, "total run time")
	warmup := flag.Duration("warmup", 2*time.Second, "time before the measured span starts")
	truthPath := flag.String("truth", "", "write the measurements here at exit")
	actuator := flag.Bool("actuator", false, "run the gcpilot actuator (applies the agent's settings)")
	flag.Parse()
	if *actuator {
		gcpilot.Start(gcpilot.Options{
			PollInterval: 200 * time.Millisecond,
			OnError:      func(err error) { fmt.Fprintln(os.Stderr, "actuator:", err) },
		})
	}

	// The live set: linked nodes, each pointing at another one.
	n := *liveMB << 20 / 128
	live := make([]*node, n)
	for i := range live {
		live[i] = &node{}
		if i > 0 {
			live[i].next = live[i-1]
			live[i].other = live[i/2]
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	workers := 2
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			perWorker := *allocMBps * (1 << 20) / float64(workers)
			const tick = 5 * time.Millisecond
			perTick := int(perWorker * tick.Seconds())
			next := time.Now()
			i := w
			for {
				select {
				case <-stop:
					return
				default:
				}
				// perTick bytes of garbage in 8 KiB objects, plus a few
				// replaced live nodes (the live set changes slowly).
				for b := 0; b < perTick; b += 8192 {
					buf := make([]byte, 8192)
					buf[0] = byte(b)
					sink.Store(&buf)
				}
				for k := 0; k < 16; k++ {
					i = (i*1103515245 + 12345) & 0x7fffffff
					j := i % len(live)
					nd := &node{next: live[(j+1)%len(live)], other: live[j/2]}
					live[j] = nd
				}
				next = next.Add(tick)
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				} else {
					next = time.Now()
				}
			}
		}(w)
	}

	time.Sleep(*warmup)
	t0 := time.Now()
	gc0, _ := readMetric("/gc/cycles/total:gc-cycles")
	cpu0, hasCPU := gcCPU()
	all0, _ := readMetric("/cpu/classes/gc/total:cpu-seconds")
	alloc0, _ := readMetric("/gc/heap/allocs:bytes")
	var peak float64
	end := t0.Add(*duration - *warmup)
	for time.Now().Before(end) {
		if g, ok := readMetric("/gc/heap/goal:bytes"); ok && g > peak {
			peak = g
		}
		time.Sleep(50 * time.Millisecond)
	}
	gc1, _ := readMetric("/gc/cycles/total:gc-cycles")
	cpu1, _ := gcCPU()
	all1, _ := readMetric("/cpu/classes/gc/total:cpu-seconds")
	alloc1, _ := readMetric("/gc/heap/allocs:bytes")
	span := time.Since(t0).Seconds()
	close(stop)
	wg.Wait()

	share, shareIdle := 0.0, 0.0
	if hasCPU {
		share = (cpu1 - cpu0) / (span * float64(runtime.GOMAXPROCS(0)))
		shareIdle = (all1 - all0) / (span * float64(runtime.GOMAXPROCS(0)))
	} else {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		share = ms.GCCPUFraction
		shareIdle = share
	}
	out := map[string]any{
		"go_version":             runtime.Version(),
		"pid":                    os.Getpid(),
		"gogc_env":               os.Getenv("GOGC"),
		"gomemlimit_env":         os.Getenv("GOMEMLIMIT"),
		"measured_s":             span,
		"gc_cycles":              gc1 - gc0,
		"gcs_per_sec":            (gc1 - gc0) / span,
		"gc_cpu_share":           share,
		"gc_cpu_share_with_idle": shareIdle,
		"heap_peak_bytes":        peak,
		"vm_hwm_bytes":           vmHWM(),
		"alloc_bytes":            alloc1 - alloc0,
		"live_nodes":             len(live),
		"gogc_final":             currentGOGC(),
		"memory_limit_final":     debug.SetMemoryLimit(-1),
	}
	data, _ := json.Marshal(out)
	if *truthPath != "" {
		if err := os.WriteFile(*truthPath, data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "tunable:", err)
			os.Exit(1)
		}
	} else {
		fmt.Println(string(data))
	}
}
