-- Rename accounts.name to display_name with zero downtime, step 1 of 2
-- (expand). Old code writes name, new code writes display_name; until
-- every deployment runs new code, both columns are kept in step.
ALTER TABLE accounts ADD COLUMN display_name text;
UPDATE accounts SET display_name = name WHERE display_name IS NULL;

CREATE FUNCTION accounts_sync_display_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		NEW.display_name := coalesce(NEW.display_name, NEW.name);
		NEW.name := coalesce(NEW.name, NEW.display_name);
	ELSIF NEW.display_name IS DISTINCT FROM OLD.display_name THEN
		NEW.name := NEW.display_name;
	ELSIF NEW.name IS DISTINCT FROM OLD.name THEN
		NEW.display_name := NEW.name;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER accounts_sync_display_name BEFORE INSERT OR UPDATE ON accounts
	FOR EACH ROW EXECUTE FUNCTION accounts_sync_display_name();
-- New code may omit name: it is filled from display_name.
ALTER TABLE accounts ALTER COLUMN name DROP NOT NULL;
