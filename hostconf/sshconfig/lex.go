package sshconfig

import "strings"

// whitespace is OpenSSH's WHITESPACE set for config lines.
const whitespace = " \t\r\n"

// strdelim is OpenSSH's strdelim (misc.c): it returns the next token of
// s, split at whitespace, a double quote or one '=' (with splitEquals),
// and the rest. A double-quoted token loses its quotes. ok is false when
// there is no token (s was nil) or a quote is unterminated; restNil says
// the rest is C's NULL (no more tokens at all).
func strdelim(s string, sNil, splitEquals bool) (tok string, ok bool, rest string, restNil bool) {
	if sNil {
		return "", false, "", true
	}
	set := whitespace + `"`
	if splitEquals {
		set += "="
	}
	i := strings.IndexAny(s, set)
	if i < 0 {
		return s, true, "", true
	}
	if s[i] == '"' {
		// The opening quote is removed; the token runs to the next
		// quote.
		s2 := s[:i] + s[i+1:]
		j := strings.IndexByte(s2[i:], '"')
		if j < 0 {
			return "", false, "", true
		}
		j += i
		tok = s2[:j]
		rest = s2[j+1:]
		rest = strings.TrimLeft(rest, whitespace)
		return tok, true, rest, false
	}
	wspace := splitEquals && s[i] == '='
	tok = s[:i]
	rest = strings.TrimLeft(s[i+1:], whitespace)
	if splitEquals && !wspace && strings.HasPrefix(rest, "=") {
		rest = strings.TrimLeft(rest[1:], whitespace)
	}
	return tok, true, rest, false
}

// argvSplit is OpenSSH's argv_split (misc.c) with terminate_on_comment:
// whitespace separates arguments, single or double quotes group, a
// backslash escapes a quote, a backslash or (outside quotes) a space, and
// a '#' where an argument would start ends the line. ok is false for an
// unterminated quote.
func argvSplit(s string) (args []string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' {
			continue
		}
		if s[i] == '#' {
			break
		}
		var quote byte
		var b strings.Builder
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\':
				if i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '"' || s[i+1] == '\\' || (quote == 0 && s[i+1] == ' ')) {
					i++
					b.WriteByte(s[i])
				} else {
					b.WriteByte(c)
				}
				continue
			case quote == 0 && (c == ' ' || c == '\t'):
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
				continue
			case quote != 0 && c == quote:
				quote = 0
				continue
			default:
				b.WriteByte(c)
				continue
			}
			break
		}
		args = append(args, b.String())
		if i >= len(s) {
			if quote != 0 {
				return nil, false
			}
			break
		}
	}
	return args, true
}

// line is one config line taken apart as process_config_line_depth does.
type line struct {
	written string   // the keyword as written
	keyword string   // lower case
	str     string   // the text after the keyword (and its separator)
	args    []string // str split by argvSplit
}

// errNoArgument and errInvalidQuotes are the two ways a line fails to
// split.
type lineProblem int

const (
	lineOK lineProblem = iota
	lineEmpty
	lineNoArgument
	lineInvalidQuotes
)

// splitLine splits one config line (without its newline). The result is
// lineEmpty for blank and comment lines.
func splitLine(text string) (line, lineProblem) {
	if i := strings.IndexByte(text, 0); i >= 0 {
		text = text[:i] // C strings end at NUL
	}
	if text == "" {
		return line{}, lineEmpty
	}
	// Strip trailing whitespace (and form feeds); the first byte stays.
	text = text[:1] + strings.TrimRight(text[1:], whitespace+"\f")
	kw, ok, str, strNil := strdelim(text, false, true)
	if ok && kw == "" {
		kw, ok, str, strNil = strdelim(str, strNil, true)
	}
	if !ok || kw == "" || kw[0] == '\n' || kw[0] == '#' {
		return line{}, lineEmpty
	}
	written := kw
	kw = lowerASCII(kw)
	if !strNil {
		str = strings.TrimLeft(str, whitespace)
	}
	if strNil || str == "" {
		return line{written: written, keyword: kw}, lineNoArgument
	}
	args, ok := argvSplit(str)
	if !ok {
		return line{written: written, keyword: kw, str: str}, lineInvalidQuotes
	}
	return line{written: written, keyword: kw, str: str, args: args}, lineOK
}

// lowerASCII lower-cases A-Z only, as C's tolower in the C locale.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// SplitLine takes one config line apart as OpenSSH does: the keyword
// (lower case) and its arguments. ok is false for a blank or comment line
// and for a line OpenSSH would refuse (no argument, invalid quotes).
func SplitLine(text string) (keyword string, args []string, ok bool) {
	l, prob := splitLine(text)
	if prob != lineOK {
		return "", nil, false
	}
	return l.keyword, l.args, true
}
