// Package truth writes a test program's own view of its garbage collector as
// one JSON object, so tests can compare what gcpilot observed from outside
// with what the runtime itself counted.
//
// Write stops the world exactly once (runtime.ReadMemStats). Call it at exit,
// after the program's own allocating goroutines have stopped.
//
// JSON schema (one object; keys are snake_case; numbers are JSON numbers):
//
//	go_version                string   runtime.Version()
//	gomaxprocs                int      runtime.GOMAXPROCS(0)
//	pid                       int      os.Getpid()
//	gc_cycles_total           uint     /gc/cycles/total:gc-cycles
//	gc_cycles_forced          uint     /gc/cycles/forced:gc-cycles
//	gc_cycles_automatic       uint     /gc/cycles/automatic:gc-cycles
//	gc_heap_allocs_bytes      uint     /gc/heap/allocs:bytes
//	gc_pauses_hist            object   /gc/pauses:seconds:
//	    buckets               array    len(counts)+1 bucket boundaries in seconds;
//	                                   bucket i is [buckets[i], buckets[i+1]).
//	                                   An infinite boundary is the string "-Inf"
//	                                   or "+Inf" (JSON has no infinity); every
//	                                   other boundary is a number.
//	    counts                array    uint counts, one per bucket
//	gc_pauses_count           uint     sum of gc_pauses_hist.counts (2 per GC cycle)
//	sched_pauses_gc_count     uint     count of /sched/pauses/total/gc:seconds (Go 1.22+ only)
//	sched_pauses_other_count  uint     count of /sched/pauses/total/other:seconds (Go 1.22+ only)
//	num_gc                    uint     MemStats.NumGC
//	num_forced_gc             uint     MemStats.NumForcedGC
//	pause_total_ns            uint     MemStats.PauseTotalNs
//	pauses                    array    the last min(num_gc, 256) cycles, oldest first:
//	    gc                    uint     cycle number, 1-based (as in gctrace "gc N")
//	    pause_ns              uint     MemStats.PauseNs of that cycle (both STW stops)
//	    end_unix_ns           uint     MemStats.PauseEnd of that cycle (Unix ns)
//	consistent                bool     num_gc == gc_cycles_total, i.e. the metrics
//	                                   and the MemStats describe the same GC cycles
//	metrics_after_readmemstats bool    true if the runtime/metrics values were read
//	                                   after Write's own ReadMemStats stop (then
//	                                   sched_pauses_other_count includes that stop;
//	                                   otherwise it does not)
//
// A metric that the running Go version does not have is omitted, as is every
// field derived from it. Keys from extra are merged into the object; a key that
// collides with one of the fields above is ignored (the runtime's value wins).
package truth

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

const (
	mCyclesTotal     = "/gc/cycles/total:gc-cycles"
	mCyclesForced    = "/gc/cycles/forced:gc-cycles"
	mCyclesAutomatic = "/gc/cycles/automatic:gc-cycles"
	mHeapAllocsBytes = "/gc/heap/allocs:bytes"
	mGCPauses        = "/gc/pauses:seconds"
	mSchedPausesGC   = "/sched/pauses/total/gc:seconds"
	mSchedPausesOth  = "/sched/pauses/total/other:seconds"
)

// maxRereads bounds how often the metrics are read again after ReadMemStats
// while they still lag behind MemStats.NumGC.
const maxRereads = 5

// metricSet reads the wanted metrics that this Go version supports.
type metricSet struct {
	samples []metrics.Sample
	index   map[string]int
}

func newMetricSet(names ...string) *metricSet {
	supported := make(map[string]bool)
	for _, d := range metrics.All() {
		supported[d.Name] = true
	}
	m := &metricSet{index: make(map[string]int)}
	for _, n := range names {
		if supported[n] {
			m.index[n] = len(m.samples)
			m.samples = append(m.samples, metrics.Sample{Name: n})
		}
	}
	return m
}

func (m *metricSet) read() { metrics.Read(m.samples) }

func (m *metricSet) uint64(name string) (uint64, bool) {
	i, ok := m.index[name]
	if !ok || m.samples[i].Value.Kind() != metrics.KindUint64 {
		return 0, false
	}
	return m.samples[i].Value.Uint64(), true
}

func (m *metricSet) hist(name string) (*metrics.Float64Histogram, bool) {
	i, ok := m.index[name]
	if !ok || m.samples[i].Value.Kind() != metrics.KindFloat64Histogram {
		return nil, false
	}
	return m.samples[i].Value.Float64Histogram(), true
}

// Pause is one GC cycle's entry of the MemStats pause ring.
type Pause struct {
	GC        uint32 `json:"gc"`
	PauseNs   uint64 `json:"pause_ns"`
	EndUnixNs uint64 `json:"end_unix_ns"`
}

