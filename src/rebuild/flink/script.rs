//! The script, statement by statement: tables, decoded payloads, the identity map, each
//! customer's field values, the fold, the store's latest versions, the classes, the sinks.

use std::fmt::Write as _;

use super::paths::{json_path, literal};
use super::refusal::{Refusal, Refused};
use super::request::EmitRequest;
use super::tables::{profiles_table, result_tables, source_table};
use super::values::{
    equals, event_ms, id_text, is_null, is_number, kind, plausible, same, unwrap, wrapped,
};
use crate::profile::spec::{Source, SourceFormat};
use crate::profile::{MASK, Rule, Spec};

/// The Flink SQL script for `request`, or every reason it cannot be exact.
pub fn flink_sql(request: &EmitRequest<'_>) -> Result<String, Refused> {
    let spec = request.spec;
    let mut refusals = Vec::new();
    let Some(store) = &spec.store else {
        return Err(Refused(vec![Refusal::new(
            "[store]",
            "the spec has no [store]: there is nothing to compare a rebuild with",
        )]));
    };
    if spec.fields.is_empty() {
        refusals.push(Refusal::new(
            "[[field]]",
            "the spec defines no fields: there is nothing to rebuild",
        ));
    }
    for src in &spec.sources {
        if let Some(why) = unsupported_format(request, &src.topic, src.format) {
            refusals.push(Refusal::new(&format!("source {}", src.topic), why));
        }
    }
    if let Some(why) = unsupported_format(request, &store.topic, store.format) {
        refusals.push(Refusal::new("[store]", why));
    }
    let mut sql = String::new();
    let mut try_push = |result: Result<String, Refusal>| match result {
        Ok(text) => sql.push_str(&text),
        Err(refusal) => refusals.push(refusal),
    };
    try_push(Ok(header(request)));
    let topics = spec
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("src{i}"), format!("doc{i}"), &s.topic, s.format))
        .chain([(
            "st".to_owned(),
            "stdoc".to_owned(),
            &store.topic,
            store.format,
        )]);
    for (table, doc, topic, format) in topics {
        try_push(Ok(format!("-- Topic {topic}\n")));
        try_push(tables_of(request, (&table, &doc), topic, format));
    }
    try_push(links(spec));
    for (i, src) in spec.sources.iter().enumerate() {
        try_push(events(spec, i, src));
    }
    try_push(field_values(spec));
    try_push(Ok(scopes(request)));
    try_push(Ok(super::fold::fold_views(spec, "all")));
    try_push(Ok(super::fold::fold_views(spec, "consumed")));
    try_push(compare(request));
    try_push(Ok(result_tables(&request.tables)));
    if let Some(topic) = &request.sink_topic {
        try_push(Ok(profiles_table(&request.tables, topic)));
        try_push(profiles_view(spec));
    }
    try_push(Ok(inserts(request)));
    if refusals.is_empty() {
        Ok(sql)
    } else {
        Err(Refused(refusals))
    }
}

fn unsupported_format(
    request: &EmitRequest<'_>,
    topic: &str,
    format: SourceFormat,
) -> Option<String> {
    let files = matches!(request.tables, super::tables::Tables::Files { .. });
    match format {
        SourceFormat::Json | SourceFormat::JsonSchema => None,
        SourceFormat::Avro if files => Some(
            "format avro is compiled for the cluster (Flink's avro-confluent format), not for a \
             capture's files, which the filesystem connector cannot read with Confluent's framing"
                .into(),
        ),
        SourceFormat::Avro if !request.avro.contains_key(topic) => Some(format!(
            "format avro needs --schema-registry: the latest schema of {topic}-value gives the \
             table's columns"
        )),
        SourceFormat::Avro => None,
        other => Some(format!(
            "format {} is not compiled: the job reads JSON payloads (plain, or in Confluent's \
             JSON Schema framing) with Flink's JSON functions, and Avro through avro-confluent",
            other.name()
        )),
    }
}

