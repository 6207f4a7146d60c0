-- Let the full-text index gather 64 MiB of words in memory before writing a segment (the
-- default is 1 MiB), so that a batch of 10,000 posts becomes one segment, not dozens to merge.
INSERT INTO posts_fts (posts_fts, rank) VALUES ('hashsize', 67108864);
