// Command storm is an allocation storm: worker goroutines allocate
// short-lived byte slices of mixed sizes (mean about -obj-bytes) as fast as
// they can, or at -rate-mbps in total, over a small long-lived set of
// -live-mb. Unthrottled it allocates far more than 50 MB/s (1-3 GB/s measured
// on a 2 vCPU VM) and collects hundreds of times per second.
package main

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"gcpilot.dev/testprogs/internal/workload"
)

// node is one piece of the long-lived set: a pointer chain the GC must mark.
// 8 + 1008 bytes: it fits the 1024-byte size class.
type node struct {
	next *node
	data [1008]byte
}

type storm struct {
	sizes   []int
	rateBps float64 // per worker; 0 = unlimited

	objects atomic.Int64
	bytes   atomic.Int64
	sink    atomic.Uint64 // keeps the objects observable
}

// ring is how many of its latest objects a worker keeps alive: they die
// young, but not instantly.
const ring = 16

func (s *storm) worker(id int, stop <-chan struct{}) {
	var keep [ring][]byte
	var objects, bytes, total, sink int64
	flush := func() {
		s.objects.Add(objects)
		s.bytes.Add(bytes)
		objects, bytes = 0, 0
	}
	defer func() { s.sink.Add(uint64(sink)) }()
	start := time.Now()
	x := uint32(id)*2654435761 + 1
	for i := 0; ; i++ {
		if i&255 == 0 {
			flush()
			select {
			case <-stop:
				return
			default:
			}
			if s.rateBps > 0 {
				ahead := float64(total) - time.Since(start).Seconds()*s.rateBps
				if ahead > 0 {
					time.Sleep(time.Duration(ahead / s.rateBps * float64(time.Second)))
				}
			}
		}
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		n := s.sizes[x%uint32(len(s.sizes))]
		b := make([]byte, n)
		b[0], b[n-1] = byte(i), byte(x)
		if old := keep[i%ring]; old != nil {
			sink += int64(old[len(old)-1])
		}
		keep[i%ring] = b
		objects++
		bytes += int64(n)
		total += int64(n)
	}
}

func main() {
	common := workload.Flags("storm")
	workers := flag.Int("workers", 2, "allocating goroutines")
	objBytes := flag.Int("obj-bytes", 1024, "mean size of an allocated object (sizes mixed: 1/4, 1/2, 1, 3/2, 7/4 of it)")
	liveMB := flag.Int("live-mb", 4, "size of the long-lived set in MB")
	rateMBps := flag.Float64("rate-mbps", 0, "total allocation rate limit in MB/s, MB = 10^6 bytes (0 = unlimited)")
	flag.Parse()
	if *workers < 1 || *objBytes < 8 || *liveMB < 0 || *rateMBps < 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "storm: bad flags")
		flag.Usage()
		os.Exit(2)
	}

	s := &storm{rateBps: *rateMBps * 1e6 / float64(*workers)}
	for _, q := range []int{1, 2, 4, 6, 7} { // quarters of -obj-bytes; mean 1
		s.sizes = append(s.sizes, *objBytes*q/4)
	}

	// The long-lived set: a chain of ~1 KB nodes, alive until exit.
	var live *node
	for i := 0; i < *liveMB<<20/int(unsafe.Sizeof(node{})); i++ {
		live = &node{next: live}
		live.data[0] = byte(i)
	}

	common.Run(workload.Workload{
		Start: func(stop <-chan struct{}, wg *sync.WaitGroup) {
			for i := 0; i < *workers; i++ {
				wg.Add(1)
				go func(id int) {
					defer wg.Done()
					s.worker(id, stop)
				}(i + 1)
			}
		},
		Progress: func() string {
			return fmt.Sprintf("objects=%d mb=%d", s.objects.Load(), s.bytes.Load()>>20)
		},
		Extra: func() map[string]any {
			n := 0
			for p := live; p != nil; p = p.next {
				n++
			}
			return map[string]any{
				"objects":      s.objects.Load(),
				"object_bytes": s.bytes.Load(),
				"live_nodes":   n,
				"workers":      *workers,
				"rate_mbps":    *rateMBps,
			}
		},
	})
}
