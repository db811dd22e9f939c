//! SQL expressions over JSON text that read a value as freshlens's fold reads it: present,
//! null or absent; its kind; its event time; equality as [`crate::profile::same_value`] has it.

use super::paths::{json_path, literal, parent_and_member};
use super::refusal::Refusal;
use crate::time::LATEST_MS;

/// `JSON_QUERY` with an unconditional wrapper: `["x"]` for a string, `[12.5]` for a number,
/// `[{…}]` for an object; NULL when the member is missing or holds JSON null.
pub fn wrapped(doc: &str, path: &str) -> String {
    format!(
        "JSON_QUERY({doc}, {} WITH UNCONDITIONAL ARRAY WRAPPER)",
        literal(path)
    )
}

/// Whether the member at `pointer` holds JSON null: Flink's JSON functions answer NULL both for
/// a null and for a missing member, so the parent's member names tell the two apart.
pub fn is_null(what: &str, doc: &str, pointer: &str) -> Result<String, Refusal> {
    let path = json_path(what, pointer)?;
    let w = wrapped(doc, &path);
    Ok(match parent_and_member(what, pointer)? {
        None => format!("({w} IS NULL AND TRIM({doc}) = 'null')"),
        Some((parent, member)) => {
            let keys = format!("{parent}.keys()");
            let quoted = serde_json::to_string(&member).unwrap_or_default();
            format!(
                "({w} IS NULL AND POSITION({} IN COALESCE(JSON_QUERY({doc}, {}), '')) > 0)",
                literal(&quoted),
                literal(&keys)
            )
        }
    })
}

/// The JSON text inside a wrapped value (`["x"]` → `"x"`).
pub fn unwrap(w: &str) -> String {
    format!("SUBSTRING({w} FROM 2 FOR CHAR_LENGTH({w}) - 2)")
}

/// The kind of a JSON text by its first character.
pub fn kind(text: &str) -> String {
    format!(
        "CAST(CASE SUBSTRING({text} FROM 1 FOR 1) WHEN '\"' THEN 'str' WHEN '{{' THEN 'obj' \
         WHEN '[' THEN 'arr' WHEN 't' THEN 'bool' WHEN 'f' THEN 'bool' WHEN 'n' THEN 'null' \
         ELSE 'num' END AS STRING)"
    )
}

/// Whether a JSON text is a number.
pub fn is_number(text: &str) -> String {
    format!("COALESCE(REGEXP({text}, '^-?[0-9]'), FALSE)")
}

fn as_double(text: &str) -> String {
    format!("CAST({text} AS DOUBLE)")
}

/// Two JSON texts (NULL: absent) equal as `same_value` has it: numbers equal up to a relative
/// 1e-10, anything else by its text (both sides are Jackson's rendering).
pub fn same(a: &str, b: &str) -> String {
    let (x, y) = (as_double(a), as_double(b));
    format!(
        "(({a} IS NULL AND {b} IS NULL) OR ({a} IS NOT NULL AND {b} IS NOT NULL AND ({a} = {b} \
         OR ({num_a} AND {num_b} AND ABS({x} - {y}) <= 1e-10 * GREATEST(ABS({x}), ABS({y}), 1.0)))))",
        num_a = is_number(a),
        num_b = is_number(b),
    )
}

/// A plausible epoch-ms time (1970 to 9999), else NULL: what `plausible_ms` keeps.
pub fn plausible(ms: &str) -> String {
    format!("CASE WHEN {ms} BETWEEN 0 AND {LATEST_MS} THEN {ms} END")
}

const RFC3339: &str = "^([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2}:[0-9]{2})(\\.([0-9]+))?([Zz]|([+-])([0-9]{2}):([0-9]{2}))$";

/// The event time at `pointer` as `parse_event_time` reads it: epoch milliseconds (a number,
/// or a string of digits) or an RFC 3339 string; NULL when there is none.
pub fn event_ms(what: &str, doc: &str, pointer: &str) -> Result<String, Refusal> {
    let path = json_path(what, pointer)?;
    let text = unwrap(&wrapped(doc, &path));
    let string = format!("JSON_VALUE({doc}, {})", literal(&path));
    let part = |n: u8| format!("REGEXP_EXTRACT({string}, {}, {n})", literal(RFC3339));
    let seconds = format!(
        "UNIX_TIMESTAMP({} || ' ' || {}, 'yyyy-MM-dd HH:mm:ss')",
        part(1),
        part(2)
    );
    let millis = format!(
        "CAST(SUBSTRING(COALESCE({}, '') || '000' FROM 1 FOR 3) AS BIGINT)",
        part(4)
    );
    let offset = format!(
        "CASE WHEN {sign} = '-' THEN -1 ELSE 1 END * (CAST({h} AS BIGINT) * 3600 + CAST({m} AS BIGINT) * 60)",
        sign = part(6),
        h = part(7),
        m = part(8),
    );
    let rfc3339 = format!(
        "CASE WHEN {p1} IS NOT NULL AND {p1} <> '' THEN ({seconds} - COALESCE({offset}, 0)) * 1000 + {millis} END",
        p1 = part(1)
    );
    let ms = format!(
        "CASE WHEN COALESCE(REGEXP({text}, '^-?[0-9]+$'), FALSE) THEN TRY_CAST({text} AS BIGINT) \
         WHEN {number} THEN CAST(CAST({text} AS DOUBLE) AS BIGINT) \
         WHEN {text} LIKE '\"%' THEN COALESCE(TRY_CAST({string} AS BIGINT), {rfc3339}) END",
        number = is_number(&text),
    );
    Ok(plausible(&format!("({ms})")))
}

/// A linked id as `id_text` reads it: a non-empty string, or a number's text.
pub fn id_text(what: &str, doc: &str, pointer: &str) -> Result<String, Refusal> {
    let path = json_path(what, pointer)?;
    let text = unwrap(&wrapped(doc, &path));
    Ok(format!(
        "CASE WHEN {text} LIKE '\"%' AND {text} <> '\"\"' THEN JSON_VALUE({doc}, {}) \
         WHEN {number} THEN {text} END",
        literal(&path),
        number = is_number(&text),
    ))
}

/// Whether the value at `pointer` equals `equals` as serde_json's `==` has it (an integer is
/// not equal to a float of the same value).
pub fn equals(
    what: &str,
    doc: &str,
    pointer: &str,
    equals: &serde_json::Value,
) -> Result<String, Refusal> {
    use serde_json::Value;
    let path = json_path(what, pointer)?;
    let text = unwrap(&wrapped(doc, &path));
    let test = match equals {
        Value::Null => is_null(what, doc, pointer)?,
        Value::Bool(b) => format!("{text} = '{b}'"),
        Value::String(s) => format!(
            "{text} LIKE '\"%' AND JSON_VALUE({doc}, {}) = {}",
            literal(&path),
            literal(s)
        ),
        Value::Number(n) if n.is_f64() => format!(
            "NOT COALESCE(REGEXP({text}, '^-?[0-9]+$'), TRUE) AND {} AND CAST({text} AS DOUBLE) = {:e}",
            is_number(&text),
            n.as_f64().unwrap_or_default()
        ),
        Value::Number(n) => format!(
            "COALESCE(REGEXP({text}, '^-?[0-9]+$'), FALSE) AND CAST({text} AS DECIMAL(38, 0)) = {n}"
        ),
        Value::Array(_) | Value::Object(_) => {
            return Err(Refusal::new(
                what,
                "erase_when equals an array or object, which SQL cannot compare with a payload's \
                 value exactly (member order and number forms differ)",
            ));
        }
    };
    Ok(format!("COALESCE({test}, FALSE)"))
}
