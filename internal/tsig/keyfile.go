package tsig

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// MaxKeyFileBytes bounds a key file: one key is ~150 bytes, and a mistaken
// path (a zone, a log) should fail fast rather than be read whole.
const MaxKeyFileBytes = 1 << 20

// ReadKeyFile reads the keys of a BIND key file (see ParseKeyFile).
func ReadKeyFile(path string) ([]Key, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxKeyFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxKeyFileBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	keys, err := ParseKeyFile(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// ParseKeyFile reads the key statements of a file in BIND's named.conf
// syntax, as tsig-keygen and ddns-confgen write them (and dig -k and
// nsupdate -k read them):
//
//	key "name" {
//		algorithm hmac-sha256;
//		secret "base64";
//	};
//
// Comments (#, //, /* */) and other statements are skipped, so a whole
// ddns-confgen output or a named.conf fragment can be given; a file
// without a key, or a key statement that is incomplete, is an error.
func ParseKeyFile(text string) ([]Key, error) {
	toks, err := tokenize(text)
	if err != nil {
		return nil, err
	}
	var keys []Key
	// Each turn consumes at least one token.
	for i := 0; i < len(toks); {
		if toks[i].text != "key" || toks[i].quoted {
			i = skipStatement(toks, i)
			continue
		}
		k, next, err := keyStatement(toks, i)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
		i = next
	}
	if len(keys) == 0 {
		return nil, errors.New("no key statement (key \"NAME\" { algorithm ALG; secret \"BASE64\"; };)")
	}
	return keys, nil
}

type token struct {
	text   string
	quoted bool
	line   int
}

// tokenize splits text into words, quoted strings and the punctuation
// { } ; dropping comments.
func tokenize(s string) ([]token, error) {
	var toks []token
	line := 1
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#' || strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated comment", line)
			}
			line += strings.Count(s[i:i+2+end], "\n")
			i += end + 4
		case c == '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated string", line)
			}
			toks = append(toks, token{s[i+1 : i+1+end], true, line})
			line += strings.Count(s[i+1:i+1+end], "\n")
			i += end + 2
		case c == '{' || c == '}' || c == ';':
			toks = append(toks, token{s[i : i+1], false, line})
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n{};\"#", rune(s[j])) && !strings.HasPrefix(s[j:], "//") && !strings.HasPrefix(s[j:], "/*") {
				j++
			}
			toks = append(toks, token{s[i:j], false, line})
			i = j
		}
	}
	return toks, nil
}

// skipStatement returns the index after the statement starting at i: up
// to its ';' outside braces, or the end.
func skipStatement(toks []token, i int) int {
	depth := 0
	for ; i < len(toks); i++ {
		switch t := toks[i]; {
		case t.quoted:
		case t.text == "{":
			depth++
		case t.text == "}":
			depth = max(depth-1, 0)
		case t.text == ";" && depth == 0:
			return i + 1
		}
	}
	return i
}

// keyStatement parses key NAME { algorithm ALG; secret "S"; }; at i.
func keyStatement(toks []token, i int) (Key, int, error) {
	line := toks[i].line
	bad := func(what string) (Key, int, error) {
		return Key{}, 0, fmt.Errorf("line %d: key statement: %s", line, what)
	}
	if i+2 >= len(toks) || toks[i+1].text == "{" && !toks[i+1].quoted || toks[i+2].text != "{" {
		return bad("want key NAME {")
	}
	name := toks[i+1].text
	var alg, secret string
	j := i + 3
	// Clauses until the closing brace; each consumes at least two tokens.
	for {
		if j >= len(toks) {
			return bad("no closing }")
		}
		if t := toks[j]; t.text == "}" && !t.quoted {
			j++
			break
		}
		if j+2 >= len(toks) || toks[j+2].text != ";" {
			return bad(fmt.Sprintf("want %s VALUE;", toks[j].text))
		}
		switch toks[j].text {
		case "algorithm":
			alg = toks[j+1].text
		case "secret":
			secret = toks[j+1].text
		default:
			return bad(fmt.Sprintf("unknown clause %q", toks[j].text))
		}
		j += 3
	}
	if j < len(toks) && toks[j].text == ";" {
		j++
	}
	if alg == "" || secret == "" {
		return bad("needs algorithm and secret")
	}
	k, err := NewKey(name, alg, secret)
	if err != nil {
		return Key{}, 0, fmt.Errorf("line %d: %w", line, err)
	}
	return k, j, nil
}
