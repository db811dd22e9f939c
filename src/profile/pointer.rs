//! JSON pointers (RFC 6901) without serde_json's two string allocations per token: the fold
//! resolves one per field per event, so this is on the hot path.

use std::borrow::Cow;

use serde_json::Value;

/// The value at `pointer` in `value`, as [`Value::pointer`] finds it.
pub fn pointer<'a>(value: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(value);
    }
    pointer
        .strip_prefix('/')?
        .split('/')
        .try_fold(value, |target, token| {
            let token: Cow<'_, str> = if token.contains('~') {
                Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
            } else {
                Cow::Borrowed(token)
            };
            match target {
                Value::Object(map) => map.get(token.as_ref()),
                Value::Array(list) => index(&token).and_then(|i| list.get(i)),
                _ => None,
            }
        })
}

fn index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn agrees_with_serde_json() {
        let doc = json!({"a": {"b/c": [10, {"d~e": true}], "": 1}, "n": null});
        for p in [
            "",
            "/a",
            "/a/b~1c",
            "/a/b~1c/0",
            "/a/b~1c/1/d~0e",
            "/a/",
            "/a/b~1c/01",
            "/a/b~1c/+1",
            "/a/b~1c/9",
            "/n",
            "/n/x",
            "a",
            "/missing",
        ] {
            assert_eq!(pointer(&doc, p), doc.pointer(p), "{p:?}");
        }
    }
}
