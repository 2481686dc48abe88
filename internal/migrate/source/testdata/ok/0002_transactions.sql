-- Transactions between accounts, in the goose format.

-- +goose Up
CREATE TABLE transactions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    amount numeric(12, 2) NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION check_amount() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $body$
BEGIN
    IF NEW.amount = 0 THEN
        RAISE EXCEPTION 'amount must not be zero; got %', NEW.amount;
    END IF;
    RETURN NEW;
END;
$body$;
-- +goose StatementEnd

CREATE TRIGGER transactions_amount BEFORE INSERT ON transactions
    FOR EACH ROW EXECUTE FUNCTION check_amount();

-- +goose Down
DROP TABLE transactions;
DROP FUNCTION check_amount();
