-- Skills (issue 13): TypeScript a user saved to call again as `skills.<name>(args)`, from every
-- session of that user and through the MCP skills extension. A save under a name already used
-- adds the next version; deleting marks every version of the name deleted, and each stays
-- readable by its version. `params` and `returns` are TypeScript types (text).
CREATE TABLE skills (
  user_id TEXT NOT NULL REFERENCES users (id),
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  description TEXT NOT NULL,
  code TEXT NOT NULL,
  params TEXT NOT NULL,
  returns TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER,
  PRIMARY KEY (user_id, name, version)
);
