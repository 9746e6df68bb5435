package main

import (
	"context"
	"errors"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

func (e *env) resolvePutty(ctx context.Context, session string) (*hostconf.Host, error) {
	return nil, errors.New("PuTTY sessions are not supported yet")
}
