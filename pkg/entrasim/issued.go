package entrasim

// IssuedSecrets returns every credential the double handed out or holds:
// authorization codes, access tokens, refresh tokens and device codes it
// issued (spent and revoked ones included), and the client secret values of
// its registered apps. Tests search a program's output, files and process
// arguments for them to prove that no credential leaks. The order is
// unspecified.
func (s *Server) IssuedSecrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for c := range s.codes {
		out = append(out, c)
	}
	for t := range s.accessTokens {
		out = append(out, t)
	}
	for t := range s.refresh {
		out = append(out, t)
	}
	for c := range s.devices {
		out = append(out, c)
	}
	for _, app := range s.apps {
		for _, sec := range app.Secrets {
			out = append(out, sec.Value)
		}
	}
	return out
}
