-- The running tallies clustered by their key (community, day, dimension, key), so that a period's tallies are one
-- contiguous range of the table; and the open requests indexed by deadline, so that the queue reads the first to
-- breach without sorting every open request.

DROP TRIGGER request_tallies_insert;
DROP TRIGGER request_tallies_update;
CREATE TABLE request_tallies_clustered (
    community_id       INTEGER NOT NULL REFERENCES communities(id),
    day                TEXT NOT NULL,
    dim                TEXT NOT NULL,
    key                TEXT NOT NULL,
    requests           INTEGER NOT NULL DEFAULT 0,
    responded          INTEGER NOT NULL DEFAULT 0,
    responded_on_time  INTEGER NOT NULL DEFAULT 0,
    resp_seconds       INTEGER NOT NULL DEFAULT 0,
    resolved           INTEGER NOT NULL DEFAULT 0,
    res_seconds        INTEGER NOT NULL DEFAULT 0,
    followed           INTEGER NOT NULL DEFAULT 0,
    solved_halves      INTEGER NOT NULL DEFAULT 0,
    satisfied          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, day, dim, key)
 ) WITHOUT ROWID;
INSERT INTO request_tallies_clustered SELECT * FROM request_tallies;
DROP TABLE request_tallies;
ALTER TABLE request_tallies_clustered RENAME TO request_tallies;

CREATE TRIGGER request_tallies_insert AFTER INSERT ON service_requests BEGIN
    INSERT INTO request_tallies (community_id, day, dim, key, requests, responded, responded_on_time, resp_seconds, resolved, res_seconds, followed, solved_halves, satisfied)
    SELECT NEW.community_id, date(NEW.received_at, '+8 hours'), d.dim, d.key, 1, 1 * (CASE WHEN NEW.responded_at IS NOT NULL THEN 1 ELSE 0 END), 1 * (CASE WHEN NEW.responded_at IS NOT NULL AND NEW.responded_at <= NEW.respond_due THEN 1 ELSE 0 END), 1 * COALESCE(CAST(ROUND((julianday(NEW.responded_at) - julianday(NEW.received_at)) * 86400.0) AS INTEGER), 0), 1 * (CASE WHEN NEW.resolved_at IS NOT NULL THEN 1 ELSE 0 END), 1 * COALESCE(CAST(ROUND((julianday(NEW.resolved_at) - julianday(NEW.received_at)) * 86400.0) AS INTEGER), 0), 1 * (CASE WHEN NEW.followup_solved IS NOT NULL AND NEW.followup_satisfaction IS NOT NULL THEN 1 ELSE 0 END), 1 * (CASE WHEN NEW.followup_solved IS NOT NULL AND NEW.followup_satisfaction IS NOT NULL THEN (CASE NEW.followup_solved WHEN 'solved' THEN 2 WHEN 'partly_solved' THEN 1 ELSE 0 END) ELSE 0 END), 1 * (CASE WHEN NEW.followup_solved IS NOT NULL AND NEW.followup_satisfaction IS NOT NULL AND NEW.followup_satisfaction <> 'dissatisfied' THEN 1 ELSE 0 END)
    FROM (
        SELECT 'all' AS dim, '' AS key
        UNION ALL SELECT 'category' AS dim, (SELECT substr(code, 1, instr(code || '.', '.') - 1) FROM request_categories WHERE id = NEW.category_id) AS key
        UNION ALL SELECT 'channel' AS dim, NEW.channel AS key
        UNION ALL SELECT 'building' AS dim, COALESCE(CAST(NEW.building_id AS TEXT), '') AS key
        UNION ALL SELECT 'handler' AS dim, COALESCE(CAST(NEW.lead_id AS TEXT), '') AS key
    ) AS d WHERE true
    ON CONFLICT (community_id, day, dim, key) DO UPDATE SET
    requests = request_tallies.requests + excluded.requests,
    responded = request_tallies.responded + excluded.responded,
    responded_on_time = request_tallies.responded_on_time + excluded.responded_on_time,
    resp_seconds = request_tallies.resp_seconds + excluded.resp_seconds,
    resolved = request_tallies.resolved + excluded.resolved,
    res_seconds = request_tallies.res_seconds + excluded.res_seconds,
    followed = request_tallies.followed + excluded.followed,
    solved_halves = request_tallies.solved_halves + excluded.solved_halves,
    satisfied = request_tallies.satisfied + excluded.satisfied;
END;

