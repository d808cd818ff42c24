// Command steady is a steady "service": worker goroutines handle simulated
// requests at a fixed total rate. Each request builds and JSON-encodes a small
// response (about -req-bytes of short-lived garbage) and reads a long-lived
// cache of about -live-mb, a part of which is replaced over time.
//
// With the defaults it allocates roughly 8-10 MB/s and collects about once
// every couple of seconds.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"gcpilot.dev/testprogs/internal/workload"
)

type entry struct {
	key  string
	tags []string
	data []byte
}

type response struct {
	ID       int64    `json:"id"`
	User     string   `json:"user"`
	Path     string   `json:"path"`
	Tags     []string `json:"tags"`
	CacheKey string   `json:"cache_key"`
	CacheSum uint32   `json:"cache_sum"`
	Payload  []byte   `json:"payload"` // base64 in JSON
}

type service struct {
	reqBytes     int
	entryBytes   int
	replaceEvery int
	cache        []atomic.Pointer[entry]

	requests     atomic.Int64
	replacements atomic.Int64
	encodedBytes atomic.Int64
	sink         atomic.Uint32 // keeps results observable
}

func newEntry(rng *rand.Rand, id, size int) *entry {
	e := &entry{
		key:  "cache/" + strconv.Itoa(id) + "/" + strconv.FormatInt(rng.Int63(), 36),
		tags: []string{"a" + strconv.Itoa(id%7), "b" + strconv.Itoa(id%13)},
		data: make([]byte, size),
	}
	rng.Read(e.data)
	return e
}

// handle serves one simulated request.
func (s *service) handle(rng *rand.Rand, id int64) {
	slot := rng.Intn(len(s.cache))
	e := s.cache[slot].Load()
	var sum uint32
	for i := 0; i < len(e.data); i += 64 { // touch the cached bytes
		sum = sum*31 + uint32(e.data[i])
	}

	// Short-lived garbage: payload P, its base64 copy (~4P/3, made by
	// encoding/json) and the marshalled output (~4P/3 + headers): ~3.3 P.
	payload := make([]byte, s.reqBytes*3/10)
	rng.Read(payload)
	resp := &response{
		ID:       id,
		User:     "user-" + strconv.Itoa(rng.Intn(10000)),
		Path:     "/api/v1/items/" + strconv.Itoa(slot),
		Tags:     append([]string(nil), e.tags...),
		CacheKey: e.key,
		CacheSum: sum,
		Payload:  payload,
	}
	out, err := json.Marshal(resp)
	if err != nil {
		panic(err)
	}
	s.encodedBytes.Add(int64(len(out)))
	s.sink.Add(uint32(out[len(out)/2]))

	if s.replaceEvery > 0 && id%int64(s.replaceEvery) == 0 {
		s.cache[rng.Intn(len(s.cache))].Store(newEntry(rng, slot, s.entryBytes))
		s.replacements.Add(1)
	}
	s.requests.Add(1)
}

// worker serves rate requests per second until stop is closed. It works in
// small batches: every few milliseconds it serves the requests due by now.
func (s *service) worker(seed int64, rate float64, stop <-chan struct{}) {
	rng := rand.New(rand.NewSource(seed))
	start := time.Now()
	var served int64
	for {
		select {
		case <-stop:
			return
		default:
		}
		due := int64(time.Since(start).Seconds() * rate)
		if lag := due - served; lag > int64(rate) { // more than 1 s behind: drop it
			served = due - int64(rate/10)
		}
		for ; served < due; served++ {
			s.handle(rng, seed<<32|served)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func main() {
	common := workload.Flags("steady")
	workers := flag.Int("workers", 4, "worker goroutines")
	rps := flag.Float64("rps", 2000, "total requests per second over all workers")
	reqBytes := flag.Int("req-bytes", 4096, "approximate short-lived bytes allocated per request")
	liveMB := flag.Int("live-mb", 20, "size of the long-lived cache in MB")
	entryBytes := flag.Int("entry-bytes", 4096, "bytes per cache entry")
	replaceEvery := flag.Int("replace-every", 8, "replace one cache entry every N requests (0 = never)")
	flag.Parse()
	if *workers < 1 || *rps <= 0 || *reqBytes < 64 || *entryBytes < 64 || *liveMB < 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "steady: bad flags")
		flag.Usage()
		os.Exit(2)
	}

	s := &service{reqBytes: *reqBytes, entryBytes: *entryBytes, replaceEvery: *replaceEvery}
	n := *liveMB << 20 / *entryBytes
	if n < 1 {
		n = 1
	}
	s.cache = make([]atomic.Pointer[entry], n)
	rng := rand.New(rand.NewSource(1))
	for i := range s.cache {
		s.cache[i].Store(newEntry(rng, i, *entryBytes))
	}

	common.Run(workload.Workload{
		Start: func(stop <-chan struct{}, wg *sync.WaitGroup) {
			for i := 0; i < *workers; i++ {
				wg.Add(1)
				go func(seed int64) {
					defer wg.Done()
					s.worker(seed, *rps/float64(*workers), stop)
				}(int64(i + 1))
			}
		},
		Progress: func() string {
			return fmt.Sprintf("requests=%d replacements=%d", s.requests.Load(), s.replacements.Load())
		},
		Extra: func() map[string]any {
			return map[string]any{
				"requests":           s.requests.Load(),
				"cache_replacements": s.replacements.Load(),
				"cache_entries":      len(s.cache),
				"encoded_bytes":      s.encodedBytes.Load(),
				"workers":            *workers,
				"rps_target":         *rps,
			}
		},
	})
}
