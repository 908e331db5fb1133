// Package graphsim is an in-process simulator of Microsoft Graph, beside
// entrasim (the Entra simulator) and in the same spirit; it ships in the
// binary, where the sandbox's api answers come from it (NewSandbox), and
// serves the tests: NewServer starts a real HTTP listener on a loopback
// port that answers a few Graph calls
// (/me, the signed-in user's events and calendar view, sendMail) under
// /v1.0 and /beta the way Graph does on the wire.
//
// It checks the bearer token as a resource server does: the token must be
// one the Entra double issued (standing in for the signature check), for
// Graph's audience, unexpired, and carry a scope the call needs; failures
// get Graph's 401 and 403 answers. Knobs inject throttling (429 or 503 with
// Retry-After), broken connections (reset, cut short, stalled, refused),
// set the page size of collections (@odata.nextLink; delta queries end with
// @odata.deltaLink), and answer tokens issued before a moment with a claims
// challenge, as Continuous Access Evaluation does after a session is
// revoked.
//
// It is ordinary (non-test) code, like entrasim, and not a security
// boundary.
package graphsim

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// Resource is Graph's audience, as the Entra double writes it.
const Resource = "https://graph.microsoft.com"

// Issuer looks up tokens: *entrasim.Server does.
type Issuer interface {
	LookupAccessToken(token string) (entrasim.TokenInfo, bool)
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

	ln       net.Listener
	srv      *http.Server
	issuer   Issuer
	hijacked []net.Conn

	mu              sync.Mutex
	now             func() time.Time
	events          []Event
	pageSize        int
	failures        []failure
	challengeBefore time.Time
	challengeClaims string
	requests        []Request
	sent            []Message
	outage          *outage
	user            map[string]any // more fields of /me (SetUser)
	messages        []MailMessage
	windowed        bool // calendarView answers only the events in its window
}

type failure struct {
	status     int
	retryAfter string
	cut        Cut
}

type outage struct {
	after    int // requests still answered before it
	duration time.Duration
}

// Cut is a way a connection breaks (see CutConnections).
type Cut int

const (
	// CutBeforeAnswer handles the request, then resets the connection
	// before any answer: the client cannot know whether it was applied.
	CutBeforeAnswer Cut = iota + 1
	// CutMidAnswer sends the status, headers (with the whole
	// Content-Length) and half the body, then closes the connection.
	CutMidAnswer
	// Stall sends the status, headers and half the body, then sends
	// nothing more until the client gives up.
	Stall
)

// NewServer starts a double that trusts the tokens issuer issued.
func NewServer(issuer Issuer) *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("graphsim: cannot listen: " + err.Error())
	}
	s := &Server{URL: "http://" + ln.Addr().String(), ln: ln, issuer: issuer, now: time.Now, pageSize: 10}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s
}

// Close stops the server.
func (s *Server) Close() {
	s.srv.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		s.ln.Close()
	}
	for _, c := range s.hijacked {
		c.Close()
	}
}

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

// Throttle answers the next n requests with status (429, 503 or 504) and
// a Retry-After of retryAfter ("" for none): seconds or an HTTP-date.
func (s *Server) Throttle(n, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, failure{status: status, retryAfter: retryAfter})
	}
}

// CutConnections breaks the connections of the next n requests as how
// says.
func (s *Server) CutConnections(n int, how Cut) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, failure{cut: how})
	}
}

// GoDown answers the next after requests (none: at once), then stops
// listening for d, so that connections are refused, as when a front end
// restarts. The last answer before the outage closes its connection.
func (s *Server) GoDown(after int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if after == 0 {
		s.goDownLocked(d)
		return
	}
	s.outage = &outage{after: after, duration: d}
}

// ChallengeOlderTokens answers every token issued before now with a claims
// challenge, as Continuous Access Evaluation does after an event such as a
// revoked session: the claims ask for a token issued after it.
//
// Less faithful than Graph: Graph sends claims challenges only to clients
// that declared the "cp1" capability (xms_cc) in their token requests
// (learn.microsoft.com/entra/identity-platform/claims-challenge); this
// double challenges every token.
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
	if o := s.outage; o != nil {
		if o.after--; o.after == 0 {
			s.outage = nil
			w.Header().Set("Connection", "close")
			s.goDownLocked(o.duration)
		}
	}
	if len(s.failures) > 0 {
		f := s.failures[0]
		s.failures = s.failures[1:]
		if f.cut != 0 {
			rec := httptest.NewRecorder()
			rec.Header().Set("request-id", w.Header().Get("request-id"))
			s.routeLocked(rec, r, body)
			s.cutLocked(w, rec, f.cut)
			return
		}
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		code, msg := "TooManyRequests", "Too many requests; retry later."
		switch f.status {
		case http.StatusServiceUnavailable:
			code, msg = "serviceNotAvailable", "The service is temporarily unavailable; retry later."
		case http.StatusGatewayTimeout:
			code, msg = "UnknownError", "The gateway did not receive a timely answer."
		}
		writeError(w, f.status, code, msg)
		return
	}
	s.routeLocked(w, r, body)
}

// goDownLocked closes the listener and opens it again on the same port
// after d.
func (s *Server) goDownLocked(d time.Duration) {
	addr := s.ln.Addr().String()
	s.ln.Close()
	s.ln = nil
	time.AfterFunc(d, func() {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			panic("graphsim: cannot listen again on " + addr + ": " + err.Error())
		}
		s.mu.Lock()
		s.ln = ln
		s.mu.Unlock()
		go s.srv.Serve(ln)
	})
}

