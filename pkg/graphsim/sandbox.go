package graphsim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// MailMessage is a message in the mailbox, in the fields scripts read most.
type MailMessage struct {
	ID       string
	Subject  string
	From     string // an address
	FromName string
	Received time.Time
	Preview  string
	Read     bool
}

// SetUser adds fields to the answer of /me (displayName, jobTitle, ...).
func (s *Server) SetUser(fields map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user = fields
}

// AddMessages puts messages into the inbox; /me/messages lists them
// newest first, as Graph does by default.
func (s *Server) AddMessages(messages ...MailMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, messages...)
}

// NewSandbox starts the Graph stand-in of the sandbox (ms365auth link
// --sandbox): a small mailbox and a calendar with events spread over the
// weeks around now, more than a page of them, for the signed-in user.
//
// The sandbox's Entra stand-in lives only while link --sandbox runs, so no
// issuer is left to ask about its tokens later; this double reads the
// claims of the access token instead, and accepts only tokens minted for
// clientID, the sandbox's app. Like the rest of this package, it is not a
// security boundary: its data is made up and it listens on loopback only.
func NewSandbox(clientID string, now time.Time) *Server {
	s := NewServer(claimsIssuer{clientID: clientID})
	s.SetUser(map[string]any{
		"displayName": entrasim.DefaultName, "givenName": "Adele", "surname": "Vance",
		"jobTitle": "Retail Manager", "officeLocation": "18/2111", "preferredLanguage": "en-US",
		"businessPhones": []string{"+1 425 555 0109"}, "mobilePhone": nil,
	})
	s.windowed = true
	s.SetPageSize(10)

	// Four weeks of a working life, from the Monday of last week: a
	// stand-up every weekday morning, and a few meetings besides.
	now = now.UTC()
	monday := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	monday = monday.AddDate(0, 0, -int((monday.Weekday()+6)%7)-7)
	at := func(day, hour, minute int) time.Time {
		return monday.AddDate(0, 0, day).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
	}
	others := map[int]Event{
		1:  {Subject: "Quarterly sales review", Start: at(1, 14, 0), End: at(1, 15, 30)},
		3:  {Subject: "Lunch with Megan", Start: at(3, 12, 0), End: at(3, 13, 0)},
		8:  {Subject: "Store layout workshop", Start: at(8, 10, 0), End: at(8, 12, 0)},
		9:  {Subject: "1:1 with Nestor", Start: at(9, 15, 0), End: at(9, 15, 30)},
		11: {Subject: "Supplier call: Fabrikam", Start: at(11, 16, 0), End: at(11, 16, 45)},
		15: {Subject: "Team offsite planning", Start: at(15, 13, 0), End: at(15, 14, 0)},
		18: {Subject: "Inventory count", Start: at(18, 8, 0), End: at(18, 11, 0)},
		23: {Subject: "1:1 with Nestor", Start: at(23, 15, 0), End: at(23, 15, 30)},
	}
	var events []Event
	for day := 0; day < 28; day++ {
		if day%7 < 5 {
			events = append(events, Event{Subject: "Daily stand-up", Start: at(day, 9, 0), End: at(day, 9, 15)})
		}
		if e, ok := others[day]; ok {
			events = append(events, e)
		}
	}
	// In order of start, as a person reads a calendar.
	slices.SortStableFunc(events, func(a, b Event) int { return a.Start.Compare(b.Start) })
	for i := range events {
		events[i].ID = "AAMkAGI2" + strconv.Itoa(1000+i)
	}
	s.AddEvents(events...)

	s.AddMessages(
		MailMessage{Subject: "Welcome to the ms365auth sandbox", From: "sandbox@contoso.example", FromName: "ms365auth sandbox",
			Received: now.Add(-10 * time.Minute), Preview: "Everything here is made up: this mailbox lives on your machine while the command runs."},
		MailMessage{Subject: "Re: Store layout workshop", From: "megan@contoso.example", FromName: "Megan Bowen",
			Received: now.Add(-3 * time.Hour), Preview: "Works for me, I will bring the floor plans.", Read: true},
		MailMessage{Subject: "Your expense report was approved", From: "expenses@contoso.example", FromName: "Expenses",
			Received: now.Add(-26 * time.Hour), Preview: "Report ER-2041 (travel, 3 items) was approved by Nestor Wilke.", Read: true},
		MailMessage{Subject: "Fabrikam price list 2027", From: "orders@fabrikam.example", FromName: "Fabrikam Orders",
			Received: now.Add(-50 * time.Hour), Preview: "Please find attached our price list for the coming year."},
		MailMessage{Subject: "Inventory count: volunteers needed", From: "nestor@contoso.example", FromName: "Nestor Wilke",
			Received: now.Add(-75 * time.Hour), Preview: "We need four people for the count on the 18th. Reply if you can help.", Read: true},
	)
	return s
}

