DROP TRIGGER accounts_sync_display_name ON accounts;
DROP FUNCTION accounts_sync_display_name();
ALTER TABLE accounts DROP COLUMN display_name;
