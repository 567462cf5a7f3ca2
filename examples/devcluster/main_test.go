package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	realis "github.com/paypal/gorealis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-port", "0", "-user", "aurora", "-password", "secret"}, &out, &errOut)
	}()

	url := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	require.Eventually(t, func() bool { return url.MatchString(out.String()) }, 10*time.Second, 5*time.Millisecond)
	r, err := realis.NewRealisClient(realis.SchedulerUrl(url.FindString(out.String())),
		realis.BasicAuth("aurora", "secret"), realis.SetLogger(realis.NoopLogger{}))
	require.NoError(t, err)
	defer r.Close()
	_, jobs, err := r.GetJobs("")
	require.NoError(t, err)
	assert.Empty(t, jobs.Configs)

	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, out.String(), "stopping")
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-executor", "docker"}, `-executor "docker": must be nop or thermos`},
		{[]string{"-user", "aurora"}, "-user and -password: give both"},
		{[]string{"-port", "70000"}, "-port 70000: must be between 0 and 65535"},
		{[]string{"-timescale", "0"}, "-timescale 0: must be positive"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut syncBuffer
			err := run(t.Context(), tt.args, &out, &errOut)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
