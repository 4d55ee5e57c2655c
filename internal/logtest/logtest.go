// Package logtest reads back, in tests, what the product logged.
package logtest

import (
	"bytes"
	"sync"
)

// Buffer is a log sink that goroutines (a server's handlers and workers, a
// child process's output copier) may write at once, and a test may read
// while they still do. The zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
