// Command shortlived is a process that lives for a moment, for lifecycle
// tests (many processes starting and ending under a watcher): it allocates
// -alloc-mb MiB spread over about -run (default 60 ms; several GC cycles at
// the default heap goal), prints "shortlived: gc=N" (its own
// /gc/cycles/total:gc-cycles) and exits 0. Nothing here stops the world
// outside GC.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/metrics"
	"time"
)

func main() {
	run := flag.Duration("run", 60*time.Millisecond, "about how long to live")
	allocMB := flag.Int("alloc-mb", 48, "MiB to allocate over -run")
	flag.Parse()
	if flag.NArg() > 0 || *allocMB < 0 {
		fmt.Fprintln(os.Stderr, "shortlived: bad arguments")
		flag.Usage()
		os.Exit(2)
	}

	const chunk = 32 << 10
	const steps = 8
	chunks := (*allocMB << 20) / chunk
	start := time.Now()
	var keep [16][]byte
	var sink byte
	for s := 0; s < steps; s++ {
		for i := 0; i < chunks/steps; i++ {
			b := make([]byte, chunk)
			b[i%chunk] = byte(i)
			if old := keep[i%len(keep)]; old != nil {
				sink += old[0]
			}
			keep[i%len(keep)] = b
		}
		// Spread the work over -run: sleep until this step's share is up.
		if d := time.Until(start.Add(*run * time.Duration(s+1) / steps)); d > 0 {
			time.Sleep(d)
		}
	}
	m := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(m)
	fmt.Printf("shortlived: gc=%d sink=%d\n", m[0].Value.Uint64(), sink)
}
