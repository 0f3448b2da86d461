package wasmgate

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The error-code table must list the cases of the shipped WIT in its order: the
// host sends the case's index.
func TestWASIErrorCodesMatchWIT(t *testing.T) {
	wit, err := os.ReadFile("wit/deps/http/types.wit")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(wit), "variant error-code {")
	if start < 0 {
		t.Fatal("no error-code variant in wit/deps/http/types.wit")
	}
	block := string(wit[start:])
	block = block[:strings.Index(block, "\n  }")]
	var cases []string
	caseLine := regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9-]*)(\(.*\))?,?\s*$`)
	for _, line := range strings.Split(block, "\n")[1:] {
		if m := caseLine.FindStringSubmatch(line); m != nil && !strings.HasPrefix(strings.TrimSpace(line), "///") {
			cases = append(cases, m[1])
		}
	}
	// The table is an array of 39 entries, so one comparison checks both the WIT and
	// the table (vet rejects comparing the same constant twice).
	if len(cases) != len(wasiErrorCodes) {
		t.Fatalf("WIT has %d cases, the table %d: %v", len(cases), len(wasiErrorCodes), cases)
	}
	for i, c := range cases {
		if wasiErrorCodes[i].name != c {
			t.Errorf("case %d: WIT %q, table %q", i, c, wasiErrorCodes[i].name)
		}
	}
	for tag, name := range map[int]string{
		wasiDNSError: "DNS-error", wasiTLSAlertReceived: "TLS-alert-received",
		wasiRequestDenied: "HTTP-request-denied", wasiRequestBodySize: "HTTP-request-body-size",
		wasiRequestHeaderSize: "HTTP-request-header-size", wasiResponseBodySize: "HTTP-response-body-size",
		wasiInternalError: "internal-error",
	} {
		if wasiErrorCodes[tag].name != name {
			t.Errorf("constant for %s is %d, which is %s", name, tag, wasiErrorCodes[tag].name)
		}
	}
}

func TestNewWASIError(t *testing.T) {
	e := newWASIError("outgoing-handler.handle", wasiRequestDenied, "", "http://127.0.0.1:9")
	if e.Code != ErrDenied || e.WASIErrorCode != "HTTP-request-denied" || !IsDenied(e) {
		t.Fatalf("%+v", e)
	}
	msg := e.Error()
	if strings.Count(msg, "wasmgate:") != 1 || !strings.Contains(msg, "--allow http://127.0.0.1:9") {
		t.Errorf("message %q", msg)
	}
	for tag, want := range map[int]int{
		4: ErrDestinationIPProhibited, 6: ErrConnectionRefused, 8: ErrConnectionTimeout,
		9: ErrReadTimeout, 11: ErrLimitReached, 12: ErrTLSProtocol, 13: ErrTLSCertificate,
		17: ErrRequestBodySize, 18: ErrBadMethod, 19: ErrBadURL, 28: ErrResponseBodySize,
		33: ErrResponseTimeout, 35: ErrProtocol, 38: ErrInternal, 0: ErrDNS, 1: ErrDNS,
	} {
		if got := newWASIError("op", tag, "x", "").Code; got != want {
			t.Errorf("%s maps to %d, want %d", wasiErrorCodes[tag].name, got, want)
		}
	}
	if e := newWASIError("op", 8, "", ""); !e.Timeout() || !IsTimeout(e) {
		t.Errorf("connection-timeout is not a timeout: %+v", e)
	}
	if e := newWASIError("op", 99, "", ""); e.Code != ErrInternal {
		t.Errorf("unknown case: %+v", e)
	}
}
