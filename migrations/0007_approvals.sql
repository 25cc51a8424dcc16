-- Approvals given on the gateway's page (issue 13): a call that needed the person's approval, made
-- by a client that can be asked neither through elicitation nor input_required, failed with a
-- link to /approvals/<id>. The id is stored only as its SHA-256. The arguments are kept as their
-- SHA-256 (to recognise the same call later) and a capped preview (what the page shows).
-- An approval lets the same call (user, server URL, tool, arguments) run once, within minutes.
CREATE TABLE approvals (
  id_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  server TEXT NOT NULL,
  server_url TEXT NOT NULL,
  tool TEXT NOT NULL,
  args_sha256 TEXT NOT NULL,
  args_preview TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'used')),
  created_at INTEGER NOT NULL,
  decided_at INTEGER,
  expires_at INTEGER NOT NULL
);
CREATE INDEX approvals_by_call ON approvals (user_id, server_url, tool, args_sha256, status);
-- The cleanup of expired rows and the count of a user's waiting links.
CREATE INDEX approvals_by_expiry ON approvals (expires_at);
CREATE INDEX approvals_pending_by_user ON approvals (user_id, status, expires_at);
