// Package manual holds the reference tables that the root command's help,
// the man pages and the README all show, exit statuses, environment
// variables and files, and renders them for each (plain text, roff,
// Markdown), so that the three cannot drift apart. It knows nothing of
// cobra or of the commands themselves.
package manual

import "slices"

// ExitStatus is one exit status of every command.
type ExitStatus struct {
	Code    int
	Short   string // for the one-line summary in --help
	Meaning string
}

// ExitStatuses are the exit statuses, stable for scripts.
var ExitStatuses = []ExitStatus{
	{0, "success", "Success."},
	{1, "error", "An error; the message on standard error says what happened and what to do."},
	{3, "a person must sign in interactively", "A person must sign in interactively; the message names the command to run."},
	{130, "Ctrl-C", "Interrupted by Ctrl-C (SIGINT): 128 plus the signal's number, as shells report it."},
	{143, "SIGTERM", "Ended by SIGTERM (a service manager, timeout(1)): 128 plus its number."},
}

// Variable is an environment variable ms365auth reads, or sets for a
// program it runs.
type Variable struct {
	Name    string
	Meaning string
	// Commands are the commands it concerns; none means every command.
	Commands []string
}

// Environment lists every MS365AUTH_* variable, then the general ones
// that change what ms365auth does.
var Environment = []Variable{
	{Name: "MS365AUTH_PROFILE", Meaning: `The profile to use when --profile is not given (default "default"). Also set, to the profile's name, for the --notify-cmd of reauth.`},
	{Name: "MS365AUTH_STORE", Meaning: `Where link keeps the tokens: "keyring" (the default) or "file"; --store wins. Profiles remember their store, so the other commands need no MS365AUTH_STORE (one naming another store is refused).`},
	{Name: "MS365AUTH_STORE_PASSPHRASE_FILE", Meaning: "A file whose first line is the passphrase that encrypts the file store (with age)."},
	{Name: "MS365AUTH_STORE_PASSPHRASE", Meaning: "The file store's passphrase itself; prefer MS365AUTH_STORE_PASSPHRASE_FILE. Set only one."},
	{Name: "MS365AUTH_CLIENT_SECRET", Meaning: "The client secret of a confidential app. It is kept with the tokens, and removed from the environment of every program ms365auth starts.", Commands: []string{"link", "doctor"}},
	{Name: "MS365AUTH_AUTHORITY_HOST", Meaning: "The authority host, for national clouds (default https://login.microsoftonline.com); --authority-host wins.", Commands: []string{"link", "doctor"}},
	{Name: "MS365AUTH_GRAPH_URL", Meaning: "The Microsoft Graph root URL for api, instead of the profile's cloud's (https://graph.microsoft.com and its national-cloud hosts); that host is then the one Graph host a token goes to. --graph-url wins.", Commands: []string{"api"}},
	{Name: "MS365AUTH_CONFIG", Meaning: "The settings file, instead of $XDG_CONFIG_HOME/ms365auth/config.json."},
	{Name: "MS365AUTH_MESSAGE", Meaning: "Set for the --notify-cmd of reauth: one line saying what happened and what to run.", Commands: []string{"reauth"}},
	{Name: "MS365AUTH_SIGNIN_URL", Meaning: "Set for the --notify-cmd of reauth, for the primary method: a sign-in link, to finish within 10 minutes with the command MS365AUTH_MESSAGE names. Empty in the notification that carries a device code (--device-wait).", Commands: []string{"reauth"}},
	{Name: "MS365AUTH_USER_CODE", Meaning: "Set for the --notify-cmd of reauth --device-wait: the code to enter at MS365AUTH_VERIFICATION_URL, on any device, while the run waits. Empty when the notification carries the sign-in link instead.", Commands: []string{"reauth"}},
	{Name: "MS365AUTH_VERIFICATION_URL", Meaning: "Set for the --notify-cmd of reauth --device-wait: where to enter MS365AUTH_USER_CODE (https://microsoft.com/devicelogin).", Commands: []string{"reauth"}},
	{Name: "BROWSER", Meaning: "The command that opens the sign-in link (%s stands for the link; several commands separated by colons are tried in turn). Unset: the desktop's default browser.", Commands: []string{"link", "reauth", "token", "api"}},
	{Name: "DBUS_SESSION_BUS_ADDRESS", Meaning: "The D-Bus session bus of the Secret Service (the keyring on Linux). Unset: the systemd user bus at $XDG_RUNTIME_DIR/bus."},
	{Name: "NO_COLOR", Meaning: "Set to anything: no colour, even on a terminal."},
}

// File is a file or directory ms365auth keeps.
type File struct {
	Path    string
	Meaning string
}

// Files are where ms365auth keeps things on Linux and the BSDs
// ($XDG_CONFIG_HOME defaults to ~/.config, $XDG_STATE_HOME to
// ~/.local/state).
var Files = []File{
	{"$XDG_CONFIG_HOME/ms365auth/config.json", "The profiles' settings (client ID, tenant, scopes, method, store), no secrets; MS365AUTH_CONFIG names another file. Beside it, config.json.lock serialises writers."},
	{"$XDG_STATE_HOME/ms365auth/store/", "The file store (link --store file): PROFILE.record holds the tokens and PROFILE.client-secret a confidential app's secret, mode 0600 in a 0700 directory, encrypted when a passphrase is set."},
	{"$XDG_STATE_HOME/ms365auth/pending-PROFILE.json", "A sign-in started with link --print-link (or by reauth --notify-cmd), waiting for link --returned-url; removed when finished, useless after 10 minutes."},
	{"$XDG_RUNTIME_DIR/ms365auth/PROFILE.lock", "The lock a process holds while it renews or replaces a profile's tokens; without $XDG_RUNTIME_DIR, under $XDG_STATE_HOME/ms365auth/locks/."},
}

// For returns the variables that concern command (a top-level command's
// name, e.g. "link"); "" returns them all.
func For(command string) []Variable {
	var out []Variable
	for _, v := range Environment {
		if command == "" || len(v.Commands) == 0 || slices.Contains(v.Commands, command) {
			out = append(out, v)
		}
	}
	return out
}
