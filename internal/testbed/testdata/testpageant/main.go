// Command testpageant is a stand-in for PuTTY's Pageant in the Windows tests: `testpageant KEYFILE LOG [pipe]`
// holds the OpenSSH private key KEYFILE and answers the agent protocol the way every Pageant does, through a
// window of class and title "Pageant" that takes WM_COPYDATA messages (dwData 0x804e50ba) naming a file mapping
// with the request (owned by its own user, as Pageant checks), into which it writes the answer. With "pipe" it also serves the named pipe of Pageant 0.75
// and later, \\.\pipe\pageant.USER.HASH (HASH: SHA-256 of the SSH string of "Pageant" NUL-padded to 16 bytes
// after CryptProtectMemory(CROSS_PROCESS)). It appends a line per window request ("window: request N") and per
// pipe connection ("pipe: connected") to LOG and prints "ready" once it listens. Built with GOOS=windows.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/sys/windows"
)

var (
	user32               = windows.NewLazySystemDLL("user32.dll")
	procRegisterClassExW = user32.NewProc("RegisterClassExW")
	procCreateWindowExW  = user32.NewProc("CreateWindowExW")
	procDefWindowProcW   = user32.NewProc("DefWindowProcW")
	procGetMessageW      = user32.NewProc("GetMessageW")
	procDispatchMessageW = user32.NewProc("DispatchMessageW")
	procOpenFileMappingW = windows.NewLazySystemDLL("kernel32.dll").NewProc("OpenFileMappingW")
)

const (
	wmCopyData = 0x004a
	maxMsg     = 8192
	magic      = 0x804e50ba
)

type wndClassEx struct {
	size       uint32
	style      uint32
	wndProc    uintptr
	clsExtra   int32
	wndExtra   int32
	instance   windows.Handle
	icon       windows.Handle
	cursor     windows.Handle
	background windows.Handle
	menuName   *uint16
	className  *uint16
	iconSm     windows.Handle
}

type copyData struct {
	dwData uintptr
	cbData uint32
	lpData uintptr
}

type msg struct {
	hwnd    uintptr
	message uint32
	wParam  uintptr
	lParam  uintptr
	time    uint32
	pt      [2]int32
	private uint32
}

var (
	keyring = agent.NewKeyring()
	logFile *os.File
)

// oneShot is an io.ReadWriter for agent.ServeAgent: one request in, the answer out.
type oneShot struct {
	in  io.Reader
	out bytes.Buffer
}

func (o *oneShot) Read(p []byte) (int, error)  { return o.in.Read(p) }
func (o *oneShot) Write(p []byte) (int, error) { return o.out.Write(p) }

func wndProc(hwnd, message, wParam, lParam uintptr) uintptr {
	if message != wmCopyData {
		r, _, _ := procDefWindowProcW.Call(hwnd, message, wParam, lParam)
		return r
	}
	cds := (*copyData)(unsafe.Pointer(lParam))
	if cds.dwData != magic || cds.cbData == 0 {
		return 0
	}
	name := unsafe.Slice((*byte)(unsafe.Pointer(cds.lpData)), cds.cbData)
	name = bytes.TrimRight(name, "\x00")
	name16, _ := windows.UTF16PtrFromString(string(name))
	h, _, err := procOpenFileMappingW.Call(0xf001f /* FILE_MAP_ALL_ACCESS, as Pageant */, 0, uintptr(unsafe.Pointer(name16)))
	m := windows.Handle(h)
	if h == 0 {
		fmt.Fprintf(logFile, "window: OpenFileMapping %s: %v\n", name, err)
		return 0
	}
	defer windows.CloseHandle(m)
	// As Pageant does: answer only a mapping owned by our own user.
	sd, err := windows.GetSecurityInfo(m, windows.SE_KERNEL_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		fmt.Fprintf(logFile, "window: GetSecurityInfo: %v\n", err)
		return 0
	}
	owner, _, err := sd.Owner()
	tu, terr := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil || terr != nil || owner == nil || !owner.Equals(tu.User.Sid) {
		fmt.Fprintf(logFile, "window: mapping owner %v is not our user %v\n", owner, tu.User.Sid)
		return 0
	}
	addr, err := windows.MapViewOfFile(m, windows.FILE_MAP_WRITE, 0, 0, 0)
	if err != nil {
		return 0
	}
	defer windows.UnmapViewOfFile(addr)
	view := unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), maxMsg)
	n := binary.BigEndian.Uint32(view)
	if n == 0 || n > maxMsg-4 {
		return 0
	}
	fmt.Fprintf(logFile, "window: request %d\n", view[4])
	o := &oneShot{in: bytes.NewReader(append([]byte(nil), view[:4+n]...))}
	agent.ServeAgent(keyring, o)
	if o.out.Len() > maxMsg {
		return 0
	}
	copy(view, o.out.Bytes())
	return 1
}

