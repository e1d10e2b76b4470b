package rpc

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Core describes the running process for the core.* methods (jsonrpc.md
// §10): what kamcmd users call to see what runs and since when.
type Core struct {
	// Name and Version identify the program ("kamsidecar", "0.6.0").
	Name, Version string
	// Started is when the process started.
	Started time.Time
	// Args are the command-line arguments (os.Args).
	Args []string
	// Modules are the Kamailio modules whose behaviour this process
	// provides, in load order (core.modules lists them reversed, as
	// Kamailio does).
	Modules []string
	// Defines are the cfg preprocessor defines, name to value.
	Defines map[string]string
	// Sockets are the SIP sockets the process listens on.
	Sockets []Socket
	// Processes describe the process' parts for core.ps (all share one
	// pid: kamsidecar is one process).
	Processes []string
	// Kill is called by core.kill after the reply with the signal asked
	// for; nil refuses core.kill.
	Kill func(sig syscall.Signal)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Socket is one SIP socket as core.sockets_list prints it: Address as
// configured, IPAddress as bound.
type Socket struct {
	Proto, Address, IPAddress string
	Port                      int
}

// ctime formats t as C's ctime without its newline: "Mon Nov 23 12:00:00 2026".
func ctime(t time.Time) string { return t.Format("Mon Jan _2 15:04:05 2006") }

// RegisterCore adds the core.* methods a kamcmd user calls, answering from
// info. Each has Kamailio's name, flags and reply shape.
func RegisterCore(r *Registry, info Core) error {
	now := info.Now
	if now == nil {
		now = time.Now
	}
	if info.Name == "" {
		info.Name = "kamsidecar"
	}
	if info.Version == "" {
		info.Version = BuildVersion()
	}
	if info.Started.IsZero() {
		info.Started = now()
	}
	arch := runtime.GOARCH
	if arch == "amd64" {
		arch = "x86_64"
	}
	full := fmt.Sprintf("%s %s (%s/%s) ", info.Name, info.Version, arch, runtime.GOOS)
	compiler := runtime.Version()
	flags := "GO, " + runtime.Compiler
	pid := os.Getpid()
	procs := info.Processes
	if len(procs) == 0 {
		procs = []string{"main process"}
	}
	return r.Register(
		Method{Name: "core.version", Help: "Returns the version string of the server.", Handler: func(c *Call) {
			c.Add(String(full))
		}},
		Method{Name: "core.flags", Help: "Returns the compile flags.", Handler: func(c *Call) {
			c.Add(String(flags))
		}},
		Method{Name: "core.info", Help: "Verbose info, including version number, compile flags, compiler,repository hash a.s.o.", Handler: func(c *Call) {
			s := c.Struct()
			s.Add("version", String(info.Name+" "+info.Version))
			s.Add("id", String(vcsRevision()))
			s.Add("compiler", String(compiler))
			s.Add("compiled", String(vcsTime()))
			s.Add("flags", String(flags))
		}},
		Method{Name: "core.runinfo", Help: "Runtime info: name, version, compiler, uptime, ...", Handler: func(c *Call) {
			t := now()
			up := int(t.Sub(info.Started) / time.Second)
			s := c.Struct()
			s.Add("name", String(info.Name))
			s.Add("version", String(info.Version))
			s.Add("sourceid", String(vcsRevision()))
			s.Add("compiler", String(compiler))
			s.Add("compiled", String(vcsTime()))
			s.Add("time_now", String(ctime(t)))
			s.Add("time_started", String(ctime(info.Started)))
			s.Add("uptime_secs", Int(up))
			s.Add("utime_days", String(fmt.Sprintf("%dd %dh %dm %ds", up/86400, up%86400/3600, up%3600/60, up%60)))
		}},
		Method{Name: "core.uptime", Help: "Returns uptime.", Handler: func(c *Call) {
			t := now()
			s := c.Struct()
			s.Add("now", String(ctime(t)))
			s.Add("up_since", String(ctime(info.Started)))
			s.Add("uptime", Int(int(t.Sub(info.Started)/time.Second)))
		}},
		Method{Name: "core.ps", Flags: RetArray, Help: "Returns the description of running processes.", Handler: func(c *Call) {
			for _, d := range procs {
				c.Add(Int(pid), String(d))
			}
		}},
		Method{Name: "core.psx", Flags: RetArray, Help: "Returns the detailed description of running processes.", Handler: func(c *Call) {
			for i, d := range procs {
				s := c.Struct()
				s.Add("IDX", Int(i))
				s.Add("PID", Int(pid))
				s.Add("DSC", String(d))
			}
		}},
		Method{Name: "core.psa", Flags: RetArray, Help: "Returns the attributes of running processes.", Handler: func(c *Call) {
			for i, d := range procs {
				s := c.Struct()
				s.Add("index", Int(i))
				s.Add("pid", Int(pid))
				s.Add("status", Int(0))
				s.Add("rank", Int(0))
				s.Add("description", String(d))
			}
		}},
		Method{Name: "core.pwd", Flags: RetArray, Help: "Returns the working directory of the server.", Handler: func(c *Call) {
			wd, err := os.Getwd()
			if err != nil {
				c.Fault(500, "getcwd failed")
				return
			}
			c.Add(String(wd))
		}},
		Method{Name: "core.arg", Flags: RetArray, Help: "Returns the list of command line arguments used on startup.", Handler: func(c *Call) {
			for _, a := range info.Args {
				c.Add(String(a))
			}
		}},
		Method{Name: "core.echo", Flags: RetArray, Help: "Returns back its parameters.", Handler: func(c *Call) {
			for i := 0; i < 1024; i++ {
				var s string
				if c.Scan("*.s", &s) < 1 {
					return
				}
				c.Add(String(s))
			}
		}},
		Method{Name: "core.prints", Flags: RetArray, Help: "Returns the strings given as parameters.", Handler: func(c *Call) {
			// Every parameter is optional: no parameter is an empty reply.
			var s string
			for i := 0; i < 1024 && c.Scan("*s", &s) == 1; i++ {
				c.Add(String(s))
			}
		}},
		Method{Name: "core.printi", Flags: RetArray, Help: "Returns the integers given as parameters.", Handler: func(c *Call) {
			var n int
			for i := 0; i < 1024 && c.Scan("*d", &n) == 1; i++ {
				c.Add(Int(n))
			}
		}},
		Method{Name: "core.shmmem", Help: "Returns shared memory info. It has an optional parameter that specifies the measuring unit: b - bytes (default), k or kb, m or mb, g or gb. Note: when using something different from bytes, the value is truncated.", Handler: func(c *Call) {
			var unit string
			shift := uint(0)
			if c.Scan("*s", &unit) > 0 {
				switch strings.ToLower(unit) {
				case "b":
				case "k", "kb":
					shift = 10
				case "m", "mb":
					shift = 20
				case "g", "gb":
					shift = 30
				default:
					c.Fault(500, "bad param, (use b|k|m|g)")
					return
				}
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			u := func(v uint64) Value { return Long(int64(v >> shift)) }
			s := c.Struct()
			s.Add("total", u(ms.HeapSys))
			s.Add("free", u(ms.HeapSys-ms.HeapInuse))
			s.Add("used", u(ms.HeapAlloc))
			s.Add("real_used", u(ms.HeapInuse))
			s.Add("max_used", u(ms.HeapSys-ms.HeapReleased))
			s.Add("fragments", u(uint64(ms.HeapObjects)))
		}},
		Method{Name: "core.modules", Flags: RetArray, Help: "List loaded modules", Handler: func(c *Call) {
			for i := len(info.Modules) - 1; i >= 0; i-- {
				c.Add(String(info.Modules[i]))
			}
		}},
		Method{Name: "core.ppdefines", Flags: RetArray, Help: "List preprocessor defines", Handler: func(c *Call) {
			for _, n := range sortedKeys(info.Defines) {
				c.Add(String(n))
			}
		}},
		Method{Name: "core.ppdefines_full", Flags: RetArray, Help: "List preprocessor defines with full details", Handler: func(c *Call) {
			for _, n := range sortedKeys(info.Defines) {
				s := c.Struct()
				s.Add("name", String(n))
				s.Add("type", Int(0))
				v := info.Defines[n]
				if v == "" {
					v = "none"
				}
				s.Add("value", String(v))
			}
		}},
		Method{Name: "core.sockets_list", Help: "Returns the list of local SIP server listen sockets.", Handler: func(c *Call) {
			a := c.Array()
			for _, so := range info.Sockets {
				s := a.Struct("socket")
				s.Add("proto", String(so.Proto))
				s.Add("address", String(so.Address))
				ip := so.IPAddress
				if ip == "" {
					ip = so.Address
				}
				s.Add("ipaddress", String(ip))
				s.Add("port", String(fmt.Sprint(so.Port)))
				s.Add("mcast", String("no"))
				s.Add("mhomed", String("no"))
				s.Add("virtual", String("no"))
			}
		}},
		Method{Name: "core.kill", Help: "Sends the given signal to the server (SIGTERM by default).", Handler: func(c *Call) {
			sig := int(syscall.SIGTERM)
			c.Scan("*d", &sig)
			if info.Kill == nil {
				c.Fault(500, "core.kill is disabled")
				return
			}
			// Kamailio answers first and then signals its process group.
			go func() {
				time.Sleep(100 * time.Millisecond)
				info.Kill(syscall.Signal(sig))
			}()
		}},
	)
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// BuildVersion is the module version of the running binary ("devel" for a
// build from a work tree).
func BuildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func buildSetting(key string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == key {
				return s.Value
			}
		}
	}
	return ""
}

func vcsRevision() string {
	if r := buildSetting("vcs.revision"); r != "" {
		return r
	}
	return "unknown"
}

func vcsTime() string {
	if r := buildSetting("vcs.time"); r != "" {
		return r
	}
	return "unknown"
}
