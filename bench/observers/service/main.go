// Command service is the Go HTTP service of the observer-overhead benchmark
// (bench/observer_bench.sh): a small JSON API over an in-memory catalogue, so
// that under wrk load it allocates steadily and the GC runs several times a
// second over a live heap of a few tens of MB, like a real service.
//
// Standard library only, no module: build with
//
//	GO111MODULE=off go build -o service main.go
//
// Endpoints:
//
//	/item?id=N     the load endpoint (wrk hits it): JSON of one catalogue item
//	               and a few related ones.
//	/debug/vars    expvar (imported for its side effect); its "memstats"
//	               variable calls runtime.ReadMemStats, which stops the world.
//	               Only the expvar observer scrapes it.
//	/bench/stats   the benchmark's own counters, read by the driver at the edges
//	               of every measurement window. Nothing here stops the world:
//	               runtime/metrics.Read, debug.ReadGCStats (takes the heap lock,
//	               copies the runtime's exact pause totals) and getrusage.
package main

import (
	"encoding/json"
	_ "expvar" // registers /debug/vars on http.DefaultServeMux
	"flag"
	"fmt"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

type item struct {
	ID      int      `json:"id"`
	Name    string   `json:"name"`
	Tags    []string `json:"tags"`
	Price   float64  `json:"price"`
	Related []*item  `json:"-"`
}

type response struct {
	Item    *item    `json:"item"`
	Related []*item  `json:"related"`
	Score   float64  `json:"score"`
	Served  int64    `json:"served"`
	Trace   []string `json:"trace"`
}

var (
	catalogue []*item
	requests  atomic.Int64
	start     = time.Now()
)

func buildCatalogue(n int) {
	catalogue = make([]*item, n)
	for i := range catalogue {
		catalogue[i] = &item{
			ID:    i,
			Name:  fmt.Sprintf("item-%07d", i),
			Tags:  []string{"t" + strconv.Itoa(i%97), "g" + strconv.Itoa(i%13)},
			Price: float64(i%1000) / 10,
		}
	}
	for i, it := range catalogue {
		for k := 1; k <= 4; k++ {
			it.Related = append(it.Related, catalogue[(i*7+k*131)%n])
		}
	}
}

func handleItem(w http.ResponseWriter, r *http.Request) {
	n := requests.Add(1)
	id, err := strconv.Atoi(r.URL.Query().Get("id"))
	if err != nil || id < 0 {
		id = int(n)
	}
	it := catalogue[id%len(catalogue)]
	resp := response{Item: it, Related: it.Related, Served: n}
	for _, rel := range it.Related {
		resp.Score += math.Sqrt(rel.Price + 1)
		resp.Trace = append(resp.Trace, rel.Name+"/"+strconv.Itoa(rel.ID))
	}
	body, err := json.Marshal(&resp)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// stats is what /bench/stats returns. Counts are exact; pause totals are the
// runtime's own (memstats.pause_total_ns, the sum of MemStats.PauseNs).
type stats struct {
	GoVersion       string  `json:"go_version"`
	Pid             int     `json:"pid"`
	UptimeNs        int64   `json:"uptime_ns"`
	Requests        int64   `json:"requests"`
	CPUUserNs       int64   `json:"cpu_user_ns"`
	CPUSysNs        int64   `json:"cpu_sys_ns"`
	GCCycles        uint64  `json:"gc_cycles"`           // /gc/cycles/total:gc-cycles
	NumGC           int64   `json:"num_gc"`              // debug.ReadGCStats
	PauseTotalNs    int64   `json:"pause_total_ns"`      // debug.ReadGCStats (exact)
	GCPauseCount    uint64  `json:"gc_pause_count"`      // /gc/pauses:seconds count (2 per GC)
	GCPauseHistSumS float64 `json:"gc_pause_hist_sum_s"` // from bucket midpoints (approximate)
	OtherStops      int64   `json:"other_stops"`         // /sched/pauses/total/other:seconds count; -1 before Go 1.22
	OtherStopsSumS  float64 `json:"other_stops_sum_s"`
	GOMAXPROCS      int     `json:"gomaxprocs"`
	// RecentPausesNs: MemStats.PauseNs of the last (up to 256) cycles, most
	// recent first, so the driver gets each cycle of a window exactly.
	RecentPausesNs []int64 `json:"recent_pauses_ns"`
}

func histCountSum(h *metrics.Float64Histogram) (uint64, float64) {
	var n uint64
	var sum float64
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		if math.IsInf(lo, -1) {
			lo = hi
		}
		if math.IsInf(hi, 1) {
			hi = lo
		}
		n += c
		sum += float64(c) * (lo + hi) / 2
	}
	return n, sum
}

func handleStats(w http.ResponseWriter, r *http.Request) {
	samples := []metrics.Sample{
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/pauses:seconds"},
		{Name: "/sched/pauses/total/other:seconds"},
	}
	metrics.Read(samples)
	var gs debug.GCStats
	debug.ReadGCStats(&gs)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	s := stats{
		GoVersion:    runtime.Version(),
		Pid:          os.Getpid(),
		UptimeNs:     int64(time.Since(start)),
		Requests:     requests.Load(),
		CPUUserNs:    ru.Utime.Nano(),
		CPUSysNs:     ru.Stime.Nano(),
		NumGC:        gs.NumGC,
		PauseTotalNs: int64(gs.PauseTotal),
		OtherStops:   -1,
		GOMAXPROCS:   runtime.GOMAXPROCS(0),
	}
	for _, p := range gs.Pause {
		s.RecentPausesNs = append(s.RecentPausesNs, int64(p))
	}
	if samples[0].Value.Kind() == metrics.KindUint64 {
		s.GCCycles = samples[0].Value.Uint64()
	}
	if samples[1].Value.Kind() == metrics.KindFloat64Histogram {
		s.GCPauseCount, s.GCPauseHistSumS = histCountSum(samples[1].Value.Float64Histogram())
	}
	if samples[2].Value.Kind() == metrics.KindFloat64Histogram {
		n, sum := histCountSum(samples[2].Value.Float64Histogram())
		s.OtherStops, s.OtherStopsSumS = int64(n), sum
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(&s)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	items := flag.Int("items", 200000, "catalogue size (live heap)")
	portFile := flag.String("port-file", "", "write the bound port here once listening")
	flag.Parse()

	buildCatalogue(*items)
	http.HandleFunc("/item", handleItem)
	http.HandleFunc("/bench/stats", handleStats)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if *portFile != "" {
		tmp := *portFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
		if err := os.Rename(tmp, *portFile); err != nil {
			log.Fatal(err)
		}
	}
	log.Fatal(http.Serve(ln, nil))
}