/// A topic's table and its decoded view (`k`, `tombstone`, `doc`, `ok`, `part`, `off`,
/// `broker_ms`), whatever its format.
fn tables_of(
    request: &EmitRequest<'_>,
    (table, doc): (&str, &str),
    topic: &str,
    format: SourceFormat,
) -> Result<String, Refusal> {
    let Some(avro) = request
        .avro
        .get(topic)
        .filter(|_| format == SourceFormat::Avro)
    else {
        return Ok(source_table(&request.tables, table, topic) + &doc_view(doc, table, format));
    };
    let columns = super::avro::columns(&format!("topic {topic}"), &avro.schema)?;
    let names: Vec<String> = columns.iter().map(|(c, _)| super::avro::quote(c)).collect();
    let types: Vec<String> = columns
        .iter()
        .map(|(c, t)| format!("{} {t}", super::avro::quote(c)))
        .collect();
    // A record turned back into the JSON freshlens decodes it to. Flink's Kafka source skips
    // records with no value, so an Avro topic's tombstones are neither read nor counted.
    Ok(
        super::tables::avro_table(&request.tables, table, topic, avro, &columns)
            + &format!(
                "CREATE TEMPORARY VIEW {doc} AS\n\
             SELECT CAST(fl_k AS STRING) AS k, FALSE AS tombstone,\n\
             \x20 JSON_STRING(CAST(ROW({}) AS ROW<{}>)) AS doc, TRUE AS ok,\n\
             \x20 fl_part AS part, fl_off AS off, COALESCE({}, 0) AS broker_ms\n\
             FROM {table};\n\n",
                names.join(", "),
                types.join(", "),
                plausible("fl_broker_ms"),
            ),
    )
}

fn header(request: &EmitRequest<'_>) -> String {
    let spec = request.spec;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "-- freshlens rebuild job for the profile {:?} of {}.",
        spec.name, request.spec_name
    );
    text += "-- Folds every retained event of every customer as freshlens folds (event time, then\n\
             -- broker time, topic and offset), compares with the store's latest version of each\n\
             -- key, and writes one row per customer and differing field to rebuild_differences\n\
             -- (class: store ahead / store behind / different) and the counts of\n\
             -- `freshlens rebuild --rehearse` to rebuild_summary.\n";
    match &request.tables {
        super::tables::Tables::Kafka { .. } => {
            text += "-- Run: sql-client.sh -f this-file.sql (the Kafka connector jar on the classpath).\n\
                     -- Placeholders ${...} stand for secrets: set them before running; freshlens never prints them.\n";
        }
        super::tables::Tables::Files { .. } => {
            text +=
                "-- Reads the capture's records from the JSON-lines files beside this script.\n";
        }
    }
    if let Some(topic) = &request.sink_topic {
        let _ = writeln!(
            text,
            "-- Also writes each rebuilt profile to {topic} (upsert by key, the store's layout)."
        );
    }
    text += "\nSET 'execution.runtime-mode' = 'batch';\n\
             SET 'table.local-time-zone' = 'UTC';\n\
             SET 'table.dml-sync' = 'true';\n\n";
    text
}

/// A payload as JSON text: the value itself, or after Confluent's five framing bytes (magic
/// byte 0 and the schema id), which Latin-1 maps one to one onto characters.
fn payload(format: SourceFormat) -> String {
    match format {
        SourceFormat::JsonSchema => "CASE WHEN CHAR_LENGTH(DECODE(v, 'ISO-8859-1')) >= 5 \
             AND SUBSTRING(DECODE(v, 'ISO-8859-1') FROM 1 FOR 1) = CHR(0) \
             THEN DECODE(ENCODE(SUBSTRING(DECODE(v, 'ISO-8859-1') FROM 6), 'ISO-8859-1'), 'UTF-8') END"
            .into(),
        _ => "DECODE(v, 'UTF-8')".into(),
    }
}

