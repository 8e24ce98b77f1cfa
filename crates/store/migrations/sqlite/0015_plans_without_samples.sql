-- The planner's per-value samples (sqlite_stat4) make SQLite re-plan a statement on its first step after every
-- new binding of an indexed parameter: a lookup was parsed and planned anew on each request. Wujia's queries are
-- written against explicit indexes, so the per-index summary (sqlite_stat1) is all the planner needs.
-- `Store::analyze` drops the samples again after each ANALYZE.
DROP TABLE IF EXISTS sqlite_stat4;
