module github.com/nbtunnel/nbtunnel

go 1.26.8

require (
	golang.org/x/crypto v0.59.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)

// Test only: CLI behaviour scripts (testscript) and goroutine-leak checks.
require (
	github.com/rogpeppe/go-internal v1.16.0
	go.uber.org/goleak v1.3.0
)

require golang.org/x/tools v0.26.0 // indirect