fn doc_view(name: &str, table: &str, format: SourceFormat) -> String {
    format!(
        "CREATE TEMPORARY VIEW {name} AS\n\
         SELECT CAST(k AS STRING) AS k, v IS NULL AS tombstone, doc, COALESCE(doc IS JSON, FALSE) AS ok,\n\
         \x20 part, off, COALESCE({bms}, 0) AS broker_ms\n\
         FROM (SELECT k, v, {payload} AS doc, part, off, broker_ms FROM {table});\n\n",
        payload = payload(format),
        bms = plausible("broker_ms"),
    )
}

fn link_sources(spec: &Spec) -> impl Iterator<Item = (usize, &Source)> {
    spec.sources
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.links.is_empty())
}

/// The identity map as the rehearsal reads it: every key of a link source is a customer; an id
/// at a link pointer belongs to the customer holding it, the least key where two claim it.
fn links(spec: &Spec) -> Result<String, Refusal> {
    if link_sources(spec).next().is_none() {
        return Ok(String::new());
    }
    let keys: Vec<String> = link_sources(spec)
        .map(|(i, _)| format!("SELECT k FROM doc{i} WHERE k IS NOT NULL"))
        .collect();
    let mut claims = Vec::new();
    for (i, src) in link_sources(spec) {
        for pointer in &src.links {
            let what = format!("source {} link {pointer}", src.topic);
            claims.push(format!(
                "SELECT k, {} AS id FROM doc{i} WHERE k IS NOT NULL AND ok",
                id_text(&what, "doc", pointer)?
            ));
        }
    }
    Ok(format!(
        "-- The identity map: link-source keys are customers; linked ids go to the least key claiming them.\n\
         CREATE TEMPORARY VIEW link_keys AS\nSELECT DISTINCT k FROM ({});\n\n\
         CREATE TEMPORARY VIEW link_alias AS\nSELECT id, MIN(k) AS customer FROM ({})\n\
         WHERE id IS NOT NULL AND id <> k GROUP BY id;\n\n",
        keys.join(" UNION ALL "),
        claims.join(" UNION ALL ")
    ))
}

/// The rank of each source's topic by name: the rehearsal orders equal times by topic name.
fn topic_rank(spec: &Spec, topic: &str) -> usize {
    let mut names: Vec<&str> = spec.sources.iter().map(|s| s.topic.as_str()).collect();
    names.sort_unstable();
    names.iter().position(|t| *t == topic).unwrap_or(0)
}

/// A source's events: keyed, with a value, decodable; routed to their customer, timed, and
/// placed by `pos`, a string that sorts as the rehearsal orders a customer's events.
fn events(spec: &Spec, i: usize, src: &Source) -> Result<String, Refusal> {
    let what = format!("source {}", src.topic);
    let customer = if link_sources(spec).next().is_some() {
        "COALESCE(lk.k, la.customer, d.k)"
    } else {
        "d.k"
    };
    let joins = if link_sources(spec).next().is_some() {
        "\nLEFT JOIN link_keys lk ON lk.k = d.k LEFT JOIN link_alias la ON la.id = d.k"
    } else {
        ""
    };
    let event_time = match &src.event_time {
        Some(pointer) => format!(
            "COALESCE({}, d.broker_ms)",
            event_ms(&what, "d.doc", pointer)?
        ),
        None => "d.broker_ms".into(),
    };
    let erase = match &src.erase_when {
        Some(c) => equals(&format!("{what} erase_when"), "d.doc", &c.path, &c.equals)?,
        None => "FALSE".into(),
    };
    Ok(format!(
        "CREATE TEMPORARY VIEW ev{i} AS\n\
         SELECT customer, part, off, broker_ms, event_ms, erase, doc,\n\
         \x20 LPAD(CAST(event_ms AS STRING), 16, '0') || LPAD(CAST(broker_ms AS STRING), 16, '0') || '{rank:03}'\n\
         \x20 || LPAD(CAST(off AS STRING), 20, '0') || LPAD(CAST(part AS STRING), 10, '0') AS pos\n\
         FROM (\n\
         \x20 SELECT {customer} AS customer, d.part, d.off, d.broker_ms, {event_time} AS event_ms,\n\
         \x20   {erase} AS erase, d.doc\n\
         \x20 FROM doc{i} d{joins}\n\
         \x20 WHERE d.k IS NOT NULL AND NOT d.tombstone AND d.ok\n\
         );\n\n",
        rank = topic_rank(spec, &src.topic),
    ))
}

