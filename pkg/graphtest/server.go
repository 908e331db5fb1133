// Package graphtest is an in-process double of Microsoft Graph, beside
// entratest (the Entra double) and in the same spirit: NewServer starts a
// real HTTP listener on a loopback port that answers a few Graph calls
// (/me, the signed-in user's events and calendar view, sendMail) under
// /v1.0 and /beta the way Graph does on the wire.
//
// It checks the bearer token as a resource server does: the token must be
// one the Entra double issued (standing in for the signature check), for
// Graph's audience, unexpired, and carry a scope the call needs; failures
// get Graph's 401 and 403 answers. Knobs inject throttling (429 or 503 with
// Retry-After), set the page size of collections (@odata.nextLink), and
// answer tokens issued before a moment with a claims challenge, as
// Continuous Access Evaluation does after a session is revoked.
//
// It is ordinary (non-test) code, like entratest, and not a security
// boundary.
package graphtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entratest"
)

// Resource is Graph's audience, as the Entra double writes it.
const Resource = "https://graph.microsoft.com"

// Issuer looks up tokens: *entratest.Server does.
type Issuer interface {
	LookupAccessToken(token string) (entratest.TokenInfo, bool)
}

// Event is a calendar event, in the fields scripts read most.
type Event struct {
	ID      string
	Subject string
	Start   time.Time
	End     time.Time
}

// Request is what the double recorded of one request.
type Request struct {
	Method, Path, RawQuery string
	Authorization          string // the header as sent
	Body                   string
}

// Message is a message sent with sendMail.
type Message struct {
	From string
	JSON map[string]any // the request body's "message"
}

// Server is a running Graph double.
type Server struct {
	// URL is the Graph root, http://127.0.0.1:port, without a version.
	URL string

	ln     net.Listener
	srv    *http.Server
	issuer Issuer

	mu              sync.Mutex
	now             func() time.Time
	events          []Event
	pageSize        int
	failures        []failure
	challengeBefore time.Time
	challengeClaims string
	requests        []Request
	sent            []Message
}

type failure struct {
	status     int
	retryAfter string
}

// NewServer starts a double that trusts the tokens issuer issued.
func NewServer(issuer Issuer) *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("graphtest: cannot listen: " + err.Error())
	}
	s := &Server{URL: "http://" + ln.Addr().String(), ln: ln, issuer: issuer, now: time.Now, pageSize: 10}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetClock sets the clock tokens' expiry is checked against.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// AddEvents adds events to the user's calendar (every user sees them).
func (s *Server) AddEvents(events ...Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, events...)
}

// SetPageSize sets how many items a collection page holds (Graph's
// default page size, which $top lowers).
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// Throttle answers the next n requests with status (429 or 503) and a
// Retry-After of retryAfter ("" for none).
func (s *Server) Throttle(n, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, failure{status, retryAfter})
	}
}

// ChallengeOlderTokens answers every token issued before now with a claims
// challenge, as Continuous Access Evaluation does after an event such as a
// revoked session: the claims ask for a token issued after it.
func (s *Server) ChallengeOlderTokens() (claims string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.challengeBefore = s.now()
	s.challengeClaims = fmt.Sprintf(`{"access_token":{"nbf":{"essential":true,"value":"%d"}}}`, s.challengeBefore.Unix())
	return s.challengeClaims
}

// Requests returns what was received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Sent returns the messages sent with sendMail.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Authorization: r.Header.Get("Authorization"), Body: string(body)})
	w.Header().Set("request-id", newID())
	if len(s.failures) > 0 {
		f := s.failures[0]
		s.failures = s.failures[1:]
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		code := "TooManyRequests"
		msg := "Too many requests; retry later."
		if f.status != http.StatusTooManyRequests {
			code, msg = "serviceNotAvailable", "The service is temporarily unavailable; retry later."
		}
		writeError(w, f.status, code, msg)
		return
	}
	info, ok := s.authenticateLocked(w, r)
	if !ok {
		return
	}
	version, path, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if version != "v1.0" && version != "beta" {
		writeError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid version: %s", version))
		return
	}
	route := r.Method + " /" + path
	switch route {
	case "GET /me":
		if s.allowLocked(w, info, "User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All") {
			writeJSON(w, http.StatusOK, map[string]any{
				"@odata.context": s.URL + "/" + version + "/$metadata#users/$entity",
				"id":             info.OID, "userPrincipalName": info.Username, "mail": info.Username,
			})
		}
	case "GET /me/events", "GET /me/calendarView", "GET /me/calendar/events", "GET /me/calendar/calendarView":
		if s.allowLocked(w, info, "Calendars.Read", "Calendars.ReadWrite", "Calendars.Read.Shared", "Calendars.ReadWrite.Shared") {
			s.listEventsLocked(w, r, version, path)
		}
	case "POST /me/sendMail":
		if s.allowLocked(w, info, "Mail.Send", "Mail.Send.Shared") {
			s.sendMailLocked(w, info, body)
		}
	default:
		writeError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("Resource not found for the segment '%s'.", path))
	}
}