// cutLocked sends what how lets through of the recorded answer on the raw
// connection.
func (s *Server) cutLocked(w http.ResponseWriter, rec *httptest.ResponseRecorder, how Cut) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic("graphsim: cannot hijack: " + err.Error())
	}
	if how == CutBeforeAnswer {
		if tcp, ok := conn.(*net.TCPConn); ok {
			tcp.SetLinger(0) // a reset, not an orderly close
		}
		conn.Close()
		return
	}
	resp := rec.Result()
	body := rec.Body.Bytes()
	resp.ContentLength = int64(len(body))
	resp.Body = io.NopCloser(bytes.NewReader(body[:len(body)/2]))
	var head bytes.Buffer
	resp.Write(&head) // the head and half the body; Write does not check the length
	buf.Write(head.Bytes())
	buf.Flush()
	if how == CutMidAnswer {
		conn.Close()
		return
	}
	s.hijacked = append(s.hijacked, conn)
	go io.Copy(io.Discard, conn) // until the client (or Close) ends it
}

func (s *Server) routeLocked(w http.ResponseWriter, r *http.Request, body []byte) {
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
			me := map[string]any{
				"@odata.context": s.URL + "/" + version + "/$metadata#users/$entity",
				"id":             info.OID, "userPrincipalName": info.Username, "mail": info.Username,
			}
			for k, v := range s.user {
				me[k] = v
			}
			writeJSON(w, http.StatusOK, me)
		}
	case "GET /me/messages", "GET /me/mailFolders/inbox/messages":
		if s.allowLocked(w, info, "Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite", "Mail.Read.Shared") {
			s.listMessagesLocked(w, r, version)
		}
	case "GET /me/events", "GET /me/calendarView", "GET /me/calendar/events", "GET /me/calendar/calendarView", "GET /me/calendarView/delta":
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
func (s *Server) authenticateLocked(w http.ResponseWriter, r *http.Request) (entrasim.TokenInfo, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	challenge := `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`
	fail := func(msg string) (entrasim.TokenInfo, bool) {
		w.Header().Set("WWW-Authenticate", challenge)
		writeError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return entrasim.TokenInfo{}, false
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
		return entrasim.TokenInfo{}, false
	}
	return info, true
}

// allowLocked answers 403 unless the token has one of scopes.
func (s *Server) allowLocked(w http.ResponseWriter, info entrasim.TokenInfo, scopes ...string) bool {
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

// listEventsLocked answers a page of events. A delta query
// (calendarView/delta) pages through @odata.nextLink links that carry
// only a $skiptoken, and its last page has an @odata.deltaLink whose
// $deltatoken later returns only the events added since, as Graph's
// delta query does (learn.microsoft.com/graph/delta-query-overview).
func (s *Server) listEventsLocked(w http.ResponseWriter, r *http.Request, version, path string) {
	q := r.URL.Query()
	delta := strings.HasSuffix(path, "/delta")
	skip, _ := strconv.Atoi(q.Get("$skiptoken"))
	from := 0
	if delta && q.Has("$deltatoken") {
		from, _ = strconv.Atoi(q.Get("$deltatoken"))
	}
	resumed := delta && (q.Has("$skiptoken") || q.Has("$deltatoken"))
	if strings.Contains(path, "calendarView") && !resumed && (q.Get("startDateTime") == "" || q.Get("endDateTime") == "") {
		writeError(w, http.StatusBadRequest, "ErrorInvalidParameter", "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.")
		return
	}
	events := s.events
	if s.windowed && strings.HasSuffix(path, "calendarView") {
		events = inWindow(events, q.Get("startDateTime"), q.Get("endDateTime"))
	}
	size := s.pageSize
	if top, err := strconv.Atoi(q.Get("$top")); err == nil && top > 0 {
		size = min(size, top)
	}
	skip = max(skip, from)
	end := min(skip+size, len(events))
	value := []map[string]any{}
	for _, e := range events[min(skip, end):end] {
		value = append(value, map[string]any{
			"id": e.ID, "subject": e.Subject,
			"start": map[string]string{"dateTime": e.Start.UTC().Format("2006-01-02T15:04:05.0000000"), "timeZone": "UTC"},
			"end":   map[string]string{"dateTime": e.End.UTC().Format("2006-01-02T15:04:05.0000000"), "timeZone": "UTC"},
		})
	}
	page := map[string]any{"@odata.context": s.URL + "/" + version + "/$metadata#users('me')/events", "value": value}
	link := s.URL + r.URL.Path + "?"
	switch {
	case end < len(events) && delta:
		page["@odata.nextLink"] = link + "$skiptoken=" + strconv.Itoa(end)
	case end < len(events):
		q.Set("$skiptoken", strconv.Itoa(end))
		// Graph writes the $ of system query options as it is.
		page["@odata.nextLink"] = link + strings.ReplaceAll(q.Encode(), "%24", "$")
	case delta:
		page["@odata.deltaLink"] = link + "$deltatoken=" + strconv.Itoa(end)
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) sendMailLocked(w http.ResponseWriter, info entrasim.TokenInfo, body []byte) {
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