/// One row per event and field whose path is set (a value, or JSON null): `txt` is the value's
/// JSON text, `kind` its kind, `s` its scalar text.
fn field_values(spec: &Spec) -> Result<String, Refusal> {
    let mut parts = Vec::new();
    for (j, field) in spec.fields.iter().enumerate() {
        let what = format!("field {}", field.name);
        let i = spec
            .sources
            .iter()
            .position(|s| s.topic == field.topic)
            .unwrap_or(0);
        let path = json_path(&what, &field.path)?;
        parts.push(format!(
            "SELECT customer, {j} AS fno, pos, part, {topic} AS topic, off, erase, {w} AS w, {null} AS is_null FROM ev{i}",
            topic = literal(&field.topic),
            w = wrapped("doc", &path),
            null = is_null(&what, "doc", &field.path)?,
        ));
    }
    let txt = unwrap("w");
    Ok(format!(
        "-- Each field's values, one row per event that sets its path.\n\
         CREATE TEMPORARY VIEW fv AS\n{};\n\n\
         CREATE TEMPORARY VIEW fvx AS\n\
         SELECT customer, fno, pos, part, topic, off, erase,\n\
         \x20 CASE WHEN w IS NULL THEN 'null' ELSE {txt} END AS txt,\n\
         \x20 CASE WHEN w IS NULL THEN CAST('null' AS STRING) ELSE {kind} END AS kind,\n\
         \x20 JSON_VALUE(w, '$[0]') AS s\n\
         FROM fv WHERE w IS NOT NULL OR is_null;\n\n",
        parts.join("\nUNION ALL\n"),
        kind = kind(&txt),
    ))
}

/// The builder's committed offsets as emitted, and every value and erasure in two scopes: all
/// retained events, and those the builder has consumed.
fn scopes(request: &EmitRequest<'_>) -> String {
    let offsets = if request.committed.is_empty() {
        "SELECT CAST(NULL AS STRING) AS topic, CAST(NULL AS INT) AS part, CAST(NULL AS BIGINT) AS committed \
         FROM (VALUES (1)) AS none(x) WHERE x = 0"
            .to_owned()
    } else {
        let rows: Vec<String> = request
            .committed
            .iter()
            .map(|((topic, part), offset)| {
                format!(
                    "(CAST({} AS STRING), {part}, CAST({offset} AS BIGINT))",
                    literal(topic)
                )
            })
            .collect();
        format!(
            "SELECT * FROM (VALUES\n  {}\n) AS o(topic, part, committed)",
            rows.join(",\n  ")
        )
    };
    let spec = request.spec;
    let erasures: Vec<String> = spec
        .sources
        .iter()
        .enumerate()
        .filter(|(_, s)| s.erase_when.is_some())
        .map(|(i, s)| {
            format!(
                "SELECT customer, pos, {} AS topic, part, off FROM ev{i} WHERE erase",
                literal(&s.topic)
            )
        })
        .collect();
    let erasures = if erasures.is_empty() {
        "SELECT CAST(NULL AS STRING) AS customer, CAST(NULL AS STRING) AS pos, CAST(NULL AS STRING) AS topic, \
         CAST(NULL AS INT) AS part, CAST(NULL AS BIGINT) AS off FROM (VALUES (1)) AS none(x) WHERE x = 0"
            .to_owned()
    } else {
        erasures.join(" UNION ALL ")
    };
    format!(
        "-- The builder group's committed offsets when this job was emitted: what it had consumed.\n\
         CREATE TEMPORARY VIEW builder_offsets AS\n{offsets};\n\n\
         CREATE TEMPORARY VIEW fv_all AS SELECT * FROM fvx;\n\n\
         CREATE TEMPORARY VIEW fv_consumed AS\n\
         SELECT f.* FROM fvx f\n\
         JOIN builder_offsets o ON o.topic = f.topic AND o.part = f.part WHERE f.off < o.committed;\n\n\
         CREATE TEMPORARY VIEW er_all AS\n{erasures};\n\n\
         CREATE TEMPORARY VIEW er_consumed AS\n\
         SELECT e.* FROM er_all e\n\
         JOIN builder_offsets o ON o.topic = e.topic AND o.part = e.part WHERE e.off < o.committed;\n\n"
    )
}

