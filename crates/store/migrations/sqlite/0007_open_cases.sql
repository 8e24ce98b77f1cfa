-- The zero board and the agenda read only open cases; a partial index keeps them cheap however long the history.
CREATE INDEX rectification_cases_open ON rectification_cases (community_id, kind, building_id, opened_at) WHERE status <> 'closed';
CREATE INDEX rectification_cases_closed_at ON rectification_cases (community_id, closed_at) WHERE closed_at IS NOT NULL;
