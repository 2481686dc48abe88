-- A tenant table: it has tenant_id, so on the shared tier it gets forced
-- row-level security, and on the schema and database tiers the tenant's id
-- as default and a CHECK. The application never sets tenant_id itself.

-- +goose Up
CREATE TABLE accounts (
	tenant_id     text        NOT NULL,
	id            bigint      GENERATED ALWAYS AS IDENTITY,
	name          text        NOT NULL,
	currency      text        NOT NULL REFERENCES currencies (code),
	balance_minor bigint      NOT NULL DEFAULT 0,
	created_at    timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id)
);

-- +goose Down
DROP TABLE accounts;
