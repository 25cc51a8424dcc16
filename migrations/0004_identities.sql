-- Real identities (issue 11): what the identity provider vouched for at the last login, so that
-- ALLOWED_USERS can be checked again later (an existing browser session, the operator's list)
-- and the consent page can say who is logging in. `provider` holds the account namespace:
-- `local`, `github` (or `github:<url>`), `oidc:<issuer>`.
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN github_login TEXT;
