//go:build windows

package sshclient

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Pageant, PuTTY's agent, answers the OpenSSH agent protocol two ways:
// Pageant 0.75 and later on a named pipe \\.\pipe\pageant.USER.HASH (a
// stream, like an OpenSSH agent socket), and every Pageant through its
// window: the client writes one request into a named file mapping and
// sends the window a WM_COPYDATA message naming the mapping; Pageant
// writes the answer into the same mapping. dialPageant tries the pipe,
// then the window, as PuTTY's own clients do.

const (
	pageantMaxMsg    = 8192       // AGENT_MAX_MSGLEN: the mapping's size
	pageantCopyData  = 0x804e50ba // COPYDATASTRUCT.dwData Pageant answers
	pageantTimeout   = 2 * time.Minute
	wmCopyData       = 0x004a
	smtoAbortIfHung  = 0x0002
	cryptProtectSize = 16 // CRYPTPROTECTMEMORY_BLOCK_SIZE
)

var (
	user32                  = windows.NewLazySystemDLL("user32.dll")
	procFindWindowW         = user32.NewProc("FindWindowW")
	procSendMessageTimeoutW = user32.NewProc("SendMessageTimeoutW")
	procGetUserNameW        = windows.NewLazySystemDLL("advapi32.dll").NewProc("GetUserNameW")
	crypt32                 = windows.NewLazySystemDLL("crypt32.dll")
	procCryptProtectMemory  = crypt32.NewProc("CryptProtectMemory")
)

// errNoPageant: neither Pageant's pipe nor its window is there.
var errNoPageant = errors.New("no Pageant window or pipe: Pageant is not running")

// dialPageant connects to Pageant: its named pipe, else its window.
func dialPageant() (net.Conn, error) {
	if name, err := pageantPipeName(); err == nil {
		if f, err := os.OpenFile(name, os.O_RDWR, 0); err == nil {
			return pipeConn{f}, nil
		}
	}
	hwnd, err := findPageantWindow()
	if err != nil {
		return nil, err
	}
	return newPageantWindowConn(hwnd), nil
}

func findPageantWindow() (uintptr, error) {
	name, _ := windows.UTF16PtrFromString("Pageant")
	hwnd, _, _ := procFindWindowW.Call(uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(name)))
	if hwnd == 0 {
		return 0, errNoPageant
	}
	return hwnd, nil
}

// pageantPipeName is the pipe Pageant 0.75+ serves for this user:
// "pageant." + user name + "." + hex SHA-256 of the SSH string (32-bit
// big-endian length, then bytes) of "Pageant" NUL-padded to a multiple of
// 16 bytes and passed through CryptProtectMemory(CROSS_PROCESS).
func pageantPipeName() (string, error) {
	buf := make([]byte, cryptProtectSize)
	copy(buf, "Pageant")
	if err := procCryptProtectMemory.Find(); err != nil {
		return "", err
	}
	if ok, _, err := procCryptProtectMemory.Call(uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 1 /* CROSS_PROCESS */); ok == 0 {
		return "", fmt.Errorf("CryptProtectMemory: %w", err)
	}
	h := sha256.New()
	binary.Write(h, binary.BigEndian, uint32(len(buf)))
	h.Write(buf)
	user, err := windowsUserName()
	if err != nil {
		return "", err
	}
	return `\\.\pipe\pageant.` + user + "." + hex.EncodeToString(h.Sum(nil)), nil
}

// windowsUserName is the user name as PuTTY's get_username finds it: the
// user principal name without its @realm, else GetUserName's.
func windowsUserName() (string, error) {
	b := make([]uint16, 512)
	n := uint32(len(b))
	if err := windows.GetUserNameEx(windows.NameUserPrincipal, &b[0], &n); err == nil {
		name := windows.UTF16ToString(b[:n])
		if at := strings.IndexByte(name, '@'); at >= 0 {
			name = name[:at]
		}
		return name, nil
	}
	n = uint32(len(b))
	if ok, _, err := procGetUserNameW.Call(uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&n))); ok == 0 {
		return "", fmt.Errorf("GetUserName: %w", err)
	}
	return windows.UTF16ToString(b[:n]), nil
}

// pageantWindowConn speaks to Pageant's window as a byte stream: each
// whole request written is sent as one WM_COPYDATA query (Write returns
// when Pageant has answered), and the answers are read back in order.
// Read blocks until an answer is there or the conn is closed, as on a
// socket. One writer and one reader may use it at once.
type pageantWindowConn struct {
	hwnd uintptr
	mu   sync.Mutex
	cond *sync.Cond // on mu: an answer arrived or done
	req  bytes.Buffer
	resp bytes.Buffer
	done bool
}

