-- Table version 3 adds the priority column (dispatcher.md §3.2).
ALTER TABLE dispatcher ADD COLUMN priority INTEGER DEFAULT 0 NOT NULL;
