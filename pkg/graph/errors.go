package graph

import (
	"bytes"
	"encoding/json"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/ms365auth/ms365auth/pkg/servertext"
)

// maxSummary bounds the server's message in an error line.
const maxSummary = 300

// ErrorSummary is the one line an error answer's body comes down to, for
// the error message: Graph's error.code and error.message
// (learn.microsoft.com/graph/errors), the OData v3 and OAuth shapes other
// services use, or what kind of body it is when it is not JSON (an HTML
// page is a proxy or gateway speaking, not Graph). "" when there is
// nothing to say. The text is cleaned of control characters and tokens.
func ErrorSummary(contentType string, body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	mediaType, _, _ := mime.ParseMediaType(contentType)
	if mediaType == "text/html" || bytes.HasPrefix(body, []byte("<")) {
		return "the answer is an HTML page, not Graph's JSON: a proxy or gateway on the way answered"
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	var code, msg string
	for _, key := range []string{"error", "odata.error"} {
		var e struct {
			Code    string          `json:"code"`
			Message json.RawMessage `json:"message"`
		}
		raw, ok := doc[key]
		if !ok {
			continue
		}
		if json.Unmarshal(raw, &e) == nil {
			code, msg = e.Code, jsonText(e.Message)
		} else {
			// OAuth's {"error":"invalid_token","error_description":"..."}.
			code, msg = jsonText(raw), jsonText(doc["error_description"])
		}
		break
	}
	summary := strings.TrimPrefix(strings.Join(nonEmpty(code, msg), ": "), ": ")
	return shorten(servertext.Safe(summary), maxSummary)
}

// jsonText is a JSON string, or the "value" of an OData v3 message object
// ({"lang":"en-US","value":"..."}).
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var v struct{ Value string }
	json.Unmarshal(raw, &v)
	return v.Value
}

func nonEmpty(values ...string) []string {
	var out []string
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// shorten cuts s to at most n bytes, at a character boundary.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
