-- tenantstack:contract
-- Step 2 of 2 (contract): once no code reads or writes accounts.name, drop
-- it. Held back by "tenantctl migrate up" until every target has applied
-- 0004 and the operator passes --contract.
DROP TRIGGER accounts_sync_display_name ON accounts;
DROP FUNCTION accounts_sync_display_name();
ALTER TABLE accounts DROP COLUMN name;
ALTER TABLE accounts ALTER COLUMN display_name SET NOT NULL;
