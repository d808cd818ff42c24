module gcpilot.dev/testprogs

go 1.19
