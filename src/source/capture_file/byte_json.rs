//! A JSON reader whose strings are bytes, for kcat `-J` lines that are not UTF-8.
//!
//! kcat writes a record's key, payload and header values with yajl's `yajl_gen_string`, and
//! never turns on `yajl_gen_validate_utf8`: yajl's `yajl_string_encode` escapes `"`, `\` and
//! the bytes below 0x20 (`\b \f \n \r \t`, the rest as `\u00XX`) and copies every other byte
//! as it is, 0x80 and up included. So a binary key or an Avro payload comes out as a JSON
//! string holding its raw bytes, and such a line is not UTF-8. Read here, a string is the bytes
//! it holds: raw bytes as they are, `\u00XX` below 0x20 as that one byte, and any other `\u`
//! escape (which kcat never writes) as the UTF-8 of its character, as JSON means it.

use serde_json::{Map, Number, Value};

/// A JSON value whose strings are the bytes they hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(Number),
    Bytes(Vec<u8>),
    Array(Vec<Json>),
    Object(Vec<(Vec<u8>, Json)>),
}

use crate::codec::MAX_DEPTH;

/// Where a value stops being JSON, in serde_json's words: "expected value at byte 7".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {byte}")]
pub struct SyntaxError {
    pub what: &'static str,
    /// 1-based.
    pub byte: usize,
}

/// Reads one JSON value filling all of `input` (whitespace around it aside).
pub fn parse(input: &[u8]) -> Result<Json, SyntaxError> {
    let mut parser = Parser { input, at: 0 };
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.at < input.len() {
        return Err(parser.error("trailing characters"));
    }
    Ok(value)
}

impl Json {
    /// An object's field (the last one of that name, as serde_json keeps it).
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Self::Object(fields) => fields
                .iter()
                .rev()
                .find(|(name, _)| name == key.as_bytes())
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// As a serde_json value: strings that are not UTF-8 with U+FFFD for their bad bytes.
    /// Recursing is safe: [`parse`] reads nothing nested past [`MAX_DEPTH`].
    pub fn to_value(&self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Number(n) => Value::Number(n.clone()),
            Self::Bytes(bytes) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
            Self::Array(items) => Value::Array(items.iter().map(Self::to_value).collect()),
            Self::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(name, value)| {
                        (String::from_utf8_lossy(name).into_owned(), value.to_value())
                    })
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

/// Recursing is safe on what it is given: values serde_json parsed, never nested past its
/// recursion limit ([`MAX_DEPTH`]).
impl From<&Value> for Json {
    fn from(value: &Value) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => Self::Number(n.clone()),
            Value::String(text) => Self::Bytes(text.as_bytes().to_vec()),
            Value::Array(items) => Self::Array(items.iter().map(Self::from).collect()),
            Value::Object(fields) => Self::Object(
                fields
                    .iter()
                    .map(|(name, value)| (name.as_bytes().to_vec(), Self::from(value)))
                    .collect(),
            ),
        }
    }
}

