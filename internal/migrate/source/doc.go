// Package source reads an application's versioned SQL migrations from one
// directory and checks them before anything runs: Load reads and validates
// the files, Lint refuses statements that would weaken tenant isolation.
//
// # Formats
//
// Two formats are read, and may be mixed in one directory:
//
//   - golang-migrate: NNNN_name.up.sql holds the up migration, whole, and an
//     optional NNNN_name.down.sql with the same version and name holds the
//     down migration. The file names are parsed with Parse from
//     github.com/golang-migrate/migrate/v4/source, the library's own
//     parser, which imports nothing but the standard library.
//   - goose: NNNN_name.sql with a -- +goose Up section and an optional
//     -- +goose Down section after it. Outside the sections only comments
//     may come first. Statements that hold semicolons, such as a PL/pgSQL
//     function, go between -- +goose StatementBegin and
//     -- +goose StatementEnd, and count as one statement; outside such a
//     block every statement ends with ';', as goose requires. goose's own
//     parser is in an internal package (github.com/pressly/goose/v3/internal/sqlparser)
//     that cannot be imported, so the annotations are parsed here, with
//     goose's rules: an annotation is a whole line, its command is case
//     insensitive. -- +goose NO TRANSACTION is refused, since every
//     tenant's migration runs in one transaction, and so is -- +goose ENVSUB,
//     since migrations are checksummed and linted as written.
//
// NNNN, the version, is any number of digits, leading zeros allowed, from 1
// up. The name is the rest of the file name without its suffix. Files that
// are not .sql (README.md, .gitkeep), hidden files and subdirectories are
// ignored; a .sql file that fits neither format is an error. So are a
// .down.sql without its up file, or beside a goose file (which holds its own
// Down section), goose annotations in a .up.sql file (which runs whole), and
// files that are not UTF-8. A leading byte order mark is dropped.
//
// Load reports every problem it finds at once, each naming the file (the
// directory joined with its name) and, where it has one, the line.
//
// # Versions
//
// The versions are either all sequence numbers, consecutive integers
// counting up by one from the first (which need not be 1), or all
// timestamps of 12 or more digits (from 100000000000, such as
// 20240101120000), ascending with any gaps. Mixing the two is an error, as
// is a gap in sequence numbers, which usually means a migration was lost in
// a merge. Unix timestamps of 10 digits count as sequence numbers, and so
// are refused for their gaps.
//
// # Contract migrations
//
// A line comment -- tenantstack:contract in the up SQL (of a goose file: in
// its Up section or the comments before it) marks a contract migration:
// one that removes what older application code still uses, such as
// dropping a column or a table. The rollout holds contract migrations back
// until asked, so that no running version of the application loses what it
// reads. A comment that looks meant as the marker but is not
// ("-- tenantstack:contracts", "-- tenantstack: contract") is an error, so
// that a typo cannot let a contract migration through unmarked, and so is
// the marker in a down migration. The marker inside a string or a function
// body does not count.
//
// # Splitting
//
// Split breaks SQL into statements at the semicolons that end them, the way
// psql does: not inside strings, quoted identifiers, dollar quotes,
// comments, parentheses or SQL-standard function bodies. Each Statement
// records its line in the file, so that errors and findings point at it.
//
// # Lint
//
// Lint refuses statements that would weaken the isolation between tenants.
// It is a first line of defence that reads the text only; the engine also
// runs migrations as the tenant's owner role, not a superuser, and checks the
// catalogue afterwards. Each rule has a short id:
//
//   - alter-role: CREATE, ALTER or DROP ROLE, USER or GROUP; GRANT role TO
//     role and REVOKE role FROM role (membership, without ON); DROP OWNED
//     and REASSIGN OWNED. Roles are the platform's.
//   - grant-public: GRANT ... TO PUBLIC, of any privilege.
//   - disable-rls: ALTER TABLE ... DISABLE ROW LEVEL SECURITY or
//     NO FORCE ROW LEVEL SECURITY.
//   - drop-policy: CREATE, ALTER or DROP POLICY. Policies are the
//     platform's; tenant isolation is added automatically.
//   - security-definer: SECURITY DEFINER in CREATE [OR REPLACE] FUNCTION or
//     PROCEDURE, or in ALTER FUNCTION, PROCEDURE or ROUTINE, without a
//     SET search_path clause in the same statement.
//   - create-extension: CREATE, ALTER or DROP EXTENSION.
//   - set-role: SET [SESSION|LOCAL] ROLE, SET SESSION AUTHORIZATION, RESET
//     ROLE, RESET SESSION AUTHORIZATION, set_config('role', ...) and
//     set_config('session_authorization', ...), and a function's SET role
//     clause.
//   - bypass: any mention of BYPASSRLS; ALTER ... OWNER TO; ALTER DEFAULT
//     PRIVILEGES; SET row_security (also by set_config or a function's SET
//     clause); COPY ... PROGRAM and COPY to or from a file; CREATE, ALTER or
//     DROP SCHEMA and DATABASE; LOAD; ALTER SYSTEM; CREATE, ALTER or DROP
//     USER MAPPING.
//   - transaction-control: BEGIN, COMMIT, ROLLBACK, ABORT, START
//     TRANSACTION, SAVEPOINT, RELEASE, END, PREPARE TRANSACTION; CREATE
//     INDEX, DROP INDEX, REINDEX and DETACH PARTITION with CONCURRENTLY;
//     VACUUM; DISCARD ALL. None can run inside the one transaction in which
//     each tenant's migration runs, or they would end it early.
//
// The rules match keywords, case insensitive, across any white space and
// comments, on the tokens of each statement, where string literals and
// quoted identifiers are values, never keywords: a column named role, or
// INSERT INTO notes VALUES ('SET ROLE admin'), passes. Statement rules match
// where a statement starts, so UPDATE users SET role = 'x' passes too.
//
// Code inside strings is the exception. DO blocks and function bodies are
// strings (usually $$ dollar quotes $$) that run as code, and EXECUTE runs a
// string as SQL. So in a statement that is a DO block, creates a function
// or procedure, or contains EXECUTE, every string and dollar-quoted body is
// read as SQL as well, and so are the strings inside it, a few levels deep.
// There every rule applies but transaction-control (a PL/pgSQL BEGIN or END
// delimits a block), at each place a statement may start: after ';' and
// after BEGIN, DECLARE, THEN, ELSE and LOOP. This is how
// EXECUTE 'SET ROLE admin' or a CREATE FUNCTION ... SECURITY DEFINER run by
// a DO block is caught; the price is that a plain string in such a body that
// reads like a refused statement, as in RAISE NOTICE 'create schema later',
// is refused too, and must be reworded.
//
// A finding names the file, the line where the refused statement starts
// (in quoted code: where the quoted statement starts) and that statement.
//
// What the lint cannot see: SQL assembled at run time ('SET ' || 'ROLE x',
// format with the keywords in its arguments), what functions that already
// exist do when called, dynamic SQL in bodies of other languages (whose
// strings are not SQL strings, as in plpy.execute("...")), and rights that
// objects carry otherwise, such as a view, which reads its tables with its
// owner's rights. Those are left to the owner role's limited rights and to
// the catalogue checks after the migration.
package source
