-- tenantstack:contract
-- No released version of the application reads legacy_name any more.
ALTER TABLE accounts DROP COLUMN legacy_name;
