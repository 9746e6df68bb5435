package fileedit

import (
	"bytes"
	"fmt"
	"strings"
)

// A marked block is a run of lines nbtunnel owns inside a user's file:
//
//	# >>> nbtunnel KEY >>> managed by nbtunnel; edits inside are overwritten
//	...lines...
//	# <<< nbtunnel KEY <<<
//
// KEY names the block, e.g. "hook gpu-box" or "forward gpu-box", so that
// several hosts (and several kinds of entry) each have their own. Every
// byte outside the blocks belongs to the user and is never changed: a new
// block is inserted at a line boundary with the file's own line ending,
// and removing it takes out exactly the bytes that were inserted.
const (
	blockBeginPrefix = "# >>> nbtunnel "
	blockBeginSuffix = " >>>"
	blockEndPrefix   = "# <<< nbtunnel "
	blockEndSuffix   = " <<<"
	blockNote        = " managed by nbtunnel; edits inside are overwritten"
)

// Block is one marked block found in a file.
type Block struct {
	// Key names the block.
	Key string
	// Lines are the lines between the markers, without line endings.
	Lines []string
	// BeginLine and EndLine are the 1-based line numbers of the markers.
	BeginLine, EndLine int
	// Start and End are byte offsets: data[Start:End] is the whole block,
	// from the begin marker to the end marker's line ending (if any).
	Start, End int
}

// BlockError reports a damaged block: a begin marker without its end, an
// end without a begin, a block inside a block, or a key used twice.
type BlockError struct {
	File    string // file name as given by the caller
	Line    int    // 1-based line of the marker at fault
	Key     string
	Problem string // e.g. "has no end marker"
	Hint    string // what the user can do, one sentence
}

func (e *BlockError) Error() string {
	return fmt.Sprintf("%s:%d: nbtunnel block %q %s", e.File, e.Line, e.Key, e.Problem)
}

// BeginMarker and EndMarker return the marker lines for key (without a
// line ending).
func BeginMarker(key string) string { return blockBeginPrefix + key + blockBeginSuffix + blockNote }

// EndMarker returns the end marker line for key.
func EndMarker(key string) string { return blockEndPrefix + key + blockEndSuffix }

// LineEnding returns the line ending a file uses: that of its first line,
// "\n" when it has none.
func LineEnding(data []byte) string {
	i := bytes.IndexByte(data, '\n')
	if i > 0 && data[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// Blocks returns every marked block in data, in file order. name is used
// in errors only. A damaged block is a *BlockError.
func Blocks(name string, data []byte) ([]Block, error) {
	p, err := parseBlocks(name, data)
	if err != nil {
		return nil, err
	}
	return p.blocks, nil
}

// FindBlock returns the block named key, if data has one.
func FindBlock(name string, data []byte, key string) (Block, bool, error) {
	bs, err := Blocks(name, data)
	if err != nil {
		return Block{}, false, err
	}
	for _, b := range bs {
		if b.Key == key {
			return b, true, nil
		}
	}
	return Block{}, false, nil
}

// SetBlock returns data with the block named key holding exactly lines:
// an existing block is replaced in place; otherwise a new one is inserted
// before the first existing block or the first configuration line
// (together with the comment lines directly above it), whichever comes
// first, or at the top of a file that has neither. For an OpenSSH config
// that is the top-level (global) section, before every Host and Match
// section, where the first obtained value of a keyword wins.
//
// Lines must not hold line breaks or look like markers. Setting the same
// lines again returns data unchanged. data itself is not modified.
func SetBlock(name string, data []byte, key string, lines []string) ([]byte, error) {
	if err := checkBlockKey(key); err != nil {
		return nil, err
	}
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			return nil, fmt.Errorf("setting nbtunnel block %q in %s: line %q has a line break", key, name, l)
		}
		if _, ok := beginKey(l); ok {
			return nil, fmt.Errorf("setting nbtunnel block %q in %s: line %q looks like a marker", key, name, l)
		}
		if _, ok := endKey(l); ok {
			return nil, fmt.Errorf("setting nbtunnel block %q in %s: line %q looks like a marker", key, name, l)
		}
	}
	p, err := parseBlocks(name, data)
	if err != nil {
		return nil, err
	}
	eol := LineEnding(data)
	var text strings.Builder
	text.WriteString(BeginMarker(key) + eol)
	for _, l := range lines {
		text.WriteString(l + eol)
	}
	text.WriteString(EndMarker(key))
	for _, b := range p.blocks {
		if b.Key != key {
			continue
		}
		if b.End > 0 && data[b.End-1] == '\n' {
			// Keep the old block's ending, which may be "\n" in a
			// CRLF file if the user changed it.
			last := p.lines[b.EndLine-1]
			text.WriteString(string(data[last.contentEnd:last.end]))
		}
		return splice(data, b.Start, b.End, text.String()), nil
	}
	text.WriteString(eol)
	at := p.insertAt()
	return splice(data, at, at, text.String()), nil
}

