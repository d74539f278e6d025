-- 1. DUPLICATE log, dynamic daily partitions, inverted index, bloom filter
CREATE TABLE IF NOT EXISTS analytics.page_events (
    event_day DATE NOT NULL COMMENT 'partition day', event_time DATETIME(3) NOT NULL,
    site_id INT NOT NULL, session_id VARCHAR(64) NOT NULL, url STRING, referrer VARCHAR(1024),
    latency_ms INT DEFAULT "0",
    INDEX idx_url (url) USING INVERTED COMMENT 'full text on url'
)
DUPLICATE KEY(event_day, event_time, site_id)
COMMENT 'raw page view stream'
PARTITION BY RANGE(event_day) ()
DISTRIBUTED BY HASH(session_id) BUCKETS 16
PROPERTIES ("replication_num" = "1", "dynamic_partition.enable" = "true", "dynamic_partition.time_unit" = "DAY",
    "dynamic_partition.start" = "-30", "dynamic_partition.end" = "3", "dynamic_partition.prefix" = "d",
    "dynamic_partition.buckets" = "16", "bloom_filter_columns" = "session_id", "compression" = "ZSTD");

-- 2. MoW UNIQUE, sequence column, row store, LIST partitions
CREATE TABLE IF NOT EXISTS sales.orders (
    region VARCHAR(16) NOT NULL, order_id BIGINT NOT NULL, customer_id BIGINT NOT NULL,
    status TINYINT NOT NULL DEFAULT "0", amount DECIMAL(18, 2) NOT NULL,
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), note STRING
)
UNIQUE KEY(region, order_id)
PARTITION BY LIST(region) (
    PARTITION p_apac VALUES IN ("CN", "JP", "SG"),
    PARTITION p_emea VALUES IN ("DE", "FR", "UK"),
    PARTITION p_amer VALUES IN ("US", "CA", "BR"))
DISTRIBUTED BY HASH(order_id) BUCKETS 8
PROPERTIES ("replication_allocation" = "tag.location.default: 1", "enable_unique_key_merge_on_write" = "true",
    "function_column.sequence_col" = "updated_at", "light_schema_change" = "true", "store_row_column" = "true");

-- 3. AGGREGATE with every classic agg type, batch monthly ranges, rollup
CREATE TABLE IF NOT EXISTS ads.campaign_daily (
    stat_date DATE NOT NULL, campaign_id BIGINT NOT NULL, channel VARCHAR(32) NOT NULL,
    impressions BIGINT SUM DEFAULT "0", clicks BIGINT SUM DEFAULT "0",
    max_bid DECIMAL(10,4) MAX, min_bid DECIMAL(10,4) MIN,
    last_creative VARCHAR(128) REPLACE, last_owner VARCHAR(64) REPLACE_IF_NOT_NULL,
    uv_bitmap BITMAP BITMAP_UNION, uv_hll HLL HLL_UNION
)
AGGREGATE KEY(stat_date, campaign_id, channel)
PARTITION BY RANGE(stat_date) (FROM ("2024-01-01") TO ("2025-01-01") INTERVAL 1 MONTH)
DISTRIBUTED BY HASH(campaign_id) BUCKETS 10
ROLLUP (r_by_channel (stat_date, channel, impressions, clicks, uv_bitmap))
PROPERTIES ("replication_num" = "1");
INSERT INTO ads.campaign_daily VALUES ('2024-03-01', 7, 'search', 100, 3, 1.2, 0.4, 'c9', NULL, TO_BITMAP(42), HLL_HASH(42));
SELECT channel, SUM(clicks), BITMAP_UNION_COUNT(uv_bitmap), HLL_UNION_AGG(uv_hll) FROM ads.campaign_daily GROUP BY channel;

-- 4. complex/semi-structured types, auto partition, auto buckets
CREATE TABLE IF NOT EXISTS iot.device_readings (
    ts DATETIME NOT NULL, device_id LARGEINT NOT NULL, firmware CHAR(12),
    tags ARRAY<VARCHAR(32)>, metrics MAP<VARCHAR(32), DOUBLE>, location STRUCT<lat:DOUBLE, lon:DOUBLE>,
    payload JSON, is_valid BOOLEAN
)
DUPLICATE KEY(ts, device_id)
AUTO PARTITION BY RANGE (date_trunc(ts, 'month')) ()
DISTRIBUTED BY RANDOM BUCKETS AUTO
PROPERTIES ("replication_num" = "1", "estimate_partition_size" = "5G");

-- 5. MoR UNIQUE with hidden sequence column and typical follow-ups
CREATE TABLE IF NOT EXISTS crm.customer_profile (
    customer_id BIGINT NOT NULL, email VARCHAR(256) NOT NULL, segment VARCHAR(32), score DOUBLE, signup_date DATE
)
UNIQUE KEY(customer_id)
DISTRIBUTED BY HASH(customer_id) BUCKETS 4
PROPERTIES ("replication_num" = "1", "enable_unique_key_merge_on_write" = "false",
    "function_column.sequence_type" = "bigint");
INSERT INTO crm.customer_profile (customer_id, email, segment, score, signup_date, __DORIS_SEQUENCE_COL__)
VALUES (1, 'a@x.io', 'gold', 9.5, '2023-05-01', 20240101);
UPDATE crm.customer_profile SET score = score + 1 WHERE customer_id = 1;
DELETE FROM crm.customer_profile WHERE customer_id = 1;   -- before the MV: MV columns block DELETE predicates
ALTER TABLE crm.customer_profile ADD COLUMN country VARCHAR(8) DEFAULT "NA" AFTER segment;  -- poll SHOW ALTER TABLE COLUMN
CREATE MATERIALIZED VIEW mv_cid_segment AS SELECT customer_id AS cid_, segment AS seg_ FROM crm.customer_profile;