CREATE TRIGGER request_tallies_update AFTER UPDATE ON service_requests BEGIN
    INSERT INTO request_tallies (community_id, day, dim, key, requests, responded, responded_on_time, resp_seconds, resolved, res_seconds, followed, solved_halves, satisfied)
    SELECT OLD.community_id, date(OLD.received_at, '+8 hours'), d.dim, d.key, -1, -1 * (CASE WHEN OLD.responded_at IS NOT NULL THEN 1 ELSE 0 END), -1 * (CASE WHEN OLD.responded_at IS NOT NULL AND OLD.responded_at <= OLD.respond_due THEN 1 ELSE 0 END), -1 * COALESCE(CAST(ROUND((julianday(OLD.responded_at) - julianday(OLD.received_at)) * 86400.0) AS INTEGER), 0), -1 * (CASE WHEN OLD.resolved_at IS NOT NULL THEN 1 ELSE 0 END), -1 * COALESCE(CAST(ROUND((julianday(OLD.resolved_at) - julianday(OLD.received_at)) * 86400.0) AS INTEGER), 0), -1 * (CASE WHEN OLD.followup_solved IS NOT NULL AND OLD.followup_satisfaction IS NOT NULL THEN 1 ELSE 0 END), -1 * (CASE WHEN OLD.followup_solved IS NOT NULL AND OLD.followup_satisfaction IS NOT NULL THEN (CASE OLD.followup_solved WHEN 'solved' THEN 2 WHEN 'partly_solved' THEN 1 ELSE 0 END) ELSE 0 END), -1 * (CASE WHEN OLD.followup_solved IS NOT NULL AND OLD.followup_satisfaction IS NOT NULL AND OLD.followup_satisfaction <> 'dissatisfied' THEN 1 ELSE 0 END)
    FROM (
        SELECT 'all' AS dim, '' AS key
        UNION ALL SELECT 'category' AS dim, (SELECT substr(code, 1, instr(code || '.', '.') - 1) FROM request_categories WHERE id = OLD.category_id) AS key
        UNION ALL SELECT 'channel' AS dim, OLD.channel AS key
        UNION ALL SELECT 'building' AS dim, COALESCE(CAST(OLD.building_id AS TEXT), '') AS key
        UNION ALL SELECT 'handler' AS dim, COALESCE(CAST(OLD.lead_id AS TEXT), '') AS key
    ) AS d WHERE true
    ON CONFLICT (community_id, day, dim, key) DO UPDATE SET
    requests = request_tallies.requests + excluded.requests,
    responded = request_tallies.responded + excluded.responded,
    responded_on_time = request_tallies.responded_on_time + excluded.responded_on_time,
    resp_seconds = request_tallies.resp_seconds + excluded.resp_seconds,
    resolved = request_tallies.resolved + excluded.resolved,
    res_seconds = request_tallies.res_seconds + excluded.res_seconds,
    followed = request_tallies.followed + excluded.followed,
    solved_halves = request_tallies.solved_halves + excluded.solved_halves,
    satisfied = request_tallies.satisfied + excluded.satisfied;
    INSERT INTO request_tallies (community_id, day, dim, key, requests, responded, responded_on_time, resp_seconds, resolved, res_seconds, followed, solved_halves, satisfied)
    SELECT NEW.community_id, date(NEW.received_at, '+8 hours'), d.dim, d.key, 1, 1 * (CASE WHEN NEW.responded_at IS NOT NULL THEN 1 ELSE 0 END), 1 * (CASE WHEN NEW.responded_at IS NOT NULL AND NEW.responded_at <= NEW.respond_due THEN 1 ELSE 0 END), 1 * COALESCE(CAST(ROUND((julianday(NEW.responded_at) - julianday(NEW.received_at)) * 86400.0) AS INTEGER), 0), 1 * (CASE WHEN NEW.resolved_at IS NOT NULL THEN 1 ELSE 0 END), 1 * COALESCE(CAST(ROUND((julianday(NEW.resolved_at) - julianday(NEW.received_at)) * 86400.0) AS INTEGER), 0), 1 * (CASE WHEN NEW.followup_solved IS NOT NULL AND NEW.followup_satisfaction IS NOT NULL THEN 1 ELSE 0 END), 1 * (CASE WHEN NEW.followup_solved IS NOT NULL AND NEW.followup_satisfaction IS NOT NULL THEN (CASE NEW.followup_solved WHEN 'solved' THEN 2 WHEN 'partly_solved' THEN 1 ELSE 0 END) ELSE 0 END), 1 * (CASE WHEN NEW.followup_solved IS NOT NULL AND NEW.followup_satisfaction IS NOT NULL AND NEW.followup_satisfaction <> 'dissatisfied' THEN 1 ELSE 0 END)
    FROM (
        SELECT 'all' AS dim, '' AS key
        UNION ALL SELECT 'category' AS dim, (SELECT substr(code, 1, instr(code || '.', '.') - 1) FROM request_categories WHERE id = NEW.category_id) AS key
        UNION ALL SELECT 'channel' AS dim, NEW.channel AS key
        UNION ALL SELECT 'building' AS dim, COALESCE(CAST(NEW.building_id AS TEXT), '') AS key
        UNION ALL SELECT 'handler' AS dim, COALESCE(CAST(NEW.lead_id AS TEXT), '') AS key
    ) AS d WHERE true
    ON CONFLICT (community_id, day, dim, key) DO UPDATE SET
    requests = request_tallies.requests + excluded.requests,
    responded = request_tallies.responded + excluded.responded,
    responded_on_time = request_tallies.responded_on_time + excluded.responded_on_time,
    resp_seconds = request_tallies.resp_seconds + excluded.resp_seconds,
    resolved = request_tallies.resolved + excluded.resolved,
    res_seconds = request_tallies.res_seconds + excluded.res_seconds,
    followed = request_tallies.followed + excluded.followed,
    solved_halves = request_tallies.solved_halves + excluded.solved_halves,
    satisfied = request_tallies.satisfied + excluded.satisfied;
END;

CREATE INDEX service_requests_open_due ON service_requests (community_id, resolve_due, id)
    WHERE status IN ('received','responded','dispatched','in_progress');