// RemoveBlock returns data without the block named key (the whole block,
// markers and the end marker's line ending included); data unchanged when
// there is no such block. After a SetBlock that inserted the block,
// RemoveBlock gives back the original bytes.
func RemoveBlock(name string, data []byte, key string) ([]byte, error) {
	b, ok, err := FindBlock(name, data, key)
	if err != nil || !ok {
		return data, err
	}
	return splice(data, b.Start, b.End, ""), nil
}

func splice(data []byte, from, to int, text string) []byte {
	out := make([]byte, 0, len(data)-(to-from)+len(text))
	out = append(out, data[:from]...)
	out = append(out, text...)
	return append(out, data[to:]...)
}

func checkBlockKey(key string) error {
	if key == "" || strings.TrimSpace(key) != key || strings.Contains(key, ">>>") ||
		strings.Contains(key, "<<<") || strings.Contains(key, "  ") {
		return fmt.Errorf("invalid nbtunnel block key %q", key)
	}
	for _, r := range key {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("invalid nbtunnel block key %q", key)
		}
	}
	return nil
}

// textLine is one line of a file: data[start:contentEnd] is its text
// without the line ending, data[start:end] with it.
type textLine struct {
	start, contentEnd, end int
	text                   string
	inBlock                bool
}

type parsedBlocks struct {
	lines  []textLine
	blocks []Block
}

func splitLines(data []byte) []textLine {
	var lines []textLine
	for start := 0; start < len(data); {
		end := len(data)
		if i := bytes.IndexByte(data[start:], '\n'); i >= 0 {
			end = start + i + 1
		}
		ce := end
		if ce > start && data[ce-1] == '\n' {
			ce--
			if ce > start && data[ce-1] == '\r' {
				ce--
			}
		}
		lines = append(lines, textLine{start: start, contentEnd: ce, end: end, text: string(data[start:ce])})
		start = end
	}
	return lines
}

func beginKey(line string) (string, bool) {
	t := strings.TrimSpace(line)
	rest, ok := strings.CutPrefix(t, blockBeginPrefix)
	if !ok {
		return "", false
	}
	k, _, ok := strings.Cut(rest, blockBeginSuffix)
	if !ok {
		return "", false
	}
	return strings.TrimSpace(k), true
}

func endKey(line string) (string, bool) {
	t := strings.TrimSpace(line)
	rest, ok := strings.CutPrefix(t, blockEndPrefix)
	if !ok {
		return "", false
	}
	k, _, ok := strings.Cut(rest, blockEndSuffix)
	if !ok {
		return "", false
	}
	return strings.TrimSpace(k), true
}

func parseBlocks(name string, data []byte) (*parsedBlocks, error) {
	p := &parsedBlocks{lines: splitLines(data)}
	open := -1 // index of the open block's begin line
	var openKey string
	seen := map[string]int{}
	for i, l := range p.lines {
		if k, ok := beginKey(l.text); ok {
			if open >= 0 {
				return nil, &BlockError{File: name, Line: open + 1, Key: openKey, Problem: "has no end marker",
					Hint: fmt.Sprintf("another block begins at line %d; put back the line %q where the block ends, or delete the block", i+1, EndMarker(openKey))}
			}
			if first, dup := seen[k]; dup {
				return nil, &BlockError{File: name, Line: i + 1, Key: k, Problem: fmt.Sprintf("appears twice (first at line %d)", first),
					Hint: "delete one of the two copies"}
			}
			seen[k] = i + 1
			open, openKey = i, k
			continue
		}
		if k, ok := endKey(l.text); ok {
			if open < 0 || k != openKey {
				return nil, &BlockError{File: name, Line: i + 1, Key: k, Problem: "has an end marker without its begin marker",
					Hint: fmt.Sprintf("put back the line %q where the block begins, or delete the end marker", BeginMarker(k))}
			}
			b := Block{Key: k, BeginLine: open + 1, EndLine: i + 1, Start: p.lines[open].start, End: l.end}
			for j := open; j <= i; j++ {
				p.lines[j].inBlock = true
				if j > open && j < i {
					b.Lines = append(b.Lines, p.lines[j].text)
				}
			}
			p.blocks = append(p.blocks, b)
			open = -1
		}
	}
	if open >= 0 {
		return nil, &BlockError{File: name, Line: open + 1, Key: openKey, Problem: "has no end marker",
			Hint: fmt.Sprintf("put back the line %q where the block ends, or delete the block", EndMarker(openKey))}
	}
	return p, nil
}

// insertAt is where a new block goes: see SetBlock.
func (p *parsedBlocks) insertAt() int {
	at := -1
	if len(p.blocks) > 0 {
		at = p.blocks[0].Start
	}
	for i, l := range p.lines {
		if l.inBlock || !isDirectiveLine(l.text) {
			continue
		}
		j := i
		for j > 0 && !p.lines[j-1].inBlock && strings.HasPrefix(strings.TrimSpace(p.lines[j-1].text), "#") {
			j--
		}
		if at < 0 || p.lines[j].start < at {
			at = p.lines[j].start
		}
		break
	}
	if at < 0 {
		return 0
	}
	return at
}

// isDirectiveLine reports whether an ssh_config line holds a keyword (not
// blank, not a comment).
func isDirectiveLine(s string) bool {
	t := strings.TrimSpace(s)
	return t != "" && !strings.HasPrefix(t, "#")
}
