-- Table version 4 adds the attrs column (dispatcher.md §3.2).
ALTER TABLE dispatcher ADD COLUMN attrs VARCHAR(128) DEFAULT '' NOT NULL;
