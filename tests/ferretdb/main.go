// Command ferretdb runs an embedded FerretDB v1 (MongoDB wire protocol) for Kepler's tests.
//
// It uses the library package github.com/FerretDB/FerretDB/ferretdb rather than the
// upstream cmd/ferretdb, which only builds inside its own repository.
//
//	ferretdb -listen 127.0.0.1:0 -dir /tmp/some-dir
//
// Once listening it prints exactly one line to stdout:
//
//	FERRETDB_READY mongodb://127.0.0.1:PORT/
//
// (port 0 is allowed: the line carries the port actually bound). Logs go to stderr.
// With -listen-tls it also listens for TLS there, and the line names that listener
// (mongodb://127.0.0.1:PORT/?tls=true); -tls-ca-file makes it require a client
// certificate signed by that CA (mutual TLS), as FerretDB itself does.
// SIGTERM or SIGINT stops it cleanly (exit code 0). With -exit-on-stdin-close it
// also stops when its stdin is closed, so a test runner that dies (even by
// SIGKILL) does not leave a server behind if it handed the server a pipe.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on; port 0 picks a free port")
	dir := flag.String("dir", "", "directory for the SQLite handler's data (created if missing)")
	handler := flag.String("handler", "sqlite", "backend handler: sqlite or postgresql")
	pgURL := flag.String("postgresql-url", "postgres://postgres@127.0.0.1:5432/test", "PostgreSQL URL for -handler postgresql")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	listenTLS := flag.String("listen-tls", "", "TLS address to listen on as well (port 0 allowed); needs -tls-cert-file and -tls-key-file")
	tlsCert := flag.String("tls-cert-file", "", "server certificate (PEM) for -listen-tls")
	tlsKey := flag.String("tls-key-file", "", "server key (PEM) for -listen-tls")
	tlsCA := flag.String("tls-ca-file", "", "CA (PEM) whose client certificates -listen-tls requires; empty: no client certificate asked")
	stdinWatch := flag.Bool("exit-on-stdin-close", false, "also stop when stdin reaches EOF (the parent process died)")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	cfg := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen, TLS: *listenTLS, TLSCertFile: *tlsCert, TLSKeyFile: *tlsKey, TLSCAFile: *tlsCA},
		Logger:   logger,
		Handler:  *handler,
	}

	switch *handler {
	case "sqlite":
		if *dir == "" {
			return errors.New("-dir is required for the sqlite handler")
		}
		abs, err := filepath.Abs(*dir)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return err
		}
		// FerretDB wants a "file:" URI whose path ends with "/" and names an existing directory.
		cfg.SQLiteURL = (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs) + "/"}).String()
	case "postgresql":
		cfg.PostgreSQLURL = *pgURL
	default:
		return fmt.Errorf("unknown -handler %q", *handler)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	if *stdinWatch {
		ctx = exitOnStdinClose(ctx)
	}

	// New already binds the listener, so MongoDBURI (which reports the bound
	// address, i.e. the real port when 0 was asked) is safe to call before Run.
	f, err := ferretdb.New(cfg)
	if err != nil {
		return err
	}

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	fmt.Fprintf(os.Stdout, "FERRETDB_READY %s\n", f.MongoDBURI())

	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// exitOnStdinClose returns a context that is canceled when stdin reaches EOF or fails.
func exitOnStdinClose(parent context.Context) context.Context {
	ctx, cancel := context.WithCancel(parent)
	go func() {
		defer cancel()
		_, _ = io.Copy(io.Discard, os.Stdin)
	}()
	return ctx
}
