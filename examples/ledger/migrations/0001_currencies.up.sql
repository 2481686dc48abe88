-- Reference data: every tenant reads it, none writes it (the table has no
-- tenant_id column). Only a migration changes its rows.
CREATE TABLE currencies (
	code        text    PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
	name        text    NOT NULL,
	minor_units integer NOT NULL CHECK (minor_units BETWEEN 0 AND 4)
);
INSERT INTO currencies (code, name, minor_units) VALUES
	('EUR', 'Euro', 2),
	('USD', 'US dollar', 2),
	('GBP', 'Pound sterling', 2),
	('JPY', 'Yen', 0);
