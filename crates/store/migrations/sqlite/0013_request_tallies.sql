-- The three rates kept as running tallies, so that figures over any period read a few thousand rows rather than
-- every request: per community, Beijing day and dimension (all, top-level category, channel, building, lead
-- handler), the counts and sums the rates are made of. Triggers keep them in step with every insert and update of a
-- request, in the same transaction. What depends on the moment of reading (requests past a deadline without an
-- answer) is not tallied; it is counted from the open requests when read.

CREATE TABLE request_tallies (
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
);

INSERT INTO request_tallies (community_id, day, dim, key, requests, responded, responded_on_time, resp_seconds, resolved, res_seconds, followed, solved_halves, satisfied)
SELECT community_id, day, dim, key, SUM(requests), SUM(responded), SUM(responded_on_time), SUM(resp_seconds), SUM(resolved), SUM(res_seconds), SUM(followed), SUM(solved_halves), SUM(satisfied)
FROM (
    SELECT r.community_id AS community_id, date(r.received_at, '+8 hours') AS day, 'all' AS dim, '' AS key, 1 AS requests, 1 * (CASE WHEN r.responded_at IS NOT NULL THEN 1 ELSE 0 END) AS responded, 1 * (CASE WHEN r.responded_at IS NOT NULL AND r.responded_at <= r.respond_due THEN 1 ELSE 0 END) AS responded_on_time, 1 * COALESCE(CAST(ROUND((julianday(r.responded_at) - julianday(r.received_at)) * 86400.0) AS INTEGER), 0) AS resp_seconds, 1 * (CASE WHEN r.resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS resolved, 1 * COALESCE(CAST(ROUND((julianday(r.resolved_at) - julianday(r.received_at)) * 86400.0) AS INTEGER), 0) AS res_seconds, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN 1 ELSE 0 END) AS followed, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN (CASE r.followup_solved WHEN 'solved' THEN 2 WHEN 'partly_solved' THEN 1 ELSE 0 END) ELSE 0 END) AS solved_halves, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL AND r.followup_satisfaction <> 'dissatisfied' THEN 1 ELSE 0 END) AS satisfied FROM service_requests r
    UNION ALL SELECT r.community_id AS community_id, date(r.received_at, '+8 hours') AS day, 'category' AS dim, (SELECT substr(code, 1, instr(code || '.', '.') - 1) FROM request_categories WHERE id = r.category_id) AS key, 1 AS requests, 1 * (CASE WHEN r.responded_at IS NOT NULL THEN 1 ELSE 0 END) AS responded, 1 * (CASE WHEN r.responded_at IS NOT NULL AND r.responded_at <= r.respond_due THEN 1 ELSE 0 END) AS responded_on_time, 1 * COALESCE(CAST(ROUND((julianday(r.responded_at) - julianday(r.received_at)) * 86400.0) AS INTEGER), 0) AS resp_seconds, 1 * (CASE WHEN r.resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS resolved, 1 * COALESCE(CAST(ROUND((julianday(r.resolved_at) - julianday(r.received_at)) * 86400.0) AS INTEGER), 0) AS res_seconds, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN 1 ELSE 0 END) AS followed, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN (CASE r.followup_solved WHEN 'solved' THEN 2 WHEN 'partly_solved' THEN 1 ELSE 0 END) ELSE 0 END) AS solved_halves, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL AND r.followup_satisfaction <> 'dissatisfied' THEN 1 ELSE 0 END) AS satisfied FROM service_requests r
    UNION ALL SELECT r.community_id AS community_id, date(r.received_at, '+8 hours') AS day, 'channel' AS dim, r.channel AS key, 1 AS requests, 1 * (CASE WHEN r.responded_at IS NOT NULL THEN 1 ELSE 0 END) AS responded, 1 * (CASE WHEN r.responded_at IS NOT NULL AND r.responded_at <= r.respond_due THEN 1 ELSE 0 END) AS responded_on_time, 1 * COALESCE(CAST(ROUND((julianday(r.responded_at) - julianday(r.received_at)) * 86400.0) AS INTEGER), 0) AS resp_seconds, 1 * (CASE WHEN r.resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS resolved, 1 * COALESCE(CAST(ROUND((julianday(r.resolved_at) - julianday(r.received_at)) * 86400.0) AS INTEGER), 0) AS res_seconds, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN 1 ELSE 0 END) AS followed, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN (CASE r.followup_solved WHEN 'solved' THEN 2 WHEN 'partly_solved' THEN 1 ELSE 0 END) ELSE 0 END) AS solved_halves, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL AND r.followup_satisfaction <> 'dissatisfied' THEN 1 ELSE 0 END) AS satisfied FROM service_requests r
    UNION ALL SELECT r.community_id AS community_id, date(r.received_at, '+8 hours') AS day, 'building' AS dim, COALESCE(CAST(r.building_id AS TEXT), '') AS key, 1 AS requests, 1 * (CASE WHEN r.responded_at IS NOT NULL THEN 1 ELSE 0 END) AS responded, 1 * (CASE WHEN r.responded_at IS NOT NULL AND r.responded_at <= r.respond_due THEN 1 ELSE 0 END) AS responded_on_time, 1 * COALESCE(CAST(ROUND((julianday(r.responded_at) - julianday(r.received_at)) * 86400.0) AS INTEGER), 0) AS resp_seconds, 1 * (CASE WHEN r.resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS resolved, 1 * COALESCE(CAST(ROUND((julianday(r.resolved_at) - julianday(r.received_at)) * 86400.0) AS INTEGER), 0) AS res_seconds, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN 1 ELSE 0 END) AS followed, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN (CASE r.followup_solved WHEN 'solved' THEN 2 WHEN 'partly_solved' THEN 1 ELSE 0 END) ELSE 0 END) AS solved_halves, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL AND r.followup_satisfaction <> 'dissatisfied' THEN 1 ELSE 0 END) AS satisfied FROM service_requests r
    UNION ALL SELECT r.community_id AS community_id, date(r.received_at, '+8 hours') AS day, 'handler' AS dim, COALESCE(CAST(r.lead_id AS TEXT), '') AS key, 1 AS requests, 1 * (CASE WHEN r.responded_at IS NOT NULL THEN 1 ELSE 0 END) AS responded, 1 * (CASE WHEN r.responded_at IS NOT NULL AND r.responded_at <= r.respond_due THEN 1 ELSE 0 END) AS responded_on_time, 1 * COALESCE(CAST(ROUND((julianday(r.responded_at) - julianday(r.received_at)) * 86400.0) AS INTEGER), 0) AS resp_seconds, 1 * (CASE WHEN r.resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS resolved, 1 * COALESCE(CAST(ROUND((julianday(r.resolved_at) - julianday(r.received_at)) * 86400.0) AS INTEGER), 0) AS res_seconds, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN 1 ELSE 0 END) AS followed, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN (CASE r.followup_solved WHEN 'solved' THEN 2 WHEN 'partly_solved' THEN 1 ELSE 0 END) ELSE 0 END) AS solved_halves, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL AND r.followup_satisfaction <> 'dissatisfied' THEN 1 ELSE 0 END) AS satisfied FROM service_requests r
) t GROUP BY community_id, day, dim, key;

CREATE INDEX service_requests_unanswered ON service_requests (community_id, received_at) WHERE responded_at IS NULL;

CREATE INDEX service_requests_unresolved ON service_requests (community_id, received_at) WHERE resolved_at IS NULL;

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
