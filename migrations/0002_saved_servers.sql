-- Downstream servers a user asked to keep (load_mcp_server with save: true). Header values are
-- sealed with AES-GCM under ENCRYPTION_KEY; `env:NAME` references are stored as written.
CREATE TABLE saved_servers (
  user_id TEXT NOT NULL REFERENCES users (id),
  name TEXT NOT NULL,
  url TEXT NOT NULL,
  transport TEXT NOT NULL,
  sealed_headers TEXT,
  header_names TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, name)
);
