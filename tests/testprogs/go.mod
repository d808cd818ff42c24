module gcpilot.dev/testprogs

go 1.19

require gcpilot.dev/agent v0.0.0

replace gcpilot.dev/agent => ../../agent/go