/// The store's latest version per key, what it serves for each field, and the classes.
fn compare(request: &EmitRequest<'_>) -> Result<String, Refusal> {
    let spec = request.spec;
    let Some(store) = &spec.store else {
        return Ok(String::new());
    };
    let mut served = Vec::new();
    for (j, field) in spec.fields.iter().enumerate() {
        let what = format!("[store] field {}", field.name);
        let pointer = format!(
            "{}/{}",
            store.fields,
            field.name.replace('~', "~0").replace('/', "~1")
        );
        let path = json_path(&what, &pointer)?;
        let w = wrapped("doc", &path);
        served.push(format!(
            "SELECT k AS customer, {j} AS fno, CASE WHEN {w} IS NULL THEN 'null' ELSE {txt} END AS val \
             FROM store_latest WHERE ok AND ({w} IS NOT NULL OR {null})",
            txt = unwrap(&w),
            null = is_null(&what, "doc", &pointer)?,
        ));
    }
    let customers: Vec<String> = (0..spec.sources.len())
        .map(|i| format!("SELECT customer FROM ev{i}"))
        .collect();
    let fields: Vec<String> = spec
        .fields
        .iter()
        .enumerate()
        .map(|(j, f)| format!("({j}, CAST({} AS STRING), {})", literal(&f.name), f.pii))
        .collect();
    let classes: Vec<String> = spec
        .fields
        .iter()
        .enumerate()
        .map(|(j, f)| format!("WHEN {j} THEN {}", rule_class(f.rule)))
        .collect();
    let mask = |column: &str| {
        if request.reveal_pii {
            column.to_owned()
        } else {
            format!(
                "CASE WHEN pii AND {column} IS NOT NULL THEN {} ELSE {column} END",
                literal(&serde_json::to_string(MASK).unwrap_or_default())
            )
        }
    };
    Ok(format!(
        "-- The store's latest version of each key; a version that cannot be decoded is not compared.\n\
         CREATE TEMPORARY VIEW store_latest AS\n\
         SELECT k, doc, tombstone, ok FROM (\n\
         \x20 SELECT k, doc, tombstone, tombstone OR ok AS ok,\n\
         \x20   ROW_NUMBER() OVER (PARTITION BY k ORDER BY off DESC, part DESC) AS rn\n\
         \x20 FROM stdoc WHERE k IS NOT NULL\n\
         ) WHERE rn = 1;\n\n\
         CREATE TEMPORARY VIEW served AS\n{served};\n\n\
         CREATE TEMPORARY VIEW event_customers AS\nSELECT DISTINCT customer FROM ({events});\n\n\
         CREATE TEMPORARY VIEW customers AS\n\
         SELECT DISTINCT c.customer FROM (\n\
         \x20 SELECT customer FROM event_customers UNION ALL SELECT k AS customer FROM store_latest WHERE ok\n\
         ) c LEFT JOIN (SELECT k FROM store_latest WHERE NOT ok) u ON u.k = c.customer\n\
         WHERE u.k IS NULL;\n\n\
         CREATE TEMPORARY VIEW spec_fields AS\n\
         SELECT * FROM (VALUES {fields}) AS f(fno, name, pii);\n\n\
         -- What retained events set each field to, against what the store serves.\n\
         CREATE TEMPORARY VIEW retained AS\n\
         SELECT f.customer, f.fno, COUNT(*) AS n,\n\
         \x20 MAX(CASE WHEN {among} THEN 1 ELSE 0 END) AS among,\n\
         \x20 MIN(CASE WHEN f.kind = 'num' AND CAST(f.txt AS DOUBLE) < 0 THEN 0 ELSE 1 END) AS all_pos,\n\
         \x20 MIN(CASE WHEN f.kind = 'num' AND CAST(f.txt AS DOUBLE) > 0 THEN 0 ELSE 1 END) AS all_neg\n\
         FROM fv_all f LEFT JOIN served s ON s.customer = f.customer AND s.fno = f.fno\n\
         WHERE f.kind <> 'null'\n\
         GROUP BY f.customer, f.fno;\n\n\
         CREATE TEMPORARY VIEW judged AS\n\
         SELECT customer, fno, name, pii, R, S, CASE\n\
         \x20 WHEN {same_rs} THEN CAST(NULL AS STRING)\n\
         \x20 WHEN {same_cs} THEN CAST('store behind' AS STRING)\n\
         \x20 WHEN S IS NULL THEN CAST('store behind' AS STRING)\n\
         \x20 WHEN n = 0 AND R IS NULL THEN CAST('store ahead' AS STRING)\n\
         \x20 ELSE CASE fno {classes} END\n\
         END AS class FROM (\n\
         \x20 SELECT c.customer, f.fno, f.name, f.pii, r.val AS R, cs.val AS C, s.val AS S,\n\
         \x20   COALESCE(t.n, 0) AS n, COALESCE(t.among, 0) AS among,\n\
         \x20   COALESCE(t.all_pos, 1) AS all_pos, COALESCE(t.all_neg, 1) AS all_neg\n\
         \x20 FROM customers c CROSS JOIN spec_fields f\n\
         \x20 LEFT JOIN folded_all r ON r.customer = c.customer AND r.fno = f.fno\n\
         \x20 LEFT JOIN folded_consumed cs ON cs.customer = c.customer AND cs.fno = f.fno\n\
         \x20 LEFT JOIN served s ON s.customer = c.customer AND s.fno = f.fno\n\
         \x20 LEFT JOIN retained t ON t.customer = c.customer AND t.fno = f.fno\n\
         );\n\n\
         CREATE TEMPORARY VIEW differences AS\n\
         SELECT customer, name AS field, class, {rebuilt} AS rebuilt, {served_col} AS served\n\
         FROM judged WHERE class IS NOT NULL;\n\n",
        served = served.join("\nUNION ALL\n"),
        events = customers.join(" UNION ALL "),
        fields = fields.join(", "),
        among = same("f.txt", "s.val"),
        same_rs = same("R", "S"),
        same_cs = same("C", "S"),
        classes = classes.join(" "),
        rebuilt = mask("R"),
        served_col = mask("S"),
    ))
}

