-- What this database is: one row per key (format version, the program that created it).
CREATE TABLE schema_info (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
INSERT INTO schema_info (key, value) VALUES ('format', 'anchorage-store/1');
