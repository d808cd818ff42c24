module gcpilot.dev/agent

go 1.19
