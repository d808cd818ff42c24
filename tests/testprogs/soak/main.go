// Command soak is the "never hurt the target" workload: a deterministic
// computation that is hard on the runtime. Each round (seeded by -seed and the
// round number) runs:
//
//   - a deep recursion on a fresh goroutine with ~1 KiB frames (0.5-3 MiB of
//     stack, so the stack is grown and copied many times), allocating and
//     holding heap pointers in its frames and yielding (runtime.Gosched)
//     while deep, so GC scans, and shrinks, big moving stacks;
//   - a burst of short-lived goroutines, each recursing a little (stack
//     growth from the initial 8 KiB) and allocating;
//   - a goroutine that locks itself to its OS thread (runtime.LockOSThread),
//     recurses and yields there, then unlocks;
//   - plain allocation of a linked structure, enough that GC runs often.
//
// -workers goroutines take rounds from a shared counter. Each round's value
// depends only on (seed, round), and values are combined by addition, so the
// result does not depend on scheduling. At the end stdout gets exactly one
// line, "soak: seed=S rounds=N checksum=0x...", and the exit code is 0.
//
// With -rounds N it runs rounds 0..N-1. With -duration D (and -rounds 0) it
// hands out rounds until D has passed, finishes the ones in flight and
// reports how many ran: every round below that number ran exactly once, so
// "soak -seed S -rounds N" must print the same line. A test runs the timed
// version unwatched, then the fixed one watched, and compares the lines.
// -start-after sleeps before the first round (a watcher attaches meanwhile).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// rng is splitmix64: deterministic, cheap, good enough to vary the work.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) intn(lo, hi int) int { return lo + int(r.next()%uint64(hi-lo+1)) }

func mix(x uint64) uint64 {
	r := rng(x)
	return r.next()
}

// node is a heap object the recursion keeps a pointer to in its frame.
type node struct {
	next *node
	val  uint64
	pad  [48]byte
}

// deep recurses d levels with a ~1 KiB frame. Every yieldEvery levels it
// allocates a node held across the recursive call and yields.
func deep(d int, x uint64, yieldEvery int) uint64 {
	var frame [120]uint64
	for i := range frame {
		frame[i] = x + uint64(i)
	}
	var held *node
	if yieldEvery > 0 && d%yieldEvery == 0 {
		held = &node{val: x}
		held.pad[x%48] = byte(d)
		runtime.Gosched()
	}
	if d == 0 {
		return mix(x)
	}
	y := deep(d-1, x*6364136223846793005+1442695040888963407, yieldEvery)
	y ^= frame[x%120] + frame[(x>>7)%120]
	if held != nil {
		y += held.val + uint64(held.pad[x%48])
	}
	return y + uint64(d)
}

// buildList allocates n nodes in a list and folds their values.
func buildList(n int, x uint64) uint64 {
	var head *node
	for i := 0; i < n; i++ {
		head = &node{next: head, val: x + uint64(i)*0x9e37}
	}
	var sum uint64
	for p := head; p != nil; p = p.next {
		sum = sum*31 + p.val
	}
	return sum
}

// round computes the value of round i. Goroutine results are combined by
// addition, so their completion order does not matter.
func round(seed, i uint64) uint64 {
	r := rng(seed ^ mix(i+1))
	results := make(chan uint64, 256)
	var wg sync.WaitGroup

	// One deep recursion on a fresh goroutine: 500-3000 frames of ~1 KiB.
	depth := r.intn(500, 3000)
	x := r.next()
	wg.Add(1)
	go func() {
		defer wg.Done()
		results <- deep(depth, x, 97)
	}()

	// A burst of short-lived goroutines.
	burst := r.intn(32, 128)
	for g := 0; g < burst; g++ {
		d, y := r.intn(10, 80), r.next()
		n := r.intn(16, 256)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- deep(d, y, 0) + buildList(n, y)
		}()
	}

	// A goroutine that moves onto its own OS thread and back.
	ld, lx := r.intn(100, 400), r.next()
	wg.Add(1)
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		v := deep(ld, lx, 31)
		runtime.Gosched()
		runtime.UnlockOSThread()
		results <- v
	}()

	// Allocation in this goroutine while the others run.
	own := buildList(r.intn(2000, 8000), r.next())

	go func() {
		wg.Wait()
		close(results)
	}()
	sum := own
	for v := range results {
		sum += v
	}
	return sum
}

func main() {
	seed := flag.Uint64("seed", 1, "seed of the computation")
	rounds := flag.Uint64("rounds", 0, "run exactly this many rounds (0 = until -duration)")
	duration := flag.Duration("duration", 0, "with -rounds 0: hand out rounds until this has passed")
	workers := flag.Int("workers", 4, "goroutines that run rounds in parallel")
	startAfter := flag.Duration("start-after", 0, "sleep this long before the first round")
	flag.Parse()
	if flag.NArg() > 0 || (*rounds == 0) == (*duration == 0) || *workers < 1 {
		fmt.Fprintln(os.Stderr, "soak: give exactly one of -rounds N and -duration D, and -workers >= 1")
		flag.Usage()
		os.Exit(2)
	}
	time.Sleep(*startAfter)

	var next atomic.Uint64
	var sum atomic.Uint64
	var deadline time.Time
	if *duration > 0 {
		deadline = time.Now().Add(*duration)
	}
	var handedOut atomic.Uint64 // rounds taken (all of them complete)
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if !deadline.IsZero() && time.Now().After(deadline) {
					return
				}
				i := next.Add(1) - 1
				if *rounds > 0 && i >= *rounds {
					return
				}
				handedOut.Add(1)
				sum.Add(round(*seed, i))
			}
		}()
	}
	wg.Wait()
	// With a deadline some workers may have taken an index after others
	// stopped; every taken index ran, and they are 0..n-1.
	n := handedOut.Load()
	if n != next.Load() && *rounds == 0 {
		fmt.Fprintf(os.Stderr, "soak: internal error: %d rounds ran, %d handed out\n", n, next.Load())
		os.Exit(1)
	}
	fmt.Printf("soak: seed=%d rounds=%d checksum=%#016x\n", *seed, n, sum.Load())
}
