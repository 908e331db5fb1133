package graph

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Call is what a person asks of Graph on the command line: a path or URL,
// a method, headers "Name: value", key=value fields (string and typed),
// and a body to send as it is.
type Call struct {
	Target    string
	Version   string // v1.0 or beta
	Method    string // "": GET, or POST when there is a body
	Headers   []string
	RawFields []string
	Fields    []string
	Input     []byte    // nil: none
	Stdin     io.Reader // for -F key=@-
}

// NewRequest builds the request of a call. Fields make a JSON body, or the
// query of a GET or HEAD or of a request whose body is Input. The token is
// the client's to add: an Authorization header is refused.
func (c Cloud) NewRequest(call Call) (Request, error) {
	u, err := c.Resolve(call.Target, call.Version)
	if err != nil {
		return Request{}, err
	}
	req := Request{URL: u, Header: http.Header{}, Body: call.Input}
	for _, h := range call.Headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return req, fmt.Errorf("invalid header %q: give -H 'Name: value'", h)
		}
		if strings.EqualFold(strings.TrimSpace(name), "Authorization") {
			return req, errors.New("-H Authorization: the token is added by ms365auth; use --scopes for another resource's")
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	var fields []Field
	for _, list := range []struct {
		values []string
		typed  bool
	}{{call.RawFields, false}, {call.Fields, true}} {
		for _, s := range list.values {
			f, err := ParseField(s, list.typed)
			if err != nil {
				return req, err
			}
			fields = append(fields, f)
		}
	}
	req.Method = strings.ToUpper(call.Method)
	if req.Method == "" {
		req.Method = http.MethodGet
		if req.Body != nil || len(fields) > 0 {
			req.Method = http.MethodPost
		}
	}
	switch {
	case len(fields) == 0:
	case req.Method == http.MethodGet || req.Method == http.MethodHead || req.Body != nil:
		err = Query(u, fields, call.Stdin)
	default:
		req.Body, err = Body(fields, call.Stdin)
	}
	return req, err
}
