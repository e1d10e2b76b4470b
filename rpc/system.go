package rpc

// registerSystem adds the introspection methods every Kamailio has
// (jsonrpc.md §10).
func registerSystem(r *Registry) {
	r.methods = map[string]*Method{}
	for _, m := range []Method{
		{Name: "system.listMethods", Flags: RetArray, Help: "Lists all RPC methods supported by the server.", Handler: func(c *Call) {
			for _, n := range r.Names() {
				c.Add(String(n))
			}
		}},
		{Name: "system.methodHelp", Help: "Print the help string for given method.", Handler: func(c *Call) {
			var name string
			if c.Scan("s", &name) < 1 {
				c.Fault(400, "Method Name Expected")
				return
			}
			m := r.Lookup(name)
			if m == nil {
				c.Fault(400, "command not found")
				return
			}
			if m.Help == "" {
				c.Add(String("undocumented"))
				return
			}
			c.Add(String(m.Help))
		}},
		{Name: "system.methodSignature", Help: "Returns signature of given method.", Handler: func(c *Call) {
			c.Fault(500, "Not Implemented Yet")
		}},
	} {
		m := m
		r.methods[m.Name] = &m
		r.sorted = append(r.sorted, m.Name)
	}
}
