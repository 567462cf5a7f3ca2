package auroratest

import (
	"bytes"
	"context"
	"net/http"
	"time"
)

// withLatency delays every answer of h until Latency (real time) after
// the call arrived, as a real scheduler's calls take tens of
// milliseconds. The call is served at once, with a context the client
// cannot cancel, so it takes effect even when the client gives up
// waiting for the answer.
func (s *Server) withLatency(h http.Handler) http.Handler {
	if s.Latency <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		rec := &recorder{header: http.Header{}, code: http.StatusOK}
		h.ServeHTTP(rec, r.WithContext(context.WithoutCancel(r.Context())))
		timer := time.NewTimer(time.Until(arrived.Add(s.Latency)))
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return // the client gave up; the call took effect anyway
		case <-s.ctx.Done():
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.code)
		w.Write(rec.body.Bytes())
	})
}

// recorder buffers a response until it may be sent.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.code = code }