/// The class of a field that differs, by its rule, as `rebuild::classify` has it; `R`, `S`: the
/// rebuilt and served JSON texts, `n` retained values, `among`: whether one equals `S`.
fn rule_class(rule: Rule) -> String {
    let num = |t: &str| format!("CASE WHEN {} THEN CAST({t} AS DOUBLE) END", is_number(t));
    let (s, r) = (num("S"), format!("COALESCE({}, 0.0)", num("R")));
    match rule {
        Rule::Count => format!(
            "CASE WHEN {s} IS NULL THEN CAST('different' AS STRING) WHEN {s} > {r} THEN CAST('store ahead' AS STRING) \
             WHEN {s} >= 0 THEN CAST('store behind' AS STRING) ELSE CAST('different' AS STRING) END"
        ),
        Rule::Sum => format!(
            "CASE WHEN {s} IS NULL THEN CAST('different' AS STRING) \
             WHEN (all_pos = 1 AND {s} > {r}) OR (all_neg = 1 AND {s} < {r}) THEN CAST('store ahead' AS STRING) \
             WHEN (all_pos = 1 AND {s} < {r}) OR (all_neg = 1 AND {s} > {r}) THEN CAST('store behind' AS STRING) \
             ELSE CAST('different' AS STRING) END"
        ),
        Rule::Distinct => {
            let arr = |t: &str| format!("JSON_QUERY({t}, '$' RETURNING ARRAY<STRING>)");
            let len = |t: &str| format!("COALESCE(CARDINALITY({}), 0)", arr(t));
            let contains = |big: &str, small: &str| {
                format!(
                    "({ls} = 0 OR ({b} IS NOT NULL AND CARDINALITY(ARRAY_EXCEPT({sm}, {b})) = 0))",
                    ls = len(small),
                    b = arr(big),
                    sm = arr(small)
                )
            };
            format!(
                "CASE WHEN {ls} > {lr} AND {s_has_r} THEN CAST('store ahead' AS STRING) \
                 WHEN {ls} < {lr} AND {r_has_s} THEN CAST('store behind' AS STRING) ELSE CAST('different' AS STRING) END",
                ls = len("S"),
                lr = len("R"),
                s_has_r = contains("S", "R"),
                r_has_s = contains("R", "S"),
            )
        }
        Rule::Min | Rule::Max => {
            let beyond = if rule == Rule::Min { "<" } else { ">" };
            format!(
                "CASE WHEN {s} IS NOT NULL AND {rn} IS NOT NULL AND {s} {beyond} {rn} AND among = 0 \
                 THEN CAST('store ahead' AS STRING) WHEN among = 1 THEN CAST('store behind' AS STRING) ELSE CAST('different' AS STRING) END",
                rn = num("R"),
            )
        }
        Rule::Last => "CASE WHEN among = 1 THEN CAST('store behind' AS STRING) ELSE CAST('different' AS STRING) END".into(),
        Rule::First => "CASE WHEN among = 1 THEN CAST('different' AS STRING) ELSE CAST('store ahead' AS STRING) END".into(),
    }
}

