// Package fastio reads and writes sockets with raw system calls.
//
// A Go program that makes a system call tells the scheduler first; when the call lasts past one tick of
// the runtime's monitor thread (sysmon, 20 µs while it has work), the monitor takes the processor away
// from the thread in the call and hands it to another. With one P, as nbtunnel runs, an SSH forward at
// full speed spends most of its time in reads and writes of tens of microseconds on non-blocking sockets:
// every such hand-off is a thread switch, and it keeps the monitor polling every 20 µs (a nanosleep and
// a context switch each). A read or write on a non-blocking socket never sleeps in the kernel, so it may
// run as a raw system call, unseen by the scheduler: Wrap makes a connection do that, and wait on Go's
// poller as before when the socket is not ready. Deadlines and Close work as on the wrapped connection.
package fastio