struct Parser<'a> {
    input: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn error(&self, what: &'static str) -> SyntaxError {
        SyntaxError {
            what,
            byte: self.at + 1,
        }
    }

    /// An error at the byte just read.
    fn error_before(&mut self, what: &'static str) -> SyntaxError {
        self.at -= 1;
        self.error(what)
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.at += usize::from(found);
        found
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("EOF while parsing a value")),
            Some(b'"') => self.string().map(Json::Bytes),
            // As serde_json does: the array or object opened inside `MAX_DEPTH - 1` others.
            Some(b'{' | b'[') if depth + 1 >= MAX_DEPTH => {
                Err(self.error("recursion limit exceeded"))
            }
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected value")),
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, SyntaxError> {
        let rest = &self.input[self.at..];
        if rest.starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else if word.as_bytes().starts_with(rest) {
            self.at = self.input.len();
            Err(self.error("EOF while parsing a value"))
        } else {
            Err(self.error("expected ident"))
        }
    }

    fn digits(&mut self) -> Result<(), SyntaxError> {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        if self.at == start {
            return Err(self.error("invalid number"));
        }
        Ok(())
    }

    /// JSON's number grammar; the value itself is serde_json's reading of the text, so numbers
    /// come out exactly as they do from a line that is UTF-8.
    fn number(&mut self) -> Result<Json, SyntaxError> {
        let start = self.at;
        self.eat(b'-');
        if !self.eat(b'0') {
            self.digits()?;
        }
        if self.eat(b'.') {
            self.digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            self.digits()?;
        }
        // The grammar holds, so serde_json can only find the number out of range (1e400).
        serde_json::from_slice(&self.input[start..self.at])
            .map(Json::Number)
            .map_err(|_| SyntaxError {
                what: "number out of range",
                byte: start + 1,
            })
    }

    fn array(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        self.at += 1; // [
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.eat(b']') {
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.next() {
                Some(b',') => {}
                Some(b']') => return Ok(Json::Array(items)),
                None => return Err(self.error("EOF while parsing a list")),
                Some(_) => return Err(self.error_before("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        self.at += 1; // {
        let mut fields = Vec::new();
        self.skip_whitespace();
        if self.eat(b'}') {
            return Ok(Json::Object(fields));
        }
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b'"') => {}
                None => return Err(self.error("EOF while parsing an object")),
                Some(_) => return Err(self.error("key must be a string")),
            }
            let name = self.string()?;
            self.skip_whitespace();
            if !self.eat(b':') {
                return Err(match self.peek() {
                    None => self.error("EOF while parsing an object"),
                    Some(_) => self.error("expected `:`"),
                });
            }
            fields.push((name, self.value(depth)?));
            self.skip_whitespace();
            match self.next() {
                Some(b',') => {}
                Some(b'}') => return Ok(Json::Object(fields)),
                None => return Err(self.error("EOF while parsing an object")),
                Some(_) => return Err(self.error_before("expected `,` or `}`")),
            }
        }
    }

    /// A string from its opening quote: its bytes, escapes resolved.
    fn string(&mut self) -> Result<Vec<u8>, SyntaxError> {
        self.at += 1; // "
        let mut out = Vec::new();
        loop {
            let rest = &self.input[self.at..];
            let Some(run) = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            else {
                self.at = self.input.len();
                return Err(self.error("EOF while parsing a string"));
            };
            out.extend_from_slice(&rest[..run]);
            self.at += run;
            match self.next() {
                Some(b'"') => return Ok(out),
                Some(b'\\') => self.escape(&mut out)?,
                _ => {
                    return Err(self.error_before(
                        "control character (\\u0000-\\u001F) found while parsing a string",
                    ));
                }
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), SyntaxError> {
        let byte = match self.next() {
            None => return Err(self.error("EOF while parsing a string")),
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0c,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => {
                let character = self.unicode_escape()?;
                out.extend_from_slice(character.encode_utf8(&mut [0; 4]).as_bytes());
                return Ok(());
            }
            Some(_) => return Err(self.error_before("invalid escape")),
        };
        out.push(byte);
        Ok(())
    }

    /// The character of a `\u` escape (after the `u`), a surrogate pair taken together.
    fn unicode_escape(&mut self) -> Result<char, SyntaxError> {
        let unit = self.hex4()?;
        let code = match unit {
            0xd800..=0xdbff => {
                if !(self.eat(b'\\') && self.eat(b'u')) {
                    return Err(self.error("lone leading surrogate in hex escape"));
                }
                let low = self.hex4()?;
                if !(0xdc00..=0xdfff).contains(&low) {
                    return Err(self.error("lone leading surrogate in hex escape"));
                }
                0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)
            }
            0xdc00..=0xdfff => return Err(self.error("lone trailing surrogate in hex escape")),
            _ => unit,
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid unicode code point"))
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut unit = 0;
        for _ in 0..4 {
            let digit = match self.next() {
                None => return Err(self.error("EOF while parsing a string")),
                Some(b) => (b as char).to_digit(16),
            };
            let Some(digit) = digit else {
                return Err(self.error_before("invalid escape"));
            };
            unit = (unit << 4) | digit;
        }
        Ok(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_reads_as_serde_json_reads_it() {
        for text in [
            r#"{"topic":"t","partition":0,"offset":3,"ts":-1,"headers":["a",null],"key":null}"#,
            r#" [1, -0, 2.5e3, 1E-2, 18446744073709551615, -9223372036854775808, 0.1] "#,
            r#"{"s":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t","u":"é","e":{},"a":[]}"#,
            r#"{"nested":{"x":[true,false,null,{"y":"z"}]}}"#,
            "\"\"",
        ] {
            let expected: Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                parse(text.as_bytes()).unwrap().to_value(),
                expected,
                "{text}"
            );
            assert_eq!(
                parse(text.as_bytes()).unwrap(),
                Json::from(&expected),
                "{text}"
            );
        }
    }

    #[test]
    fn strings_are_their_bytes() {
        // Raw bytes as they are; \u00XX below 0x20 (yajl's escape) as one byte; a character
        // escape as its UTF-8.
        let line = b"\"\x80\xff\\u0000\\u001F\\u001f\\u00e9\\ud83d\\ude00\xc3\"";
        let mut expected = vec![0x80, 0xff, 0x00, 0x1f, 0x1f, 0xc3, 0xa9];
        expected.extend("😀".as_bytes());
        expected.push(0xc3);
        assert_eq!(parse(line).unwrap(), Json::Bytes(expected));
        let object = parse(b"{\"key\":\"\xfe\",\"key\":\"\xff\"}").unwrap();
        assert_eq!(object.get("key"), Some(&Json::Bytes(vec![0xff])));
        assert_eq!(object.get("payload"), None);
        assert_eq!(
            object.to_value(),
            serde_json::json!({"key": "\u{fffd}"}),
            "lossy, the last of a name"
        );
    }

    #[test]
    fn broken_json_is_an_error_saying_where() {
        for (input, error) in [
            (&b""[..], "EOF while parsing a value at byte 1"),
            (b"\"\x80", "EOF while parsing a string at byte 3"),
            (b"\"\x80\\", "EOF while parsing a string at byte 4"),
            (b"\"\\x\"", "invalid escape at byte 3"),
            (b"\"\\u12g4\"", "invalid escape at byte 6"),
            (
                b"\"\\ud800\"",
                "lone leading surrogate in hex escape at byte 8",
            ),
            (
                b"\"\\udc00\"",
                "lone trailing surrogate in hex escape at byte 8",
            ),
            (
                b"\"a\x01\"",
                "control character (\\u0000-\\u001F) found while parsing a string at byte 3",
            ),
            (b"{\"a\":1", "EOF while parsing an object at byte 7"),
            (b"{\"a\" 1}", "expected `:` at byte 6"),
            (b"{1:2}", "key must be a string at byte 2"),
            (b"[1 2]", "expected `,` or `]` at byte 4"),
            (b"[1,", "EOF while parsing a value at byte 4"),
            (b"tru", "EOF while parsing a value at byte 4"),
            (b"nul\xff", "expected ident at byte 1"),
            (b"01", "trailing characters at byte 2"),
            (b"-", "invalid number at byte 2"),
            (b"1.e5", "invalid number at byte 3"),
            (b"1e400", "number out of range at byte 1"),
            (b"{} x", "trailing characters at byte 4"),
        ] {
            assert_eq!(parse(input).unwrap_err().to_string(), error, "{input:?}");
        }
        let deep = [vec![b'['; MAX_DEPTH], vec![b']'; MAX_DEPTH]].concat();
        assert_eq!(
            parse(&deep).unwrap_err().to_string(),
            format!("recursion limit exceeded at byte {MAX_DEPTH}")
        );
        assert!(
            serde_json::from_slice::<Value>(&deep).is_err(),
            "as serde_json"
        );
        let deep_enough = [vec![b'['; MAX_DEPTH - 1], vec![b']'; MAX_DEPTH - 1]].concat();
        assert!(parse(&deep_enough).is_ok());
        assert!(serde_json::from_slice::<Value>(&deep_enough).is_ok());
        let far_too_deep = [vec![b'['; 10_000], vec![b']'; 10_000]].concat();
        assert!(parse(&far_too_deep).is_err());
    }
}
