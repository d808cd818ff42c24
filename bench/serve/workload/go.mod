module gcpilot.dev/bench/serveworkload

go 1.19
