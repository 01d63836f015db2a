-- v0006: bulk import (issue 6). A file matched on a key other than the alias (objectGUID, an
-- employee number) finds its recipients again on the next import through this table, so a
-- re-run updates instead of creating twins. NOCASE: csvde and ldifde print GUIDs in either case.
CREATE TABLE import_key (
    name TEXT NOT NULL COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 64),
    value TEXT NOT NULL COLLATE NOCASE CHECK (length(value) BETWEEN 1 AND 1024),
    recipient_id INTEGER NOT NULL REFERENCES recipient (id) ON DELETE CASCADE,
    PRIMARY KEY (name, value)
) STRICT, WITHOUT ROWID;

CREATE INDEX import_key_recipient ON import_key (recipient_id);