// authenticateLocked checks the bearer token and answers 401 when it does
// not do.
func (s *Server) authenticateLocked(w http.ResponseWriter, r *http.Request) (entratest.TokenInfo, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	challenge := `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`
	fail := func(msg string) (entratest.TokenInfo, bool) {
		w.Header().Set("WWW-Authenticate", challenge)
		writeError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return entratest.TokenInfo{}, false
	}
	if !ok || token == "" {
		return fail("Access token is empty.")
	}
	info, ok := s.issuer.LookupAccessToken(token)
	switch {
	case !ok:
		return fail("IDX14100: JWT is not well formed.")
	case info.Resource != Resource && info.Resource != "00000003-0000-0000-c000-000000000000":
		return fail("Invalid audience.")
	case !s.now().Before(info.ExpiresAt):
		return fail("Lifetime validation failed, the token is expired.")
	case info.IssuedAt.Before(s.challengeBefore):
		w.Header().Set("WWW-Authenticate", challenge+`, error="insufficient_claims", claims="`+base64.StdEncoding.EncodeToString([]byte(s.challengeClaims))+`"`)
		writeError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Continuous access evaluation resulted in challenge with result: InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp")
		return entratest.TokenInfo{}, false
	}
	return info, true
}

// allowLocked answers 403 unless the token has one of scopes.
func (s *Server) allowLocked(w http.ResponseWriter, info entratest.TokenInfo, scopes ...string) bool {
	for _, have := range info.Scopes {
		for _, want := range scopes {
			if strings.EqualFold(have, want) {
				return true
			}
		}
	}
	writeError(w, http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
	return false
}

func (s *Server) listEventsLocked(w http.ResponseWriter, r *http.Request, version, path string) {
	q := r.URL.Query()
	if strings.HasSuffix(path, "calendarView") && (q.Get("startDateTime") == "" || q.Get("endDateTime") == "") {
		writeError(w, http.StatusBadRequest, "ErrorInvalidParameter", "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.")
		return
	}
	size := s.pageSize
	if top, err := strconv.Atoi(q.Get("$top")); err == nil && top > 0 {
		size = min(size, top)
	}
	skip, _ := strconv.Atoi(q.Get("$skiptoken"))
	end := min(skip+size, len(s.events))
	value := []map[string]any{}
	for _, e := range s.events[min(skip, end):end] {
		value = append(value, map[string]any{
			"id": e.ID, "subject": e.Subject,
			"start": map[string]string{"dateTime": e.Start.UTC().Format("2006-01-02T15:04:05.0000000"), "timeZone": "UTC"},
			"end":   map[string]string{"dateTime": e.End.UTC().Format("2006-01-02T15:04:05.0000000"), "timeZone": "UTC"},
		})
	}
	page := map[string]any{"@odata.context": s.URL + "/" + version + "/$metadata#users('me')/events", "value": value}
	if end < len(s.events) {
		q.Set("$skiptoken", strconv.Itoa(end))
		page["@odata.nextLink"] = s.URL + r.URL.Path + "?" + q.Encode()
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) sendMailLocked(w http.ResponseWriter, info entratest.TokenInfo, body []byte) {
	var req struct {
		Message map[string]any `json:"message"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Message == nil {
		writeError(w, http.StatusBadRequest, "ErrorInvalidRequest", "Empty Payload. JSON content expected.")
		return
	}
	if to, _ := req.Message["toRecipients"].([]any); len(to) == 0 {
		writeError(w, http.StatusBadRequest, "ErrorInvalidRecipients", "At least one recipient isn't valid., A message can't be sent because it contains no recipients.")
		return
	}
	s.sent = append(s.sent, Message{From: info.Username, JSON: req.Message})
	w.WriteHeader(http.StatusAccepted)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError writes Graph's error shape.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]string{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": w.Header().Get("request-id"), "client-request-id": w.Header().Get("request-id")},
	}})
}

func newID() string {
	var b [16]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		panic(err)
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
