-- An audit worth reading (issue 12): each execution keeps its code (capped), how it ended, its
-- result or error and its logs (capped), and every recorded tool call as a JSON array of
-- {server, tool, duration_ms, ok, error?, args_chars}; and the servers loaded per session, with
-- the tokens of the tool lists the model did not have to read. Rows older than
-- AUDIT_RETENTION_DAYS are deleted by the daily cron trigger. Nothing here is a credential: tool
-- calls keep names, timings, outcomes and the size of their arguments, never the arguments.
ALTER TABLE executions ADD COLUMN code TEXT;
ALTER TABLE executions ADD COLUMN error_message TEXT;
ALTER TABLE executions ADD COLUMN result_preview TEXT;
ALTER TABLE executions ADD COLUMN logs TEXT;
ALTER TABLE executions ADD COLUMN calls TEXT;

CREATE INDEX executions_by_created ON executions (created_at);

CREATE TABLE server_loads (
  user_id TEXT NOT NULL REFERENCES users (id),
  session_handle TEXT NOT NULL,
  server TEXT NOT NULL,
  url TEXT NOT NULL,
  tool_count INTEGER NOT NULL,
  tool_list_tokens INTEGER NOT NULL,
  loaded_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, session_handle, server)
);

CREATE INDEX server_loads_by_user ON server_loads (user_id, loaded_at);
CREATE INDEX server_loads_by_created ON server_loads (loaded_at);
