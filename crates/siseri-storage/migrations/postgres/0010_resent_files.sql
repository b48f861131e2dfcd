-- A file sent again by the same organisation in the same format is answered with its first
-- report (exchange.md §6): found by the file's SHA-256.
CREATE INDEX transmissions_by_file ON transmissions (file_sha256, format);
