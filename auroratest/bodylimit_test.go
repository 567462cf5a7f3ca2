package auroratest_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nixrealis/nixrealis/auroratest"
)

// rawPost sends a POST to /api with the given headers and only the first
// bytes of a body of the declared length, and returns the response the
// server gives without waiting for the rest. A server that waited for the
// whole body would never answer; the read deadline turns that into a
// failure that says so.
func rawPost(t *testing.T, srv *auroratest.Server, header, head string) *http.Response {
	t.Helper()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	conn, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = io.WriteString(conn, "POST /api HTTP/1.1\r\nHost: "+u.Host+"\r\n"+header+"\r\n"+head)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(time.Minute)))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "no answer before the body was sent: the server is reading a body it should not")
	res.Body.Close()
	return res
}

func TestRequestBodyBounded(t *testing.T) {
	t.Parallel()
	srv := unstartedFastServer(nil)
	srv.Username, srv.Password = "aurora", "secret"
	srv.Start()
	defer srv.Close()
	const createJob = `[1,"createJob",1,0,{"1":{"rec":{`
	auth := "Authorization: Basic YXVyb3JhOnNlY3JldA==\r\n" // aurora:secret
	json := "Content-Type: application/vnd.apache.thrift.json\r\n"

	// 400 MB declared, 34 bytes sent: the unauthenticated createJob is
	// refused from its method name alone.
	res := rawPost(t, srv, json+"Content-Length: 400000000\r\n", createJob)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Equal(t, `Basic realm="Apache Aurora Scheduler"`, res.Header.Get("WWW-Authenticate"))
	// The same with a chunked body of unknown length.
	res = rawPost(t, srv, json+"Transfer-Encoding: chunked\r\n", fmt.Sprintf("%x\r\n%s\r\n", len(createJob), createJob))
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	// Wrong credentials are no better than none.
	res = rawPost(t, srv, json+"Authorization: Basic YXVyb3JhOndyb25n\r\nContent-Length: 400000000\r\n", createJob)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)

	// Authenticated but declared larger than the limit: 413 at once.
	res = rawPost(t, srv, json+auth+fmt.Sprintf("Content-Length: %d\r\n", auroratest.MaxRequestBytes+1), createJob)
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)

	// Authenticated, chunked, one byte over the limit: 413 once the limit
	// is passed.
	body := createJob + strings.Repeat(" ", auroratest.MaxRequestBytes+1-len(createJob))
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api", io.MultiReader(strings.NewReader(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/vnd.apache.thrift.json")
	req.SetBasicAuth("aurora", "secret")
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	msg, _ := io.ReadAll(r.Body)
	r.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode)
	assert.Contains(t, string(msg), "larger than the limit")

	// A read-only call needs no credentials and is still answered.
	getJobs := `[1,"getJobs",1,0,{"1":{"str":"vagrant"}}]`
	res = rawPost(t, srv, json+fmt.Sprintf("Content-Length: %d\r\n", len(getJobs)), getJobs)
	assert.Equal(t, http.StatusOK, res.StatusCode)
}