func servePipe() error {
	buf := make([]byte, 16)
	copy(buf, "Pageant")
	if r, _, err := windows.NewLazySystemDLL("crypt32.dll").NewProc("CryptProtectMemory").Call(
		uintptr(unsafe.Pointer(&buf[0])), 16, 1); r == 0 {
		return fmt.Errorf("CryptProtectMemory: %v", err)
	}
	h := sha256.New()
	binary.Write(h, binary.BigEndian, uint32(len(buf)))
	h.Write(buf)
	n := uint32(256)
	u := make([]uint16, n)
	if r, _, err := windows.NewLazySystemDLL("advapi32.dll").NewProc("GetUserNameW").Call(
		uintptr(unsafe.Pointer(&u[0])), uintptr(unsafe.Pointer(&n))); r == 0 {
		return fmt.Errorf("GetUserName: %v", err)
	}
	name := `\\.\pipe\pageant.` + windows.UTF16ToString(u) + "." + hex.EncodeToString(h.Sum(nil))
	name16, _ := windows.UTF16PtrFromString(name)
	next := func() (windows.Handle, error) {
		return windows.CreateNamedPipe(name16, windows.PIPE_ACCESS_DUPLEX,
			windows.PIPE_TYPE_BYTE|windows.PIPE_READMODE_BYTE|windows.PIPE_WAIT, windows.PIPE_UNLIMITED_INSTANCES,
			maxMsg, maxMsg, 0, nil)
	}
	first, err := next()
	if err != nil {
		return fmt.Errorf("CreateNamedPipe %s: %v", name, err)
	}
	go func() {
		p := first
		for {
			if err := windows.ConnectNamedPipe(p, nil); err != nil && err != windows.ERROR_PIPE_CONNECTED {
				fmt.Fprintf(logFile, "pipe: ConnectNamedPipe: %v\n", err)
				return
			}
			fmt.Fprintf(logFile, "pipe: connected\n")
			f := os.NewFile(uintptr(p), name)
			go func() { agent.ServeAgent(keyring, f); f.Close() }()
			if p, err = next(); err != nil {
				fmt.Fprintf(logFile, "pipe: CreateNamedPipe: %v\n", err)
				return
			}
		}
	}()
	return nil
}

func main() {
	if len(os.Args) != 3 && !(len(os.Args) == 4 && os.Args[3] == "pipe") {
		fmt.Fprintln(os.Stderr, "usage: testpageant KEYFILE LOG [pipe]")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	key, err := ssh.ParseRawPrivateKey(data)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := keyring.Add(agent.AddedKey{PrivateKey: key, Comment: "test key"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if logFile, err = os.OpenFile(os.Args[2], os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(os.Args) == 4 {
		if err := servePipe(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	runtime.LockOSThread()
	name, _ := windows.UTF16PtrFromString("Pageant")
	wc := wndClassEx{wndProc: windows.NewCallback(wndProc), className: name}
	wc.size = uint32(unsafe.Sizeof(wc))
	if r, _, err := procRegisterClassExW.Call(uintptr(unsafe.Pointer(&wc))); r == 0 {
		fmt.Fprintln(os.Stderr, "RegisterClassEx:", err)
		os.Exit(1)
	}
	hwnd, _, err := procCreateWindowExW.Call(0, uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(name)), 0,
		0, 0, 0, 0, 0, 0, 0, 0)
	if hwnd == 0 {
		fmt.Fprintln(os.Stderr, "CreateWindowEx:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	var m msg
	for {
		r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
		if r == 0 || int32(r) == -1 {
			return
		}
		procDispatchMessageW.Call(uintptr(unsafe.Pointer(&m)))
	}
}