/// The rebuilt profile of each customer in the store's layout: its fields under the store's
/// `fields` pointer, and the time it was written at `updated_at`.
fn profiles_view(spec: &Spec) -> Result<String, Refusal> {
    let Some(store) = &spec.store else {
        return Ok(String::new());
    };
    let members: Vec<String> = spec
        .fields
        .iter()
        .enumerate()
        .map(|(j, f)| {
            let name = serde_json::to_string(&f.name).unwrap_or_default();
            format!(
                "CASE WHEN f{j} IS NOT NULL THEN {} || f{j} END",
                literal(&format!("{name}:"))
            )
        })
        .collect();
    let pivot: Vec<String> = (0..spec.fields.len())
        .map(|j| format!("MAX(CASE WHEN fno = {j} THEN val END) AS f{j}"))
        .collect();
    let object = format!("'{{' || CONCAT_WS(',', {}) || '}}'", members.join(", "));
    // The layout: a skeleton with markers where the fields and the time go.
    let mut layout = serde_json::json!({});
    crate::rebuild::set_pointer(&mut layout, &store.fields, serde_json::json!("@@FIELDS@@"));
    if let Some(at) = &store.updated_at {
        if store.fields.is_empty() {
            return Err(Refusal::new(
                "[store] updated_at",
                "the store's fields are the whole value, so updated_at would be one of them",
            ));
        }
        crate::rebuild::set_pointer(&mut layout, at, serde_json::json!("@@NOW@@"));
    }
    let layout = serde_json::to_string(&layout).unwrap_or_default();
    let value = literal(&layout)
        .replace("\"@@FIELDS@@\"", &format!("' || {object} || '"))
        .replace(
            "\"@@NOW@@\"",
            "' || CAST(UNIX_TIMESTAMP() * 1000 AS STRING) || '",
        );
    Ok(format!(
        "CREATE TEMPORARY VIEW profiles AS\n\
         SELECT customer, {value} AS profile FROM (\n\
         \x20 SELECT customer, {pivot} FROM folded_all GROUP BY customer\n\
         );\n\n",
        pivot = pivot.join(", "),
    ))
}