// Hist is a runtime/metrics Float64Histogram in JSON form (see package doc).
type Hist struct {
	Buckets []any    `json:"buckets"`
	Counts  []uint64 `json:"counts"`
}

func encodeHist(h *metrics.Float64Histogram) (Hist, uint64) {
	out := Hist{
		Buckets: make([]any, len(h.Buckets)),
		Counts:  append([]uint64(nil), h.Counts...),
	}
	for i, b := range h.Buckets {
		switch {
		case math.IsInf(b, 1):
			out.Buckets[i] = "+Inf"
		case math.IsInf(b, -1):
			out.Buckets[i] = "-Inf"
		default:
			out.Buckets[i] = b
		}
	}
	return out, histCount(h)
}

func histCount(h *metrics.Float64Histogram) uint64 {
	var sum uint64
	for _, c := range h.Counts {
		sum += c
	}
	return sum
}

// Collect builds the ground-truth object (see package doc). It calls
// runtime.ReadMemStats exactly once, so it stops the world once.
//
// It first switches the collector off (debug.SetGCPercent(-1), which waits
// for a cycle in progress to finish and does not stop the world), so no GC
// cycle can complete after the snapshot: what the program reports is then
// every cycle it will ever run, and an outside observer must see exactly
// that many.
func Collect(extra map[string]any) map[string]any {
	debug.SetGCPercent(-1)
	ms := newMetricSet(mCyclesTotal, mCyclesForced, mCyclesAutomatic,
		mHeapAllocsBytes, mGCPauses, mSchedPausesGC, mSchedPausesOth)

	ms.read()
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem) // the only stop of the world
	after := false
	consistent := false
	for i := 0; ; i++ {
		total, ok := ms.uint64(mCyclesTotal)
		if !ok {
			break // cannot check; leave consistent false
		}
		if total == uint64(mem.NumGC) {
			consistent = true
			break
		}
		// total < NumGC: a cycle ended between the metrics read and
		// ReadMemStats; the metrics catch up on a re-read. total > NumGC:
		// a cycle ended after ReadMemStats; re-reading cannot fix that.
		if total > uint64(mem.NumGC) || i >= maxRereads {
			break
		}
		if i > 0 {
			time.Sleep(time.Millisecond)
		}
		ms.read()
		after = true
	}

	obj := make(map[string]any, 32+len(extra))
	for k, v := range extra {
		obj[k] = v
	}
	obj["go_version"] = runtime.Version()
	obj["gomaxprocs"] = runtime.GOMAXPROCS(0) // n <= 0 only queries: no stop
	obj["pid"] = os.Getpid()
	for name, key := range map[string]string{
		mCyclesTotal:     "gc_cycles_total",
		mCyclesForced:    "gc_cycles_forced",
		mCyclesAutomatic: "gc_cycles_automatic",
		mHeapAllocsBytes: "gc_heap_allocs_bytes",
	} {
		if v, ok := ms.uint64(name); ok {
			obj[key] = v
		}
	}
	if h, ok := ms.hist(mGCPauses); ok {
		hist, n := encodeHist(h)
		obj["gc_pauses_hist"] = hist
		obj["gc_pauses_count"] = n
	}
	if h, ok := ms.hist(mSchedPausesGC); ok {
		obj["sched_pauses_gc_count"] = histCount(h)
	}
	if h, ok := ms.hist(mSchedPausesOth); ok {
		obj["sched_pauses_other_count"] = histCount(h)
	}

	obj["num_gc"] = mem.NumGC
	obj["num_forced_gc"] = mem.NumForcedGC
	obj["pause_total_ns"] = mem.PauseTotalNs
	obj["pauses"] = pauseRing(&mem)
	obj["consistent"] = consistent
	obj["metrics_after_readmemstats"] = after
	return obj
}

// pauseRing returns the last min(NumGC, 256) cycles, oldest first. Cycle N
// (1-based) is stored at index (N+255) % 256.
func pauseRing(mem *runtime.MemStats) []Pause {
	n := uint64(mem.NumGC)
	first := uint64(1)
	if n > 256 {
		first = n - 255
	}
	out := make([]Pause, 0, 256)
	for gc := first; gc <= n; gc++ {
		i := (gc + 255) % 256
		out = append(out, Pause{GC: uint32(gc), PauseNs: mem.PauseNs[i], EndUnixNs: mem.PauseEnd[i]})
	}
	return out
}

// Write collects the ground truth (see Collect) and writes it as indented JSON
// to path: first to a temporary file in the same directory, then renamed, so
// a reader sees either no file or the whole file.
func Write(path string, extra map[string]any) error {
	data, err := json.MarshalIndent(Collect(extra), "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
