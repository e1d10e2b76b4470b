// Command kamsidecar runs beside a Kamailio SIP server and speaks its
// language: it reads the operator's kamailio.cfg, probes destinations with
// SIP OPTIONS and answers Kamailio's RPC. See shared/spec/cli.md for the
// command line this program keeps.
package main

import (
	"fmt"
	"io"
	"os"
)

// commands maps each subcommand to its entry point. Each returns the exit
// status.
var commands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"config":  runConfig,
	"migrate": runMigrate,
	"serve":   runServe,
	"rpc":     runRPC,
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "kamsidecar: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return cmd(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: kamsidecar COMMAND [flags]

commands:
  config -f FILE [-A NAME[=VALUE]]... [--substdef EXP]... [--subst EXP]... [--strict]
         read a kamailio.cfg as Kamailio 5.6 does and print it as JSON
  migrate --db-url URL
         create or upgrade Kamailio's dispatcher table (and its version row)
  serve -f FILE [-A NAME[=VALUE]]... [--http ADDR] [--ctl ADDR] [--fifo PATH] [--dgram ADDR]
        [--sip PROTO:HOST:PORT] [--listen-from-cfg] [--db-url URL] [--list FILE]
        [--metrics ADDR] [--webhook URL]... [--webhook-secret S] [--history N]
         probe the cfg's keepalive and dispatcher destinations and answer Kamailio's RPC
  rpc [-s unix:PATH | -s tcp:HOST:PORT | -s http://HOST:PORT/RPC] [--json] METHOD [PARAM]...
         call an RPC method of kamsidecar or Kamailio (BINRPC or JSON-RPC over HTTP)
`)
}
