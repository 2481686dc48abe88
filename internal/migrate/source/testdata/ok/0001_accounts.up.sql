-- Accounts of the tenant.
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL DEFAULT 'unnamed; for now',
    legacy_name text
);

CREATE INDEX accounts_name ON accounts (name); -- looked up by name
