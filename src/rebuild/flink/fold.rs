//! The fold in SQL: every field's value after the last reset (an erasure of the customer, or a
//! JSON null at the field's path), by the field's rule, over all retained events (scope `all`)
//! and over those the builder has consumed (scope `consumed`), ordered as the rehearsal orders a
//! customer's events: event time, broker time, topic, offset (then partition).

use std::fmt::Write as _;

use crate::profile::{Rule, Spec};

/// The views from `fv_{scope}` (field values) and `er_{scope}` (erasures) to `folded_{scope}`
/// (customer, fno, val): `val` is the field's JSON text, no row where the field is unset.
///
/// Each scope is a pipeline of its own rather than a constant column of one: Flink 2.3's planner,
/// given a join on a constant-valued key, distributes the two sides by different keys at
/// parallelism above one, and the join then misses rows.
pub fn fold_views(spec: &Spec, scope: &str) -> String {
    let mut sql = String::new();
    let _ = write!(
        sql,
        "-- Scope {scope}: the last reset of each field: the customer's last erasure, or a null at its path.\n\
         CREATE TEMPORARY VIEW last_erasure_{scope} AS\n\
         SELECT customer, MAX(pos) AS reset_at FROM er_{scope} GROUP BY customer;\n\n\
         CREATE TEMPORARY VIEW last_null_{scope} AS\n\
         SELECT customer, fno, MAX(pos) AS reset_at FROM fv_{scope}\n\
         WHERE kind = 'null' AND NOT erase GROUP BY customer, fno;\n\n\
         -- The values each field folds: after its last reset (an erasure record's own values are not folded).\n\
         CREATE TEMPORARY VIEW live_{scope} AS\n\
         SELECT f.* FROM fv_{scope} f\n\
         LEFT JOIN last_erasure_{scope} e ON e.customer = f.customer\n\
         LEFT JOIN last_null_{scope} n ON n.customer = f.customer AND n.fno = f.fno\n\
         WHERE NOT f.erase AND f.kind <> 'null'\n\
         AND f.pos > COALESCE(e.reset_at, '') AND f.pos > COALESCE(n.reset_at, '');\n\n"
    );
    let parts: Vec<String> = spec
        .fields
        .iter()
        .enumerate()
        .map(|(j, field)| {
            format!(
                "-- {} ({:?})\n{}",
                field.name,
                field.rule,
                rule_sql(j, field.rule, &format!("live_{scope}"))
            )
        })
        .collect();
    let _ = write!(
        sql,
        "CREATE TEMPORARY VIEW folded_{scope} AS\n{};\n\n",
        parts.join("\nUNION ALL\n")
    );
    sql
}

const GROUP: &str = "customer, fno";

fn rule_sql(j: usize, rule: Rule, live: &str) -> String {
    let live = format!("(SELECT * FROM {live} WHERE fno = {j})");
    let pick = |order: &str| {
        format!(
            "SELECT {GROUP}, txt AS val FROM (\n  SELECT l.*, ROW_NUMBER() OVER (PARTITION BY {GROUP} ORDER BY {order}) AS rn\n  FROM {live} l\n) WHERE rn = 1"
        )
    };
    match rule {
        Rule::Last => pick("pos DESC"),
        Rule::First => pick("pos"),
        Rule::Count => {
            format!(
                "SELECT {GROUP}, CAST(COUNT(*) AS STRING) AS val FROM {live} l GROUP BY {GROUP}"
            )
        }
        // Integers add up as integers; decimals (up to nine places) exactly, then as the nearest
        // double, which is what rounding the running sum to their places gives; anything else
        // as doubles.
        Rule::Sum => format!(
            "SELECT {GROUP}, CASE\n\
             \x20 WHEN MIN(CASE WHEN REGEXP(txt, '^-?[0-9]+$') THEN 1 ELSE 0 END) = 1\n\
             \x20   THEN CAST(SUM(CAST(txt AS DECIMAL(38, 0))) AS STRING)\n\
             \x20 WHEN MIN(CASE WHEN REGEXP(txt, '^-?[0-9]+(\\.[0-9]*?)?0*$') AND CHAR_LENGTH(COALESCE(REGEXP_EXTRACT(txt, '^-?[0-9]+\\.([0-9]*?)0*$', 1), '')) <= 9 THEN 1 ELSE 0 END) = 1\n\
             \x20   THEN CAST(CAST(SUM(CAST(txt AS DECIMAL(38, 9))) AS DOUBLE) AS STRING)\n\
             \x20 ELSE CAST(SUM(CAST(txt AS DOUBLE)) AS STRING) END AS val\n\
             FROM {live} l WHERE kind = 'num' GROUP BY {GROUP}"
        ),
        // Only values of the first value's kind compete (freshlens compares numbers with numbers
        // and strings with strings, and keeps the current value otherwise); ties keep the earliest.
        Rule::Min | Rule::Max => {
            let dir = if rule == Rule::Min { "" } else { " DESC" };
            format!(
                "SELECT {GROUP}, txt AS val FROM (\n\
                 \x20 SELECT l.*, ROW_NUMBER() OVER (PARTITION BY l.customer, l.fno ORDER BY\n\
                 \x20   CASE WHEN l.kind = 'num' THEN CAST(l.txt AS DOUBLE) END{dir},\n\
                 \x20   CASE WHEN l.kind = 'str' THEN l.s END{dir}, l.pos) AS rn\n\
                 \x20 FROM {live} l JOIN (\n\
                 \x20   SELECT {GROUP}, kind AS first_kind, pos AS first_pos FROM (\n\
                 \x20     SELECT {GROUP}, kind, pos, ROW_NUMBER() OVER (PARTITION BY {GROUP} ORDER BY pos) AS rn0 FROM {live} x\n\
                 \x20   ) WHERE rn0 = 1\n\
                 \x20 ) k ON k.customer = l.customer AND k.fno = l.fno\n\
                 \x20 WHERE (k.first_kind IN ('num', 'str') AND l.kind = k.first_kind) OR l.pos = k.first_pos\n\
                 ) WHERE rn = 1"
            )
        }
        // Distinct values in the order first seen: an OVER window concatenates in its order.
        Rule::Distinct => format!(
            "SELECT {GROUP}, '[' || agg || ']' AS val FROM (\n\
             \x20 SELECT {GROUP}, LISTAGG(txt, ',') OVER ({w}) AS agg, COUNT(*) OVER ({w}) AS n,\n\
             \x20   COUNT(*) OVER (PARTITION BY {GROUP}) AS total\n\
             \x20 FROM (SELECT {GROUP}, txt, MIN(pos) AS first_pos FROM {live} l GROUP BY {GROUP}, txt)\n\
             ) WHERE n = total",
            w = format!(
                "PARTITION BY {GROUP} ORDER BY first_pos ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
            )
        ),
    }
}
