package wasmgate

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

func env(vars map[string]string) (func(string) string, []string) {
	var list []string
	for k, v := range vars {
		list = append(list, k+"="+v)
	}
	return func(k string) string { return vars[k] }, list
}

func TestCGIRequestFromMetaVariables(t *testing.T) {
	getenv, environ := env(map[string]string{
		"REQUEST_METHOD":  "POST",
		"REQUEST_URI":     "/a/b?x=1",
		"SERVER_PROTOCOL": "HTTP/1.1",
		"HTTP_HOST":       "example.com:8080",
		"HTTP_X_TRACE_ID": "abc",
		"HTTP_PROXY":      "http://evil:1",
		"CONTENT_TYPE":    "text/plain",
		"CONTENT_LENGTH":  "5",
		"REMOTE_ADDR":     "::1",
		"REMOTE_PORT":     "4000",
		"HTTPS":           "on",
	})
	r, err := cgiRequest(getenv, environ, strings.NewReader("hello and more"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != "POST" || r.URL.Path != "/a/b" || r.URL.RawQuery != "x=1" || r.RequestURI != "/a/b?x=1" {
		t.Fatalf("request line: %s %s", r.Method, r.URL)
	}
	if r.URL.Scheme != "https" || r.Host != "example.com:8080" || r.ProtoMinor != 1 {
		t.Fatalf("scheme %q host %q proto %s", r.URL.Scheme, r.Host, r.Proto)
	}
	if r.Header.Get("X-Trace-Id") != "abc" || r.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("headers: %v", r.Header)
	}
	if _, ok := r.Header["Proxy"]; ok {
		t.Fatal("HTTP_PROXY became a Proxy header (httpoxy)")
	}
	if r.RemoteAddr != "[::1]:4000" {
		t.Fatalf("remote %q", r.RemoteAddr)
	}
	body, _ := io.ReadAll(r.Body)
	if string(body) != "hello" || r.ContentLength != 5 {
		t.Fatalf("body %q (length %d): only CONTENT_LENGTH bytes of stdin", body, r.ContentLength)
	}
}

func TestCGIRequestRefusesWhatIsNotCGI(t *testing.T) {
	for _, vars := range []map[string]string{
		{}, // not run by a CGI server
		{"REQUEST_METHOD": "GET", "REQUEST_URI": "no-slash"},
		{"REQUEST_METHOD": "GET", "REQUEST_URI": "/", "SERVER_PROTOCOL": "HTTP/x"},
		{"REQUEST_METHOD": "GET", "REQUEST_URI": "/", "CONTENT_LENGTH": "-1"},
		{"REQUEST_METHOD": "GET", "REQUEST_URI": "/", "CONTENT_LENGTH": "ten"},
	} {
		getenv, environ := env(vars)
		if _, err := cgiRequest(getenv, environ, strings.NewReader("")); err == nil {
			t.Errorf("%v: accepted", vars)
		}
	}
	// Without REQUEST_URI the path comes from SCRIPT_NAME, PATH_INFO and QUERY_STRING.
	getenv, environ := env(map[string]string{
		"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/app", "PATH_INFO": "/x", "QUERY_STRING": "q=2",
	})
	r, err := cgiRequest(getenv, environ, strings.NewReader(""))
	if err != nil || r.URL.Path != "/app/x" || r.URL.RawQuery != "q=2" || r.Body != http.NoBody {
		t.Fatalf("%v %v", r, err)
	}
}

func respond(t *testing.T, handle func(w http.ResponseWriter)) string {
	t.Helper()
	var out strings.Builder
	w := &cgiResponse{out: bufio.NewWriter(&out), header: http.Header{}}
	handle(w)
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if err := w.out.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestCGIResponse(t *testing.T) {
	got := respond(t, func(w http.ResponseWriter) {
		w.Header().Set("X-Evil", "a\r\nSet-Cookie: x=1")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "body")
		w.WriteHeader(http.StatusOK) // too late: ignored
	})
	want := "Status: 418 I'm a teapot\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"X-Evil: a Set-Cookie: x=1\r\n\r\nbody"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	// A status that cannot end a CGI response is a handler bug: 500.
	if got := respond(t, func(w http.ResponseWriter) { w.WriteHeader(103) }); !strings.HasPrefix(got, "Status: 500 ") {
		t.Fatalf("%q", got)
	}
	// Nothing written at all: 200 with no body.
	if got := respond(t, func(w http.ResponseWriter) {}); !strings.HasPrefix(got, "Status: 200 OK\r\n") {
		t.Fatalf("%q", got)
	}
}
