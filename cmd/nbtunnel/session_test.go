package main

import (
	"strings"
	"testing"
)

func TestClassifySSH(t *testing.T) {
	tests := []struct {
		argv string // split on spaces; "_" stands for a space inside an argument
		want sessionKind
	}{
		{"ssh lab", sessionInteractive},
		{"/usr/bin/ssh -F cfg lab", sessionInteractive},
		{"ssh -N lab", sessionInteractive},
		{"ssh -fN -L 8888:localhost:8888 lab", sessionInteractive},
		{"ssh -t lab tmux_attach", sessionInteractive},
		{"ssh -o RequestTTY=force lab htop", sessionInteractive},
		{"ssh -oSessionType=none lab", sessionInteractive},
		{"ssh lab -v", sessionInteractive},
		{"ssh -p 2222 -l me lab", sessionInteractive},
		{"ssh lab true", sessionBatch},
		{"ssh -F cfg lab echo_ready;_cat", sessionBatch},
		{"ssh lab -v uptime", sessionBatch},
		{"ssh -- lab ls", sessionBatch},
		{"ssh -p2222 lab ls", sessionBatch},
		{"ssh -o RemoteCommand=uptime lab", sessionBatch},
		{"ssh -o RemoteCommand=none lab", sessionInteractive},
		// scp (sftp mode, OpenSSH 9) and sftp
		{"/usr/bin/ssh -x -oPermitLocalCommand=no -oClearAllForwardings=yes -oRemoteCommand=none -oRequestTTY=no -oControlMaster=no -oForwardAgent=no -l root -s -- lab sftp", sessionBatch},
		{"/usr/bin/ssh -oForwardX11_no -oPermitLocalCommand_no -oClearAllForwardings_yes -oForwardAgent_no -oServerAliveInterval_15 -s lab sftp", sessionBatch},
		// scp -O (legacy protocol), rsync, git
		{"/usr/bin/ssh -x -oPermitLocalCommand=no -oClearAllForwardings=yes -oRemoteCommand=none -oRequestTTY=no -oControlMaster=no -oForwardAgent=no -l root -- lab scp_-t_/tmp", sessionBatch},
		{"ssh -l root lab rsync --server -vlogDtpre.iLsfxCIvu . /tmp", sessionBatch},
		{"ssh -o SendEnv=GIT_PROTOCOL lab git-upload-pack_'repo.git'", sessionBatch},
		// ssh as a jump (ProxyJump through this host), control commands, -G
		{"ssh -W [10.0.0.2]:22 jump", sessionBatch},
		{"ssh -O check lab", sessionBatch},
		{"ssh -G lab", sessionBatch},
		// not OpenSSH
		{"plink -load lab", sessionUnknown},
		{"putty", sessionUnknown},
		{"", sessionUnknown},
	}
	for _, tt := range tests {
		var argv []string
		for _, a := range strings.Fields(tt.argv) {
			argv = append(argv, strings.ReplaceAll(a, "_", " "))
		}
		if got := classifySSH(argv); got != tt.want {
			t.Errorf("classifySSH(%q) = %d, want %d", tt.argv, got, tt.want)
		}
	}
}
