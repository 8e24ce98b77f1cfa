-- The three rates kept as running tallies, so that figures over any period read a few thousand rows rather than
-- every request: per community, Beijing day and dimension (all, top-level category, channel, building, lead
-- handler), the counts and sums the rates are made of. Triggers keep them in step with every insert and update of a
-- request, in the same transaction. What depends on the moment of reading (requests past a deadline without an
-- answer) is not tallied; it is counted from the open requests when read.

CREATE TABLE request_tallies (
    community_id       BIGINT NOT NULL REFERENCES communities(id),
    day                TEXT NOT NULL,
    dim                TEXT NOT NULL,
    key                TEXT NOT NULL,
    requests           BIGINT NOT NULL DEFAULT 0,
    responded          BIGINT NOT NULL DEFAULT 0,
    responded_on_time  BIGINT NOT NULL DEFAULT 0,
    resp_seconds       BIGINT NOT NULL DEFAULT 0,
    resolved           BIGINT NOT NULL DEFAULT 0,
    res_seconds        BIGINT NOT NULL DEFAULT 0,
    followed           BIGINT NOT NULL DEFAULT 0,
    solved_halves      BIGINT NOT NULL DEFAULT 0,
    satisfied          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, day, dim, key)
);

INSERT INTO request_tallies (community_id, day, dim, key, requests, responded, responded_on_time, resp_seconds, resolved, res_seconds, followed, solved_halves, satisfied)
SELECT community_id, day, dim, key, SUM(requests), SUM(responded), SUM(responded_on_time), SUM(resp_seconds), SUM(resolved), SUM(res_seconds), SUM(followed), SUM(solved_halves), SUM(satisfied)
FROM (
    SELECT r.community_id AS community_id, to_char(r.received_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS day, 'all' AS dim, '' AS key, 1 AS requests, 1 * (CASE WHEN r.responded_at IS NOT NULL THEN 1 ELSE 0 END) AS responded, 1 * (CASE WHEN r.responded_at IS NOT NULL AND r.responded_at <= r.respond_due THEN 1 ELSE 0 END) AS responded_on_time, 1 * COALESCE(FLOOR(EXTRACT(EPOCH FROM (r.responded_at - r.received_at)))::BIGINT, 0) AS resp_seconds, 1 * (CASE WHEN r.resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS resolved, 1 * COALESCE(FLOOR(EXTRACT(EPOCH FROM (r.resolved_at - r.received_at)))::BIGINT, 0) AS res_seconds, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN 1 ELSE 0 END) AS followed, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN (CASE r.followup_solved WHEN 'solved' THEN 2 WHEN 'partly_solved' THEN 1 ELSE 0 END) ELSE 0 END) AS solved_halves, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL AND r.followup_satisfaction <> 'dissatisfied' THEN 1 ELSE 0 END) AS satisfied FROM service_requests r
    UNION ALL SELECT r.community_id AS community_id, to_char(r.received_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS day, 'category' AS dim, (SELECT split_part(code, '.', 1) FROM request_categories WHERE id = r.category_id) AS key, 1 AS requests, 1 * (CASE WHEN r.responded_at IS NOT NULL THEN 1 ELSE 0 END) AS responded, 1 * (CASE WHEN r.responded_at IS NOT NULL AND r.responded_at <= r.respond_due THEN 1 ELSE 0 END) AS responded_on_time, 1 * COALESCE(FLOOR(EXTRACT(EPOCH FROM (r.responded_at - r.received_at)))::BIGINT, 0) AS resp_seconds, 1 * (CASE WHEN r.resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS resolved, 1 * COALESCE(FLOOR(EXTRACT(EPOCH FROM (r.resolved_at - r.received_at)))::BIGINT, 0) AS res_seconds, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN 1 ELSE 0 END) AS followed, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN (CASE r.followup_solved WHEN 'solved' THEN 2 WHEN 'partly_solved' THEN 1 ELSE 0 END) ELSE 0 END) AS solved_halves, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL AND r.followup_satisfaction <> 'dissatisfied' THEN 1 ELSE 0 END) AS satisfied FROM service_requests r
    UNION ALL SELECT r.community_id AS community_id, to_char(r.received_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS day, 'channel' AS dim, r.channel AS key, 1 AS requests, 1 * (CASE WHEN r.responded_at IS NOT NULL THEN 1 ELSE 0 END) AS responded, 1 * (CASE WHEN r.responded_at IS NOT NULL AND r.responded_at <= r.respond_due THEN 1 ELSE 0 END) AS responded_on_time, 1 * COALESCE(FLOOR(EXTRACT(EPOCH FROM (r.responded_at - r.received_at)))::BIGINT, 0) AS resp_seconds, 1 * (CASE WHEN r.resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS resolved, 1 * COALESCE(FLOOR(EXTRACT(EPOCH FROM (r.resolved_at - r.received_at)))::BIGINT, 0) AS res_seconds, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN 1 ELSE 0 END) AS followed, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN (CASE r.followup_solved WHEN 'solved' THEN 2 WHEN 'partly_solved' THEN 1 ELSE 0 END) ELSE 0 END) AS solved_halves, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL AND r.followup_satisfaction <> 'dissatisfied' THEN 1 ELSE 0 END) AS satisfied FROM service_requests r
    UNION ALL SELECT r.community_id AS community_id, to_char(r.received_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS day, 'building' AS dim, COALESCE(r.building_id::TEXT, '') AS key, 1 AS requests, 1 * (CASE WHEN r.responded_at IS NOT NULL THEN 1 ELSE 0 END) AS responded, 1 * (CASE WHEN r.responded_at IS NOT NULL AND r.responded_at <= r.respond_due THEN 1 ELSE 0 END) AS responded_on_time, 1 * COALESCE(FLOOR(EXTRACT(EPOCH FROM (r.responded_at - r.received_at)))::BIGINT, 0) AS resp_seconds, 1 * (CASE WHEN r.resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS resolved, 1 * COALESCE(FLOOR(EXTRACT(EPOCH FROM (r.resolved_at - r.received_at)))::BIGINT, 0) AS res_seconds, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN 1 ELSE 0 END) AS followed, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN (CASE r.followup_solved WHEN 'solved' THEN 2 WHEN 'partly_solved' THEN 1 ELSE 0 END) ELSE 0 END) AS solved_halves, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL AND r.followup_satisfaction <> 'dissatisfied' THEN 1 ELSE 0 END) AS satisfied FROM service_requests r
    UNION ALL SELECT r.community_id AS community_id, to_char(r.received_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS day, 'handler' AS dim, COALESCE(r.lead_id::TEXT, '') AS key, 1 AS requests, 1 * (CASE WHEN r.responded_at IS NOT NULL THEN 1 ELSE 0 END) AS responded, 1 * (CASE WHEN r.responded_at IS NOT NULL AND r.responded_at <= r.respond_due THEN 1 ELSE 0 END) AS responded_on_time, 1 * COALESCE(FLOOR(EXTRACT(EPOCH FROM (r.responded_at - r.received_at)))::BIGINT, 0) AS resp_seconds, 1 * (CASE WHEN r.resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS resolved, 1 * COALESCE(FLOOR(EXTRACT(EPOCH FROM (r.resolved_at - r.received_at)))::BIGINT, 0) AS res_seconds, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN 1 ELSE 0 END) AS followed, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN (CASE r.followup_solved WHEN 'solved' THEN 2 WHEN 'partly_solved' THEN 1 ELSE 0 END) ELSE 0 END) AS solved_halves, 1 * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL AND r.followup_satisfaction <> 'dissatisfied' THEN 1 ELSE 0 END) AS satisfied FROM service_requests r
) t GROUP BY community_id, day, dim, key;

