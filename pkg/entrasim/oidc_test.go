package entrasim_test

import (
	"encoding/json"
	"errors"
	"testing"

	"golang.org/x/oauth2"
)

// The knobs that play another OpenID Connect server change only what they
// say, and are off by default.
func TestOtherServerKnobs(t *testing.T) {
	s := newServer(t)
	cfg := defaultConfig(s)
	tok := login(t, s, cfg)
	if tok.Extra("scope") == nil || jwtClaims(t, tok.Extra("id_token").(string))["preferred_username"] == nil {
		t.Fatal("Entra's defaults: scope and preferred_username are there")
	}

	s.EditIDTokens(func(c map[string]any) { delete(c, "preferred_username"); c["iss"] = "https://id.example.org" })
	s.OmitScopeInTokenResponses(true)
	tok = login(t, s, cfg)
	claims := jwtClaims(t, tok.Extra("id_token").(string))
	if _, ok := claims["preferred_username"]; ok || claims["iss"] != "https://id.example.org" || claims["aud"] != cfg.ClientID {
		t.Errorf("edited claims: %v", claims)
	}
	if tok.Extra("scope") != nil {
		t.Errorf("scope is still sent: %v", tok.Extra("scope"))
	}

	s.AnswerDeadRefreshTokens("invalid_request", "Refresh token expired.")
	s.RevokeRefreshTokens()
	_, err := refresh(cfg, tok.RefreshToken)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("refresh: %v", err)
	}
	var body map[string]any
	json.Unmarshal(re.Body, &body)
	if re.Response.StatusCode != 400 || len(body) != 2 || body["error"] != "invalid_request" || body["error_description"] != "Refresh token expired." {
		t.Errorf("HTTP %d %s", re.Response.StatusCode, re.Body)
	}
	s.AnswerDeadRefreshTokens("", "")
	_, err = refresh(cfg, tok.RefreshToken)
	wantTokenError(t, err, 400, "invalid_grant", 50173)
}
