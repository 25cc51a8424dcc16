-- Users who have logged in through an identity provider, and the audit trail of executions.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  subject TEXT NOT NULL,
  display_name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_login_at INTEGER NOT NULL,
  UNIQUE (provider, subject)
);

CREATE TABLE executions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id),
  session_handle TEXT NOT NULL,
  code_sha256 TEXT NOT NULL,
  code_chars INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  error_name TEXT,
  duration_ms INTEGER NOT NULL,
  tool_calls INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE INDEX executions_by_user ON executions (user_id, created_at);
