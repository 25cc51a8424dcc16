-- Downstream servers that authorize with OAuth (the MCP authorization flow, as a client).
--
-- downstream_grants: what the gateway holds for one user at one downstream server (the resource,
-- its MCP URL): the client registration (dynamic, by metadata document, or pre-registered with
-- load_mcp_server's `oauth`), the access and refresh tokens, and the discovery state, all in one
-- JSON value sealed with ENCRYPTION_KEY. `version` grows with every write, so two sessions
-- refreshing at once do not overwrite each other's rotation unseen.
CREATE TABLE downstream_grants (
  user_id TEXT NOT NULL REFERENCES users (id),
  resource TEXT NOT NULL,
  sealed TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, resource)
);

-- downstream_authorizations: authorizations waiting for the person's browser. `request_id` is
-- the unguessable id in the authorization_url given to the model; `state` is the OAuth state sent
-- to the authorization server; `browser_hash` binds the first browser that opened the link (its
-- cookie's hash). A row is consumed by its callback (deleted), or expires.
CREATE TABLE downstream_authorizations (
  request_id TEXT PRIMARY KEY,
  state TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL REFERENCES users (id),
  sealed TEXT NOT NULL,
  browser_hash TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

CREATE INDEX downstream_authorizations_by_expiry ON downstream_authorizations (expires_at);

-- browser_sessions: who a browser is logged in as on the gateway's own pages (set by every
-- login). An authorization link is followed only by a browser logged in as the user it was made
-- for. Only the SHA-256 of the cookie's token is stored.
CREATE TABLE browser_sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

CREATE INDEX browser_sessions_by_expiry ON browser_sessions (expires_at);