CREATE INDEX service_requests_unanswered ON service_requests (community_id, received_at) WHERE responded_at IS NULL;

CREATE INDEX service_requests_unresolved ON service_requests (community_id, received_at) WHERE resolved_at IS NULL;

CREATE FUNCTION request_tally(r service_requests, s BIGINT) RETURNS void AS $$
BEGIN
    INSERT INTO request_tallies (community_id, day, dim, key, requests, responded, responded_on_time, resp_seconds, resolved, res_seconds, followed, solved_halves, satisfied)
    SELECT r.community_id, to_char(r.received_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'), d.dim, d.key, s, s * (CASE WHEN r.responded_at IS NOT NULL THEN 1 ELSE 0 END), s * (CASE WHEN r.responded_at IS NOT NULL AND r.responded_at <= r.respond_due THEN 1 ELSE 0 END), s * COALESCE(FLOOR(EXTRACT(EPOCH FROM (r.responded_at - r.received_at)))::BIGINT, 0), s * (CASE WHEN r.resolved_at IS NOT NULL THEN 1 ELSE 0 END), s * COALESCE(FLOOR(EXTRACT(EPOCH FROM (r.resolved_at - r.received_at)))::BIGINT, 0), s * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN 1 ELSE 0 END), s * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL THEN (CASE r.followup_solved WHEN 'solved' THEN 2 WHEN 'partly_solved' THEN 1 ELSE 0 END) ELSE 0 END), s * (CASE WHEN r.followup_solved IS NOT NULL AND r.followup_satisfaction IS NOT NULL AND r.followup_satisfaction <> 'dissatisfied' THEN 1 ELSE 0 END)
    FROM (VALUES ('all', ''), ('category', (SELECT split_part(code, '.', 1) FROM request_categories WHERE id = r.category_id)), ('channel', r.channel), ('building', COALESCE(r.building_id::TEXT, '')), ('handler', COALESCE(r.lead_id::TEXT, ''))) AS d(dim, key)
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
$$ LANGUAGE plpgsql;

CREATE FUNCTION request_tallies_trigger() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM request_tally(OLD, -1);
    END IF;
    PERFORM request_tally(NEW, 1);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER request_tallies AFTER INSERT OR UPDATE ON service_requests
    FOR EACH ROW EXECUTE FUNCTION request_tallies_trigger();
