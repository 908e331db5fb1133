package entrasim

// SandboxClientID is the app registration of the sandbox (ms365auth link
// --sandbox): a public client the sandbox's Entra and Graph stand-ins know.
const SandboxClientID = "5a1db0c5-0000-4000-8000-53a4db0c5e55"

// NewSandbox starts the sandbox's Entra stand-in on a free loopback port,
// with the sandbox's app registered for one redirect URI, the stand-in's
// own desktop-app landing page (SandboxRedirectURI).
func NewSandbox() (*Server, error) {
	s, err := NewServerAt("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.AddApp(App{
		ClientID:    SandboxClientID,
		MultiTenant: true,
		Redirects:   []Redirect{{URI: s.SandboxRedirectURI(), Platform: MobileDesktop}},
	})
	return s, nil
}

// SandboxRedirectURI is where the sandbox's sign-ins are sent back: the
// stand-in's counterpart of Microsoft's page for desktop apps.
func (s *Server) SandboxRedirectURI() string { return s.URL + "/common/oauth2/nativeclient" }
