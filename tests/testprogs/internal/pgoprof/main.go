// Command pgoprof writes a CPU profile of GC-heavy work (allocation,
// marking, sweeping, JSON encoding) to the file named by its argument.
// tests/testprogs/build.sh builds the -pgo variants of the test programs
// with it, so that the runtime's own code is optimised differently from a
// plain build, as in services built with profile-guided optimisation.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"time"
)

type node struct {
	Next  *node
	Name  string
	Blob  []byte
	Items []int
}

func churn(seconds float64, sink *int) {
	deadline := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	var keep []*node
	for i := 0; time.Now().Before(deadline); i++ {
		n := &node{Name: fmt.Sprint("n", i), Blob: make([]byte, 256+i%2048), Items: make([]int, 32)}
		if len(keep) > 0 {
			n.Next = keep[len(keep)-1]
		}
		keep = append(keep, n)
		if len(keep) > 4096 {
			keep = keep[:0]
		}
		b, _ := json.Marshal(n.Items)
		*sink += len(b)
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pgoprof OUT.pprof")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var wg sync.WaitGroup
	sinks := make([]int, 2)
	for w := range sinks {
		wg.Add(1)
		go func(w int) { defer wg.Done(); churn(2, &sinks[w]) }(w)
	}
	wg.Wait()
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
