-- Table version 2 adds the flags column (dispatcher.md §3.2).
ALTER TABLE `dispatcher` ADD COLUMN `flags` INT DEFAULT 0 NOT NULL;
