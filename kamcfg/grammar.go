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
	Route     *routeNode     `parser:"  @@"`
	ModParam  *modParamNode  `parser:"| @@"`
	LoadMod   *loadModNode   `parser:"| @@"`
	Socket    *socketNode    `parser:"| @@"`
	LoadPath  *loadPathNode  `parser:"| @@"`
	CfgEngine *cfgEngineNode `parser:"| @@"`
	CfgVar    *cfgVarNode    `parser:"| @@"`
	Assign    *assignNode    `parser:"| @@"`
	Flags     *flagsNode     `parser:"| @@"`
	Semi      bool           `parser:"| @';':Punct"`
}

// loadmodule "x" (5.6) or loadmodule("x", "flags") (5.7+).
type loadModNode struct {
	Kw   string   `parser:"@('loadmodule':Keyword | 'loadmodulex':Keyword)"`
	Name *string  `parser:"( @String"`
	Args []string `parser:"| '(':Punct @String ( ',':Punct @String )* ')':Punct )"`
}

type loadPathNode struct {
	Kw   string `parser:"@('loadpath':Keyword | 'mpath':Keyword) '=':Punct?"`
	Path string `parser:"@String"`
}

type modParamNode struct {
	Kw     string     `parser:"@('modparam':Keyword | 'modparamx':Keyword) '(':Punct"`
	Module string     `parser:"@String ',':Punct"`
	Param  string     `parser:"@String ',':Punct"`
	Value  *valueNode `parser:"@@ ')':Punct"`
}

// valueNode is a modparam value: a string, an int (intno) or, for
// modparamx, a pseudo-variable.
type valueNode struct {
	Pos lexer.Position
	Str *string `parser:"  @String"`
	Neg bool    `parser:"| ( @'-':Punct?"`
	Num *string `parser:"    @Number )"`
	PV  *string `parser:"| @PVar"`
}

type cfgEngineNode struct {
	Engine string `parser:"'cfgengine':Keyword '=':Punct? @String"`
}

type flagsNode struct {
	Kw    string      `parser:"@('flags':Keyword | 'bool':Keyword | 'avpflags':Keyword)"`
	Items []*flagItem `parser:"@@ ( ',':Punct @@ )*"`
}

type flagItem struct {
	Name string  `parser:"@(Ident | String)"`
	Num  *string `parser:"( ':':Punct @Number )?"`
}

type routeNode struct {
	Kind string   `parser:"@('route':Keyword | 'request_route':Keyword | 'failure_route':Keyword | 'onreply_route':Keyword | 'reply_route':Keyword | 'branch_route':Keyword | 'onsend_route':Keyword | 'event_route':Keyword | 'branch_failure_route':Keyword)"`
	Name []string `parser:"( '[':Punct @(~']':Punct)* ']':Punct )?"`
	Body bool     `parser:"@Block"`
}

// socketNode is listen= or alias= with its socket list and modifiers.
type socketNode struct {
	Kw    string      `parser:"@('listen':Keyword | 'alias':Keyword) '=':Punct"`
	Socks []*sockNode `parser:"@@+"`
	// The modifiers come in this order, each at most once.
	Advertise *hostPortNode `parser:"( ('advertise':Keyword | 'ADVERTISE':Keyword) @@ )?"`
	Name      *string       `parser:"( ('name':Keyword | 'NAME':Keyword) @String )?"`
	Virtual   bool          `parser:"@'virtual':Keyword?"`
}

type sockNode struct {
	Pos   lexer.Position
	Proto *string     `parser:"( @('udp':Keyword | 'tcp':Keyword | 'tls':Keyword | 'sctp':Keyword | 'ws':Keyword | 'wss':Keyword | 'UDP':Keyword | 'TCP':Keyword | 'TLS':Keyword | 'SCTP':Keyword | 'WS':Keyword | 'WSS':Keyword | '*':Punct) ':':Punct )?"`
	Multi []*addrNode `parser:"( '(':Punct @@ ( ',':Punct @@ )* ')':Punct"`
	Addr  *addrNode   `parser:"| @@ )"`
	Port  *string     `parser:"( ':':Punct @(Number | '*':Punct) )?"`
}

type addrNode struct {
	Pos   lexer.Position
	V6    *string  `parser:"  '[':Punct @IPv6 ']':Punct | @IPv6"`
	Str   *string  `parser:"| @String"`
	Parts []string `parser:"| @(Ident | Number | NumID) ( @('.':Punct | '-':Punct) @(Ident | Number | NumID) )*"`
}

type hostPortNode struct {
	Host *addrNode `parser:"@@"`
	Port *string   `parser:"( ':':Punct @Number )?"`
}

// cfgVarNode declares a custom cfg variable: group.name = value [descr "..."].
type cfgVarNode struct {
	Group string    `parser:"@(Ident | Keyword)"`
	Index *string   `parser:"( '[':Punct @Number ']':Punct )?"`
	Name  string    `parser:"'.':Punct @(Ident | Keyword)"`
	Value *cfgValue `parser:"'=':Punct @@"`
	Descr *string   `parser:"( ('desc':Keyword | 'descr':Keyword | 'description':Keyword) @String )?"`
}

// cfgValue is a cfg variable's value: a string or a number, never
// negative (Kamailio's grammar has no minus there).
type cfgValue struct {
	Str *string `parser:"  @String"`
	Num *string `parser:"| @Number"`
}

// assignNode is a core setting: keyword = value.
type assignNode struct {
	Name  string     `parser:"@(Keyword | Ident) '=':Punct"`
	Value *coreValue `parser:"@@"`
}

type coreValue struct {
	Pos   lexer.Position
	Neg   *string  `parser:"  '-':Punct @Number"`
	Str   *string  `parser:"| @String"`
	V6    *string  `parser:"| '[':Punct @IPv6 ']':Punct | @IPv6"`
	Parts []string `parser:"| @(Ident | Keyword | Number | NumID) ( @('.':Punct | '-':Punct) @(Ident | Keyword | Number | NumID) )*"`
	Block bool     `parser:"| @Block"`
	Port  *string  `parser:"( ':':Punct @Number )?"`
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
