package entrasim

import (
	"net/http"
	"strconv"
	"strings"
)

// Misbehaviour is how an endpoint fails below the level of OAuth errors: the
// way a dropped connection, a stalled proxy or a hostile network does.
type Misbehaviour struct {
	// RedirectTo answers 307 Temporary Redirect to this URL; a client that
	// followed it would POST the same form (refresh token, client secret)
	// there.
	RedirectTo string
	// Truncate sends the headers and half of a body whose Content-Length
	// promises more, then drops the connection.
	Truncate bool
	// StallBody sends the headers and half of the body, then waits until
	// the client gives up.
	StallBody bool
	// EchoForm answers 400 invalid_request with the request's form, secrets
	// and all, in error_description, as a careless server or proxy might.
	EchoForm bool
}

// Misbehave makes the next n answers of the token, device code and
// discovery endpoints misbehave as m says; n = 0 turns it off.
func (s *Server) Misbehave(n int, m Misbehaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.misbehaveN, s.misbehaviour = n, m
}

// misbehaved carries out a pending misbehaviour, if any, and reports
// whether it answered the request.
func (s *Server) misbehaved(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	if s.misbehaveN == 0 {
		s.mu.Unlock()
		return false
	}
	s.misbehaveN--
	m := s.misbehaviour
	s.mu.Unlock()
	switch {
	case m.EchoForm:
		r.ParseForm()
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_codes": []int{900144},
			"error_description": "AADSTS900144: The request body must contain the following parameter: 'nonsense'. Received: " + r.PostForm.Encode()})
	case m.RedirectTo != "":
		http.Redirect(w, r, m.RedirectTo, http.StatusTemporaryRedirect)
	case m.Truncate || m.StallBody:
		body := `{"token_type":"Bearer","scope":"openid","expires_in":3599,"access_token":"` + strings.Repeat("x", 64) + `"}`
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(body[:len(body)/2]))
		w.(http.Flusher).Flush()
		if m.StallBody {
			<-r.Context().Done()
			return true
		}
		// Returning with fewer bytes written than promised makes net/http
		// close the connection: the client reads an unexpected EOF.
	}
	return true
}