func newPageantWindowConn(hwnd uintptr) *pageantWindowConn {
	c := &pageantWindowConn{hwnd: hwnd}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *pageantWindowConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return 0, net.ErrClosed
	}
	c.req.Write(p)
	for c.req.Len() >= 4 {
		n := int(binary.BigEndian.Uint32(c.req.Bytes()))
		if n+4 > pageantMaxMsg {
			return 0, fmt.Errorf("agent request of %d bytes is too long for Pageant", n)
		}
		if c.req.Len() < n+4 {
			break
		}
		answer, err := pageantQuery(c.hwnd, c.req.Next(n+4))
		if err != nil {
			return 0, err
		}
		c.resp.Write(answer)
		c.cond.Broadcast()
	}
	return len(p), nil
}

func (c *pageantWindowConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.resp.Len() == 0 && !c.done {
		c.cond.Wait()
	}
	if c.done {
		return 0, net.ErrClosed
	}
	return c.resp.Read(p)
}

func (c *pageantWindowConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = true
	c.cond.Broadcast()
	return nil
}

func (c *pageantWindowConn) LocalAddr() net.Addr                { return pipeAddr{} }
func (c *pageantWindowConn) RemoteAddr() net.Addr               { return pipeAddr{} }
func (c *pageantWindowConn) SetDeadline(t time.Time) error      { return nil }
func (c *pageantWindowConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *pageantWindowConn) SetWriteDeadline(t time.Time) error { return nil }

// copyDataStruct is COPYDATASTRUCT.
type copyDataStruct struct {
	dwData uintptr
	cbData uint32
	lpData uintptr
}

var pageantSeq struct {
	sync.Mutex
	n uint32
}

// pageantQuery sends one framed agent message to Pageant's window and
// returns the framed answer.
func pageantQuery(hwnd uintptr, msg []byte) ([]byte, error) {
	pageantSeq.Lock()
	pageantSeq.n++
	seq := pageantSeq.n
	pageantSeq.Unlock()
	mapName := fmt.Sprintf("PageantRequest%08x%04x", windows.GetCurrentThreadId(), seq&0xffff)
	name16, _ := windows.UTF16PtrFromString(mapName)
	// Pageant answers only a mapping owned by its own user; as PuTTY's
	// client does, say so explicitly (an elevated process's default owner
	// would be the Administrators group).
	sa, err := userOwnedAttributes()
	if err != nil {
		return nil, fmt.Errorf("asking Pageant: %w", err)
	}
	m, err := windows.CreateFileMapping(windows.InvalidHandle, sa, windows.PAGE_READWRITE, 0, pageantMaxMsg, name16)
	if err != nil {
		return nil, fmt.Errorf("asking Pageant: CreateFileMapping: %w", err)
	}
	defer windows.CloseHandle(m)
	addr, err := windows.MapViewOfFile(m, windows.FILE_MAP_WRITE, 0, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("asking Pageant: MapViewOfFile: %w", err)
	}
	defer windows.UnmapViewOfFile(addr)
	// addr is memory the system mapped for us, not Go memory.
	view := unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), pageantMaxMsg)
	copy(view, msg)
	nameBytes := append([]byte(mapName), 0)
	cds := copyDataStruct{dwData: pageantCopyData, cbData: uint32(len(nameBytes)), lpData: uintptr(unsafe.Pointer(&nameBytes[0]))}
	var result uintptr
	ok, _, err := procSendMessageTimeoutW.Call(hwnd, wmCopyData, 0, uintptr(unsafe.Pointer(&cds)),
		smtoAbortIfHung, uintptr(pageantTimeout/time.Millisecond), uintptr(unsafe.Pointer(&result)))
	if ok == 0 {
		return nil, fmt.Errorf("asking Pageant: no answer from its window: %v", err)
	}
	if result == 0 {
		return nil, errors.New("asking Pageant: it refused the request")
	}
	n := binary.BigEndian.Uint32(view)
	if n > pageantMaxMsg-4 {
		return nil, fmt.Errorf("asking Pageant: answer of %d bytes is too long", n)
	}
	return append([]byte(nil), view[:4+n]...), nil
}

// userOwnedAttributes are security attributes whose descriptor names the
// current user as owner.
func userOwnedAttributes() (*windows.SecurityAttributes, error) {
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("reading the user's SID: %w", err)
	}
	sd, err := windows.NewSecurityDescriptor()
	if err != nil {
		return nil, err
	}
	if err := sd.SetOwner(tu.User.Sid, false); err != nil {
		return nil, err
	}
	sa := &windows.SecurityAttributes{SecurityDescriptor: sd}
	sa.Length = uint32(unsafe.Sizeof(*sa))
	return sa, nil
}
