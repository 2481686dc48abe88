-- +goose Up
CREATE TABLE transactions (
	tenant_id    text        NOT NULL,
	id           bigint      GENERATED ALWAYS AS IDENTITY,
	account_id   bigint      NOT NULL,
	amount_minor bigint      NOT NULL CHECK (amount_minor <> 0),
	memo         text,
	booked_at    timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX transactions_by_account ON transactions (tenant_id, account_id, booked_at);

-- The balance follows the transactions. The function runs as the caller
-- (no SECURITY DEFINER), so row-level security applies inside it too.
-- +goose StatementBegin
CREATE FUNCTION book_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE accounts SET balance_minor = balance_minor + NEW.amount_minor
	WHERE tenant_id = NEW.tenant_id AND id = NEW.account_id;
	RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER transactions_book AFTER INSERT ON transactions
	FOR EACH ROW EXECUTE FUNCTION book_transaction();

-- +goose Down
DROP TABLE transactions;
DROP FUNCTION book_transaction();
