-- The dispatcher table at version 4, the layout Kamailio 5.6.3 ships
-- (dispatcher.md §3.1), and its row in the version table.
CREATE TABLE dispatcher (
    id INTEGER PRIMARY KEY NOT NULL,
    setid INTEGER DEFAULT 0 NOT NULL,
    destination VARCHAR(192) DEFAULT '' NOT NULL,
    flags INTEGER DEFAULT 0 NOT NULL,
    priority INTEGER DEFAULT 0 NOT NULL,
    attrs VARCHAR(128) DEFAULT '' NOT NULL,
    description VARCHAR(64) DEFAULT '' NOT NULL
);
INSERT INTO version (table_name, table_version) VALUES ('dispatcher', 4);
