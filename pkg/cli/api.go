package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/account"
	"github.com/ms365auth/ms365auth/pkg/atomicfile"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/graph"
	"github.com/ms365auth/ms365auth/pkg/servertext"
)

// apiMargin renews a token about to expire before a request uses it, as
// token's default --margin does.
const apiMargin = 5 * time.Minute

type apiOptions struct {
	Profile   string
	Scopes    []string
	Method    string
	Headers   []string
	RawFields []string
	Fields    []string
	Input     string
	Include   bool
	Silent    bool
	Paginate  bool
	JSONLines bool
	JQ        string
	Beta      bool
	GraphURL  string
	Timeout   time.Duration
	DeltaLink string
	MaxPages  int
}

func newAPICmd(env *Env) *cobra.Command {
	o := &apiOptions{}
	cmd := &cobra.Command{
		Use:   "api PATH|URL",
		Short: "Make a Microsoft Graph request with the profile's token",
		Long: `Make a Microsoft Graph request with the profile's token, renewed as "token" does,
and print the answer's body on standard output.

A PATH goes to the Graph host of the profile's cloud (https://graph.microsoft.com/v1.0,
or /beta with --beta). A URL must be on a Graph or Outlook host of that cloud: the
token is never sent anywhere else. MS365AUTH_GRAPH_URL (or --graph-url) replaces
the Graph root, for tests, proxies and other clouds; it is then the one Graph host
allowed.

-f key=value and -F key=value build a JSON body (nested with brackets:
message[subject]=Hi; a list with []: tags[]=a, to[][address]=b adds an
object), or the query of a GET or of a request with --input. -F
turns true, false, null and numbers into JSON and reads @FILE (@- standard
input) as a string. --input FILE sends a body as it is (- for standard input).
The method is GET, or POST when there is a body.

429, 503, 504 and 509 answers are tried again after their Retry-After (seconds
or a date; without one, after 1s, 2s, 4s...), and so is a request whose
connection failed (refused, reset, cut short, or silent for --timeout), each
wait said on standard error, within 2 minutes of waiting in all. A POST or
PATCH (sendMail) is never sent twice: when its connection fails after it
went out, or a gateway times out (504), the error says it may or may not
have been applied. A 401 is tried once more with a renewed token. A claims
challenge (the session was revoked, or a policy wants more proof) runs the
profile's sign-in with the claims on a terminal and tries again; otherwise
it exits 3 with the command to run.

--paginate follows @odata.nextLink and prints the items of every page's value
as one JSON array (JSON lines with --jsonl), as they arrive; an answer that
is not a collection prints as it is. A next link back to a page already
fetched is an error, and so are more than --max-pages pages. A delta query
ends with an @odata.deltaLink, the URL to ask next time for what changed:
--delta-link FILE saves it there (only a URL on an allowed Graph host),
otherwise it is printed on standard error. --jq filters the output (jq
syntax; strings print without quotes); with --paginate it sees one item at
a time. A page, or an answer for --jq, may be at most 64 MiB; a plain
answer is streamed whatever its size.

On a terminal, control characters and escape sequences in the output
(mail and calendar text is chosen by outside senders) are neutralised;
a pipe or a file gets the answer's bytes exactly.

Exit status: 0 for a 2xx answer, 1 for other answers (a one-line error,
then the answer's body, on standard error) and errors, 3 when a person must
sign in.`,
		Example: `  ms365auth api /me --jq .displayName
  # this week's calendar, one line per event
  ms365auth api -X GET /me/calendarView -f startDateTime="$(date -I)T00:00:00" -f endDateTime="$(date -I -d '+7 days')T00:00:00" \
    --paginate --jq '.start.dateTime[:16] + "  " + .subject'
  ms365auth api /me/sendMail --input message.json
  # changes since the last run (a delta query; the first run lists everything)
  ms365auth api --paginate --delta-link state.url "$(cat state.url 2>/dev/null ||
    echo "/me/calendarView/delta?startDateTime=$(date -I)T00:00:00&endDateTime=$(date -I -d '+7 days')T00:00:00")"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Profile = profileName(cmd)
			if o.GraphURL == "" {
				o.GraphURL = env.Getenv("MS365AUTH_GRAPH_URL")
			}
			return apiRun(cmd.Context(), env, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Scopes, "scopes", nil, "scopes of another resource to get the token for, e.g. https://outlook.office.com/Mail.Read")
	f.StringVarP(&o.Method, "method", "X", "", "HTTP method (default GET, or POST with a body)")
	f.StringArrayVarP(&o.Headers, "header", "H", nil, `add a request header, "Name: value"`)
	f.StringArrayVarP(&o.RawFields, "raw-field", "f", nil, "add a string field key=value to the JSON body (the query of a GET)")
	f.StringArrayVarP(&o.Fields, "field", "F", nil, "add a typed field key=value: true, false, null, numbers; @FILE reads a file")
	f.StringVar(&o.Input, "input", "", "send the body from FILE as it is (- for standard input)")
	f.BoolVarP(&o.Include, "include", "i", false, "print the answer's status line and headers before the body")
	f.BoolVar(&o.Silent, "silent", false, "do not print the answer's body")
	f.BoolVar(&o.Paginate, "paginate", false, "follow @odata.nextLink and print all pages' items as one JSON array")
	f.BoolVar(&o.JSONLines, "jsonl", false, "with --paginate: one item per line instead of an array")
	f.StringVarP(&o.JQ, "jq", "q", "", "filter the output with a jq expression")
	f.BoolVar(&o.Beta, "beta", false, "use Graph's /beta version instead of /v1.0")
	f.StringVar(&o.GraphURL, "graph-url", "", "Graph root URL (env MS365AUTH_GRAPH_URL); default: the profile's cloud")
	f.DurationVar(&o.Timeout, "timeout", graph.DefaultIdleTimeout, "how long an attempt may go without data before it counts as a failed connection")
	f.StringVar(&o.DeltaLink, "delta-link", "", "with --paginate: save a delta query's @odata.deltaLink in FILE")
	f.IntVar(&o.MaxPages, "max-pages", graph.DefaultMaxPages, "with --paginate: fetch at most this many pages")
	return cmd
}

func apiRun(ctx context.Context, env *Env, o *apiOptions, target string) error {
	reading := graph.Reading{Paginate: o.Paginate, JSONLines: o.JSONLines, DeltaLink: o.DeltaLink != "", IdleTimeout: o.Timeout, MaxPages: o.MaxPages}
	if err := reading.Check(); err != nil {
		return err
	}
	p, err := env.account().Profile(o.Profile)
	if err != nil {
		return err
	}
	auth, err := entra.ParseAuthority(p.AuthorityHost, p.Tenant)
	if err != nil {
		return err
	}
	graphURL := o.GraphURL
	if p.Sandbox { // a sandbox token goes only to the sandbox's own Graph
		var stop func()
		graphURL, stop = sandboxGraph(env)
		defer stop()
	}
	cloud, err := graph.CloudFor(auth.Host, graphURL)
	if err != nil {
		return err
	}
	call := graph.Call{Target: target, Version: "v1.0", Method: o.Method, Headers: o.Headers,
		RawFields: o.RawFields, Fields: o.Fields, Stdin: env.In}
	if o.Beta {
		call.Version = "beta"
	}
	if o.Input != "" {
		if call.Input, err = readInput(env, o.Input); err != nil {
			return err
		}
	}
	req, err := cloud.NewRequest(call)
	if err != nil {
		return err
	}
	outFile, _ := env.Out.(*os.File)
	out := &graph.Writer{Out: env.Out, JSONLines: o.JSONLines, Terminal: isTerminal(outFile)}
	if o.JQ != "" {
		if out.Filter, err = graph.NewFilter(o.JQ); err != nil {
			return err
		}
	}
	if o.Silent {
		out.Out = io.Discard
	}
	hc := *env.HTTPClient
	hc.Timeout = 0 // --timeout bounds each attempt, however long its answer
	client := &graph.Client{
		HTTP:        &hc,
		IdleTimeout: o.Timeout,
		Cloud:       cloud,
		Log:         env.Err,
		Token: env.account().TokenSource(p.Name, account.TokenRequest{Scopes: o.Scopes, Margin: apiMargin},
			func(w string) { fmt.Fprintln(env.Err, "warning: "+w) }),
		AnswerClaims: func(ctx context.Context, claims string) error {
			return answerClaims(ctx, env, o.Profile, claims)
		},
	}
	err = apiSend(ctx, env, client, req, out, o)
	var he *graph.HTTPError
	if errors.As(err, &he) {
		if o.Include {
			graph.WriteHead(env.Out, he.Resp)
		}
		printError(env, err)
		errFile, _ := env.Err.(*os.File)
		graph.WriteErrorBody(env.Err, he.Body, isTerminal(errFile))
		return silentExit(ExitError)
	}
	return err
}

func apiSend(ctx context.Context, env *Env, client *graph.Client, req graph.Request, out *graph.Writer, o *apiOptions) error {
	if o.Paginate {
		deltaLink, err := client.Paginate(ctx, req, out, o.MaxPages)
		if err != nil || deltaLink == "" {
			return err
		}
		if o.DeltaLink == "" {
			fmt.Fprintln(env.Err, "@odata.deltaLink (ask it next time for what changed; --delta-link FILE saves it): "+servertext.Clean(deltaLink))
			return nil
		}
		return atomicfile.WriteFile(o.DeltaLink, []byte(deltaLink+"\n"))
	}
	resp, err := client.Do(ctx, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if o.Include {
		graph.WriteHead(env.Out, resp)
	}
	return out.Body(ctx, resp.Body, req.URL.Redacted())
}

func readInput(env *Env, name string) ([]byte, error) {
	if name == "-" {
		if env.In == nil {
			return nil, errors.New("--input -: there is no standard input")
		}
		return io.ReadAll(env.In)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("--input: %w", err)
	}
	return b, nil
}
