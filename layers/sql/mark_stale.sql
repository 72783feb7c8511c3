-- Mark the assets of live layers whose last report is older than their layer's stale_after (or that
-- never reported) and return those not announced before for this same last report.
WITH limits AS (
    SELECT * FROM unnest(CAST(:layer_ids AS text[]), CAST(:stale_after AS interval[]))
        AS l(layer_id, stale_after)
), stale AS (
    SELECT a.id AS asset_id, a.layer_id, s.observed_at
    FROM limits l
    JOIN assets a ON a.layer_id = l.layer_id
    LEFT JOIN asset_status s ON s.asset_id = a.id
    WHERE s.observed_at IS NULL OR s.observed_at < :now - l.stale_after
), marked AS (
    INSERT INTO stale_marks AS m (asset_id, observed_at, since)
    SELECT asset_id, observed_at, :now FROM stale ORDER BY asset_id
    ON CONFLICT (asset_id) DO UPDATE SET observed_at = EXCLUDED.observed_at, since = EXCLUDED.since
    WHERE m.observed_at IS DISTINCT FROM EXCLUDED.observed_at
    RETURNING m.asset_id
)
SELECT stale.layer_id, marked.asset_id
FROM marked JOIN stale USING (asset_id)
ORDER BY stale.layer_id, marked.asset_id
