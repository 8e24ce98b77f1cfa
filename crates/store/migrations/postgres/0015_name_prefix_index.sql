-- Finding residents by the start of their name (`name LIKE '胡%'`) walks an index whatever the database's collation:
-- a plain btree serves LIKE only under the "C" collation, so under C.UTF-8 or zh_CN every name search scanned the
-- community's residents.
CREATE INDEX IF NOT EXISTS residents_community_name_pattern ON residents (community_id, name text_pattern_ops);
