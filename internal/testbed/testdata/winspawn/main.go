// Command winspawn runs its one argument as a Windows command line the way Win32-OpenSSH runs a ProxyCommand
// or LocalCommand and PuTTY runs a local proxy command: CreateProcess with no application name and no shell,
// standard handles inherited. It exits with the child's status. Built with GOOS=windows by the suite.
package main

import (
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

func main() {
	if len(os.Args) != 2 {
		os.Stderr.WriteString("usage: winspawn COMMANDLINE\n")
		os.Exit(2)
	}
	cmdline, err := windows.UTF16PtrFromString(os.Args[1])
	if err != nil {
		os.Exit(2)
	}
	si := &windows.StartupInfo{Flags: windows.STARTF_USESTDHANDLES}
	si.Cb = uint32(unsafe.Sizeof(*si))
	for i, h := range []uint32{windows.STD_INPUT_HANDLE, windows.STD_OUTPUT_HANDLE, windows.STD_ERROR_HANDLE} {
		sh, _ := windows.GetStdHandle(h)
		windows.SetHandleInformation(sh, windows.HANDLE_FLAG_INHERIT, windows.HANDLE_FLAG_INHERIT)
		switch i {
		case 0:
			si.StdInput = sh
		case 1:
			si.StdOutput = sh
		case 2:
			si.StdErr = sh
		}
	}
	var pi windows.ProcessInformation
	if err := windows.CreateProcess(nil, cmdline, nil, nil, true, 0, nil, nil, si, &pi); err != nil {
		os.Stderr.WriteString("CreateProcess: " + err.Error() + "\n")
		os.Exit(127)
	}
	windows.WaitForSingleObject(pi.Process, windows.INFINITE)
	var code uint32
	windows.GetExitCodeProcess(pi.Process, &code)
	os.Exit(int(code))
}
