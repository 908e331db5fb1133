package entrasim

import (
	"net/http"
)

// discoveryDoc is the OpenID Connect discovery document, with the fields
// clients use first and in Entra's spirit.
type discoveryDoc struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Issuer                            string   `json:"issuer"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	HTTPLogoutSupported               bool     `json:"http_logout_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ClaimsSupported                   []string `json:"claims_supported"`
	KerberosEndpoint                  string   `json:"kerberos_endpoint"`
	TenantRegionScope                 any      `json:"tenant_region_scope"`
	CloudInstanceName                 string   `json:"cloud_instance_name"`
	CloudGraphHostName                string   `json:"cloud_graph_host_name"`
	MSGraphHost                       string   `json:"msgraph_host"`
	RBACURL                           string   `json:"rbac_url"`
}

// serveDiscovery is GET /{tenant}/v2.0/.well-known/openid-configuration.
// Endpoints point at the double. The issuer is Entra's global one, the same
// the ID tokens carry: a {tenantid} template for common, organizations and
// consumers' GUID for consumers.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request, seg string) {
	if s.misbehaved(w, r) {
		return
	}
	s.mu.Lock()
	t, ok := s.resolveTenantLocked(seg)
	s.mu.Unlock()
	if !ok {
		e := errTenantNotFound(seg)
		e.err = "invalid_tenant"
		s.writeJSONError(w, r, e, 0)
		return
	}
	issuerTenant := "{tenantid}"
	switch t.kind {
	case kindTenant:
		issuerTenant = t.id
	case kindConsumers:
		issuerTenant = ConsumersTenantID
	}
	base := s.URL + "/" + seg
	writeJSON(w, http.StatusOK, discoveryDoc{
		TokenEndpoint:                     base + "/oauth2/v2.0/token",
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		JWKSURI:                           base + "/discovery/v2.0/keys",
		ResponseModesSupported:            []string{"query", "fragment", "form_post"},
		SubjectTypesSupported:             []string{"pairwise"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ResponseTypesSupported:            []string{"code", "id_token", "code id_token", "id_token token"},
		ScopesSupported:                   []string{"openid", "profile", "email", "offline_access"},
		Issuer:                            "https://login.microsoftonline.com/" + issuerTenant + "/v2.0",
		UserinfoEndpoint:                  "https://graph.microsoft.com/oidc/userinfo",
		AuthorizationEndpoint:             base + "/oauth2/v2.0/authorize",
		DeviceAuthorizationEndpoint:       base + "/oauth2/v2.0/devicecode",
		HTTPLogoutSupported:               true,
		FrontchannelLogoutSupported:       true,
		EndSessionEndpoint:                base + "/oauth2/v2.0/logout",
		ClaimsSupported: []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
			"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver",
			"at_hash", "c_hash", "email"},
		KerberosEndpoint:   base + "/kerberos",
		CloudInstanceName:  "microsoftonline.com",
		CloudGraphHostName: "graph.windows.net",
		MSGraphHost:        "graph.microsoft.com",
		RBACURL:            "https://pas.windows.net",
	})
}

// serveKeys is the JWKS. It is empty on purpose: the double's signatures are
// fake, and a verifier should fail loudly rather than trust them.
func (s *Server) serveKeys(w http.ResponseWriter, r *http.Request, seg string) {
	writeJSON(w, http.StatusOK, map[string][]any{"keys": {}})
}
