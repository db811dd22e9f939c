//! A spec's JSON pointers as SQL/JSON paths. Flink resolves paths with Jayway JsonPath, whose
//! bracket notation names object members exactly; what it cannot name exactly is refused.

use super::refusal::Refusal;

/// The members a pointer walks through, unescaped (`/a~1b/c` → `a/b`, `c`).
pub fn tokens(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// The SQL/JSON path of `pointer` (`/a/b` → `$['a']['b']`), or why it has none.
///
/// Refused: a numeric token (a pointer's `0` is an array index or a member named "0",
/// whichever the payload holds; a path must choose), and a member whose name holds a quote,
/// a backslash or a character below space (Jayway's bracket notation has no escape that SQL
/// string literals, the path syntax and Jackson all read alike).
pub fn json_path(what: &str, pointer: &str) -> Result<String, Refusal> {
    let mut path = String::from("$");
    for token in tokens(pointer) {
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Refusal::new(
                what,
                format!(
                    "{pointer:?} has the token {token:?}, which a JSON pointer reads as an array \
                     index or a member name, whichever the payload holds; a SQL/JSON path must \
                     choose one"
                ),
            ));
        }
        if token.chars().any(|c| c == '\'' || c == '\\' || c < ' ') {
            return Err(Refusal::new(
                what,
                format!(
                    "{pointer:?} names a member with a quote, backslash or control character, \
                     which Flink's JSON paths cannot name exactly"
                ),
            ));
        }
        path.push_str(&format!("['{token}']"));
    }
    Ok(path)
}

/// `text` as a SQL string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The parent's path and the last member's name, for telling a JSON null from a missing member.
pub fn parent_and_member(what: &str, pointer: &str) -> Result<Option<(String, String)>, Refusal> {
    let tokens = tokens(pointer);
    let Some((last, _)) = tokens.split_last() else {
        return Ok(None);
    };
    let cut = pointer.len() - pointer.rsplit('/').next().map_or(0, str::len) - 1;
    Ok(Some((json_path(what, &pointer[..cut])?, last.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_bracket_paths() {
        assert_eq!(json_path("f", "").unwrap(), "$");
        assert_eq!(json_path("f", "/email").unwrap(), "$['email']");
        assert_eq!(json_path("f", "/a~1b/c~0d").unwrap(), "$['a/b']['c~d']");
        assert_eq!(json_path("f", "/a b/.x").unwrap(), "$['a b']['.x']");
        assert_eq!(
            parent_and_member("f", "/profile/a~1b").unwrap(),
            Some(("$['profile']".into(), "a/b".into()))
        );
        assert_eq!(
            parent_and_member("f", "/email").unwrap(),
            Some(("$".into(), "email".into()))
        );
        assert_eq!(parent_and_member("f", "").unwrap(), None);
    }

    #[test]
    fn what_a_path_cannot_say_exactly_is_refused() {
        let index = json_path("field items", "/items/0/sku").unwrap_err();
        assert!(index.to_string().starts_with("field items: "), "{index}");
        assert!(index.to_string().contains("array index"), "{index}");
        assert!(json_path("f", "/it's").is_err());
        assert!(json_path("f", "/a\\b").is_err());
        assert!(json_path("f", "/a\nb").is_err());
        assert_eq!(literal("it's"), "'it''s'");
    }
}
