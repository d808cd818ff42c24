// Command breakersvc is an HTTP service that uses the gcpilot actuator
// (agent/go): its handler is wrapped in the breaker middleware, so while
// the agent's breaker for this process is OPEN clients get the degraded
// answer (503, X-Traffic-Color: JITTER_RED).
//
// It can stop its own world for long: while the file -stw-file exists it
// calls runtime.Stack(buf, true) every -stw-every, which stops the world for
// as long as it takes to print every goroutine's stack; -goroutines parked
// goroutines make that several milliseconds (a non-GC stop, reason
// "all goroutines stack trace"). The wall time of the first such call is
// written to -first-stw-file, and each call's duration to stderr.
//
// It listens on -listen (127.0.0.1:0 picks a port, written to -port-file)
// and runs until SIGTERM or SIGINT. The agent is found as the actuator
// finds it (GCPILOT_AGENT, GCPILOT_TOKEN / GCPILOT_TOKEN_FILE); agent errors
// are printed to stderr.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	gcpilot "gcpilot.dev/agent"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	portFile := flag.String("port-file", "", "write the bound port here")
	goroutines := flag.Int("goroutines", 3000, "parked goroutines (they make runtime.Stack's stop long)")
	stwFile := flag.String("stw-file", "", "while this file exists, stop the world with runtime.Stack(all)")
	stwEvery := flag.Duration("stw-every", 100*time.Millisecond, "how often to stop the world in the STW phase")
	firstStwFile := flag.String("first-stw-file", "", "write the Unix ms of the first long stop here")
	poll := flag.Duration("poll", 100*time.Millisecond, "actuator poll interval")
	stale := flag.Duration("stale-after", 2*time.Second, "actuator staleness timeout")
	flag.Parse()

	block := make(chan struct{})
	for i := 0; i < *goroutines; i++ {
		go func() { <-block }()
	}

	a := gcpilot.Start(gcpilot.Options{
		PollInterval: *poll,
		StaleAfter:   *stale,
		OnError:      func(err error) { fmt.Fprintln(os.Stderr, "actuator:", err) },
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 4096) // A little garbage per request.
		buf[0] = 'o'
		fmt.Fprintf(w, "ok %d\n", len(buf))
	})
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *portFile != "" {
		port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		if err := os.WriteFile(*portFile+".tmp", []byte(port+"\n"), 0o644); err == nil {
			os.Rename(*portFile+".tmp", *portFile)
		}
	}
	srv := &http.Server{Handler: a.Middleware(mux, nil)}
	go srv.Serve(l)

	if *stwFile != "" {
		go stopper(*stwFile, *stwEvery, *firstStwFile)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	srv.Close()
	a.Stop()
	close(block)
}

// stopper stops the world with runtime.Stack(all) while `file` exists.
func stopper(file string, every time.Duration, firstFile string) {
	buf := make([]byte, 64<<20)
	first := true
	for {
		time.Sleep(every)
		if _, err := os.Stat(file); err != nil {
			continue
		}
		start := time.Now()
		if first && firstFile != "" {
			os.WriteFile(firstFile, []byte(strconv.FormatInt(start.UnixMilli(), 10)+"\n"), 0o644)
			first = false
		}
		n := runtime.Stack(buf, true)
		fmt.Fprintf(os.Stderr, "stw: runtime.Stack(all) %d bytes in %v\n", n, time.Since(start))
	}
}
