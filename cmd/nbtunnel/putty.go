package main

import (
	"context"
	"errors"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

func (e *env) puttyStore() (hostconf.PuttyStore, error) {
	return hostconf.NewPuttyStore(homeDir(e.getenv), e.getenv)
}

func (e *env) resolvePutty(ctx context.Context, session string) (*hostconf.Host, error) {
	store, err := e.puttyStore()
	if err != nil {
		return nil, err
	}
	return hostconf.ResolvePutty(ctx, store, session)
}

var errPuttyTODO = errors.New("not supported yet for PuTTY sessions")

func (e *env) installPutty(ctx context.Context, session string, remove, dryRun bool) int {
	return e.ui.fail(session, "", errPuttyTODO)
}

func (e *env) writePuttyForward(ctx context.Context, session string, port int, target string, dryRun bool) int {
	return e.ui.fail(session, "", errPuttyTODO)
}

func (e *env) removePuttyForward(ctx context.Context, session string, dryRun bool) int {
	return e.ui.fail(session, "", errPuttyTODO)
}