// claimsIssuer looks up an access token by its claims, for tokens whose
// issuer is gone: the payload of a JWT the Entra double minted.
type claimsIssuer struct{ clientID string }

func (c claimsIssuer) LookupAccessToken(token string) (entrasim.TokenInfo, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return entrasim.TokenInfo{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return entrasim.TokenInfo{}, false
	}
	var claims struct {
		Aud, AppID, Scp, OID, UPN, TID string
		Iat, Exp                       int64
	}
	if json.Unmarshal(payload, &claims) != nil || claims.AppID != c.clientID {
		return entrasim.TokenInfo{}, false
	}
	return entrasim.TokenInfo{
		ClientID: claims.AppID, Username: claims.UPN, OID: claims.OID, TenantID: claims.TID,
		Resource: claims.Aud, Scopes: strings.Fields(claims.Scp),
		IssuedAt: time.Unix(claims.Iat, 0), ExpiresAt: time.Unix(claims.Exp, 0),
	}, true
}

// inWindow keeps the events that overlap the window a calendarView asks
// for (dates as Graph takes them, with or without a zone); a window it
// cannot read keeps them all.
func inWindow(events []Event, start, end string) []Event {
	from, err1 := parseGraphTime(start)
	to, err2 := parseGraphTime(end)
	if err1 != nil || err2 != nil {
		return events
	}
	var out []Event
	for _, e := range events {
		if e.End.After(from) && e.Start.Before(to) {
			out = append(out, e)
		}
	}
	return out
}

func parseGraphTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05", v)
}

// listMessagesLocked answers the inbox, newest first, a page at a time.
func (s *Server) listMessagesLocked(w http.ResponseWriter, r *http.Request, version string) {
	q := r.URL.Query()
	skip, _ := strconv.Atoi(q.Get("$skip"))
	size := s.pageSize
	if top, err := strconv.Atoi(q.Get("$top")); err == nil && top > 0 {
		size = min(size, top)
	}
	end := min(skip+size, len(s.messages))
	value := []map[string]any{}
	for i := min(skip, end); i < end; i++ {
		m := s.messages[i]
		if m.ID == "" {
			m.ID = "AAMkAGI2TQ" + strconv.Itoa(2000+i)
		}
		from := map[string]any{"emailAddress": map[string]string{"name": m.FromName, "address": m.From}}
		value = append(value, map[string]any{
			"id": m.ID, "subject": m.Subject, "bodyPreview": m.Preview, "isRead": m.Read,
			"receivedDateTime": m.Received.UTC().Format(time.RFC3339), "from": from, "sender": from,
		})
	}
	page := map[string]any{"@odata.context": s.URL + "/" + version + "/$metadata#users('me')/messages", "value": value}
	if end < len(s.messages) {
		q.Set("$skip", strconv.Itoa(end))
		page["@odata.nextLink"] = s.URL + r.URL.Path + "?" + strings.ReplaceAll(q.Encode(), "%24", "$")
	}
	writeJSON(w, http.StatusOK, page)
}
