// Command idle allocates almost nothing and runs until -duration or a
// signal: a process in which no GC cycle should happen (the runtime's
// periodic forced GC comes only after 2 minutes without one).
package main

import (
	"flag"
	"fmt"
	"os"

	"gcpilot.dev/testprogs/internal/workload"
)

func main() {
	common := workload.Flags("idle")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "idle: unexpected arguments")
		flag.Usage()
		os.Exit(2)
	}
	common.Run(workload.Workload{})
}
