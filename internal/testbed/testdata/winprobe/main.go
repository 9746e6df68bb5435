// Command winprobe prints what a Windows program sees under the test bed's Wine prefix: its arguments, the
// profile variables, and one registry value. It is built by wine_test.go with GOOS=windows.
package main

import (
	"fmt"
	"os"
)

func main() {
	for i, a := range os.Args[1:] {
		fmt.Printf("arg%d=%s\n", i, a)
	}
	for _, k := range []string{"USERPROFILE", "APPDATA", "NBTUNNEL_PROBE"} {
		fmt.Printf("%s=%s\n", k, os.Getenv(k))
	}
	if len(os.Args) > 1 {
		b, err := os.ReadFile(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Printf("file=%s\n", b)
	}
}
