package kamcfg

import (
	"io"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The participle grammar of the top-level statements (shared/spec/
// kamailio-cfg.md §5). It runs on the preprocessed token stream, one
// statement at a time, so that a syntax error costs only its statement:
// Kamailio's own parser also reports an error and goes on. Route bodies
// arrive as single Block tokens.

type stmtNode struct {
	Pos    lexer.Position
	EndPos lexer.Position

	// Most frequent first: each alternative tried costs a branch.
	Route     *routeNode     `  @@`
	ModParam  *modParamNode  `| @@`
	LoadMod   *loadModNode   `| @@`
	Socket    *socketNode    `| @@`
	CfgVar    *cfgVarNode    `| @@`
	Assign    *assignNode    `| @@`
	LoadPath  *loadPathNode  `| @@`
	CfgEngine *cfgEngineNode `| @@`
	Flags     *flagsNode     `| @@`
	Semi      bool           `| @";":Punct`
}

// loadmodule "x" (5.6) or loadmodule("x", "flags") (5.7+).
type loadModNode struct {
	Kw   string   `@("loadmodule":Keyword | "loadmodulex":Keyword)`
	Name *string  `( @String`
	Args []string `| "(":Punct @String ( ",":Punct @String )* ")":Punct )`
}

type loadPathNode struct {
	Kw   string `@("loadpath":Keyword | "mpath":Keyword) "=":Punct?`
	Path string `@String`
}

type modParamNode struct {
	Kw     string     `@("modparam":Keyword | "modparamx":Keyword) "(":Punct`
	Module string     `@String ",":Punct`
	Param  string     `@String ",":Punct`
	Value  *valueNode `@@ ")":Punct`
}

// valueNode is a modparam value: a string, an int (intno) or, for
// modparamx, a pseudo-variable.
type valueNode struct {
	Pos lexer.Position
	Str *string `  @String`
	Neg bool    `| ( @"-":Punct?`
	Num *string `    @Number )`
	PV  *string `| @PVar`
}

type cfgEngineNode struct {
	Engine string `"cfgengine":Keyword "=":Punct? @String`
}

type flagsNode struct {
	Kw    string      `@("flags":Keyword | "bool":Keyword | "avpflags":Keyword)`
	Items []*flagItem `@@ ( ",":Punct @@ )*`
}

type flagItem struct {
	Name string  `@(Ident | String)`
	Num  *string `( ":":Punct @Number )?`
}

type routeNode struct {
	Kind string   `@("route":Keyword | "request_route":Keyword | "failure_route":Keyword | "onreply_route":Keyword | "reply_route":Keyword | "branch_route":Keyword | "onsend_route":Keyword | "event_route":Keyword | "branch_failure_route":Keyword)`
	Name []string `( "[":Punct @(~"]":Punct)* "]":Punct )?`
	Body bool     `@Block`
}

// socketNode is listen= or alias= with its socket list and modifiers.
type socketNode struct {
	Kw    string      `@("listen":Keyword | "alias":Keyword) "=":Punct`
	Socks []*sockNode `@@+`
	// The modifiers come in this order, each at most once.
	Advertise *hostPortNode `( ("advertise":Keyword | "ADVERTISE":Keyword) @@ )?`
	Name      *string       `( ("name":Keyword | "NAME":Keyword) @String )?`
	Virtual   bool          `@"virtual":Keyword?`
}

type sockNode struct {
	Pos   lexer.Position
	Proto *string     `( @("udp":Keyword | "tcp":Keyword | "tls":Keyword | "sctp":Keyword | "ws":Keyword | "wss":Keyword | "UDP":Keyword | "TCP":Keyword | "TLS":Keyword | "SCTP":Keyword | "WS":Keyword | "WSS":Keyword | "*":Punct) ":":Punct )?`
	Multi []*addrNode `( "(":Punct @@ ( ",":Punct @@ )* ")":Punct`
	Addr  *addrNode   `| @@ )`
	Port  *string     `( ":":Punct @(Number | "*":Punct) )?`
}

type addrNode struct {
	Pos   lexer.Position
	V6    *string  `  "[":Punct @IPv6 "]":Punct | @IPv6`
	Str   *string  `| @String`
	Parts []string `| @(Ident | Number | NumID) ( @(".":Punct | "-":Punct) @(Ident | Number | NumID) )*`
}

type hostPortNode struct {
	Host *addrNode `@@`
	Port *string   `( ":":Punct @Number )?`
}

// cfgVarNode declares a custom cfg variable: group.name = value [descr "..."].
type cfgVarNode struct {
	Group string    `@(Ident | Keyword)`
	Index *string   `( "[":Punct @Number "]":Punct )?`
	Name  string    `".":Punct @(Ident | Keyword)`
	Value *cfgValue `"=":Punct @@`
	Descr *string   `( ("desc":Keyword | "descr":Keyword | "description":Keyword) @String )?`
}

// cfgValue is a cfg variable's value: a string or a number, never
// negative (Kamailio's grammar has no minus there).
type cfgValue struct {
	Str *string `  @String`
	Num *string `| @Number`
}

// assignNode is a core setting: keyword = value.
type assignNode struct {
	Name  string     `@(Keyword | Ident) "=":Punct`
	Value *coreValue `@@`
}

type coreValue struct {
	Pos   lexer.Position
	Neg   *string  `  "-":Punct @Number`
	Str   *string  `| @String`
	V6    *string  `| "[":Punct @IPv6 "]":Punct | @IPv6`
	Parts []string `| @(Ident | Keyword | Number | NumID) ( @(".":Punct | "-":Punct) @(Ident | Keyword | Number | NumID) )*`
	Block bool     `| @Block`
	Port  *string  `( ":":Punct @Number )?`
}

// tokenDef tells participle the token type names; tokens come from
// lexState, never from participle's own lexers.
type tokenDef struct{ symbols map[string]lexer.TokenType }

func (d tokenDef) Symbols() map[string]lexer.TokenType { return d.symbols }

func (tokenDef) Lex(string, io.Reader) (lexer.Lexer, error) { return &sliceLexer{}, nil }

// sliceLexer feeds lexed tokens to participle. Each token's Offset is its
// index in the stream, which maps participle's positions back to ours.
type sliceLexer struct {
	toks []token
	i    int
}

func (s *sliceLexer) Next() (lexer.Token, error) {
	if s.i >= len(s.toks) {
		return lexer.Token{Type: lexer.EOF, Pos: lexer.Position{Offset: len(s.toks) - 1}}, nil
	}
	t := s.toks[s.i]
	lt := lexer.Token{Type: t.typ, Value: t.val, Pos: lexer.Position{Filename: t.pos.File, Offset: s.i, Line: t.pos.Line, Column: t.pos.Col}}
	s.i++
	return lt, nil
}

var stmtParser = participle.MustBuild[stmtNode](
	participle.Lexer(tokenDef{symbols: tokenSymbols}),
	participle.UseLookahead(4),
)