/// Counts as the rehearsal reports them, then the inserts, run as one job. The results replace
/// an earlier run's (appended, a second run would double every row).
fn inserts(request: &EmitRequest<'_>) -> String {
    let spec = request.spec;
    let n = spec.sources.len();
    let all = |f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>().join(" UNION ALL ");
    let links: Vec<String> = link_sources(spec)
        .map(|(i, _)| format!("SELECT off FROM doc{i}"))
        .collect();
    let link_count = if links.is_empty() {
        "SELECT CAST(0 AS BIGINT)".to_owned()
    } else {
        format!("SELECT COUNT(*) FROM ({})", links.join(" UNION ALL "))
    };
    let mut summary = vec![
        "SELECT CAST('customers' AS STRING), CAST('' AS STRING), COUNT(*) FROM customers".to_owned(),
        "SELECT CAST('matches' AS STRING), CAST('' AS STRING), COUNT(*) FROM customers c LEFT JOIN (SELECT DISTINCT customer FROM differences) d \
         ON d.customer = c.customer WHERE d.customer IS NULL"
            .to_owned(),
        "SELECT CAST('store_only' AS STRING), CAST('' AS STRING), COUNT(*) FROM customers c LEFT JOIN event_customers e ON e.customer = c.customer \
         WHERE e.customer IS NULL"
            .to_owned(),
        "SELECT CAST('store_deleted' AS STRING), CAST('' AS STRING), COUNT(*) FROM store_latest WHERE tombstone".to_owned(),
        "SELECT CAST('undecodable_store_versions' AS STRING), CAST('' AS STRING), COUNT(*) FROM store_latest WHERE NOT ok".to_owned(),
        "SELECT CAST('store_records' AS STRING), CAST('' AS STRING), COUNT(*) FROM stdoc".to_owned(),
        format!(
            "SELECT CAST('records' AS STRING), CAST('' AS STRING), COUNT(*) FROM ({})",
            all(&|i| format!("SELECT off FROM doc{i}"))
        ),
        format!(
            "SELECT CAST('keyless_records' AS STRING), CAST('' AS STRING), COUNT(*) FROM ({})",
            all(&|i| format!("SELECT off FROM doc{i} WHERE k IS NULL"))
        ),
        format!(
            "SELECT CAST('undecodable_records' AS STRING), CAST('' AS STRING), COUNT(*) FROM ({})",
            all(&|i| format!(
                "SELECT off FROM doc{i} WHERE k IS NOT NULL AND NOT tombstone AND NOT ok"
            ))
        ),
        format!("SELECT CAST('link_records' AS STRING), CAST('' AS STRING), ({link_count})"),
    ];
    for (metric, class) in [
        ("store_ahead", "store ahead"),
        ("store_behind", "store behind"),
        ("different", "different"),
    ] {
        summary.push(format!(
            "SELECT CAST('{metric}' AS STRING), f.name, COALESCE(d.n, 0) FROM spec_fields f LEFT JOIN \
             (SELECT field, COUNT(*) AS n FROM differences WHERE class = '{class}' GROUP BY field) d ON d.field = f.name"
        ));
    }
    let mut text = String::from(
        "EXECUTE STATEMENT SET\nBEGIN\n\
         INSERT OVERWRITE rebuild_differences SELECT customer, field, class, rebuilt, served FROM differences;\n\
         INSERT OVERWRITE rebuild_summary\n",
    );
    text += &summary.join("\nUNION ALL ");
    text += ";\n";
    if request.sink_topic.is_some() {
        // A topic takes upserts; a file (from a capture) is replaced like the results.
        text += match request.tables {
            super::tables::Tables::Kafka { .. } => "INSERT INTO",
            super::tables::Tables::Files { .. } => "INSERT OVERWRITE",
        };
        text += " rebuilt_profiles SELECT customer, profile FROM profiles;\n";
    }
    text += "END;\n";
    text
}
