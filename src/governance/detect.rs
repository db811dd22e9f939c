//! What a value looks like, for PII discovery: e-mail addresses, phone numbers, IPv4/IPv6
//! addresses, payment card numbers (Luhn-checked, so 16-digit order ids are not cards), IBANs
//! (mod-97-checked), and field names that say what they hold.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    Email,
    Phone,
    Ipv4,
    Ipv6,
    Card,
    Iban,
    /// The field's name says it holds personal data (`email`, `phone`, `first_name`, `dob`…).
    FieldName,
}

impl std::fmt::Display for PiiKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PiiKind::Email => "e-mail",
            PiiKind::Phone => "phone",
            PiiKind::Ipv4 => "IPv4",
            PiiKind::Ipv6 => "IPv6",
            PiiKind::Card => "payment card",
            PiiKind::Iban => "IBAN",
            PiiKind::FieldName => "field name",
        })
    }
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[a-z0-9._%+\-]+@[a-z0-9\-]+(\.[a-z0-9\-]+)*\.[a-z]{2,}$").expect("valid")
});

static DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d{4}[-.]\d{1,2}[-.]\d{1,2}").expect("valid"));

/// The kind of personal data a text value is, if any.
pub fn detect_text(text: &str) -> Option<PiiKind> {
    let text = text.trim();
    if text.is_empty() || text.len() > 254 {
        return None;
    }
    if text.contains('@') {
        return EMAIL.is_match(text).then_some(PiiKind::Email);
    }
    if text.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some(PiiKind::Ipv4);
    }
    if text.contains(':') && text.parse::<std::net::Ipv6Addr>().is_ok() {
        return Some(PiiKind::Ipv6);
    }
    if is_iban(text) {
        return Some(PiiKind::Iban);
    }
    if is_card(text) {
        return Some(PiiKind::Card);
    }
    if is_phone(text) {
        return Some(PiiKind::Phone);
    }
    None
}

/// A number is only ever a card number (13 to 19 digits, Luhn-valid), and not when it reads as
/// an event time in ms, µs or ns (those pass the Luhn check one time in ten).
pub fn detect_number(n: &serde_json::Number) -> Option<PiiKind> {
    let digits = n.as_u64()?.to_string();
    let as_digits: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    (is_card(&digits) && !epoch_time(&as_digits)).then_some(PiiKind::Card)
}

/// 13 to 19 digits (spaces or dashes between groups allowed) passing the Luhn check.
pub fn is_card(text: &str) -> bool {
    if !text
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        return false;
    }
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) || digits.iter().all(|d| *d == 0) {
        return false;
    }
    luhn(&digits)
}

/// Milli-, micro- or nanoseconds since the epoch between 2000 and 2100: event times, which
/// pass the Luhn check one time in ten.
fn epoch_time(digits: &[u32]) -> bool {
    let Some(n) = digits
        .iter()
        .try_fold(0u64, |n, d| n.checked_mul(10)?.checked_add(u64::from(*d)))
    else {
        return false;
    };
    const MS: std::ops::Range<u64> = 946_684_800_000..4_102_444_800_000;
    MS.contains(&n) || MS.contains(&(n / 1_000)) || MS.contains(&(n / 1_000_000))
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                *d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Two letters, two check digits, 11 to 30 letters or digits (spaces allowed), mod 97 = 1.
pub fn is_iban(text: &str) -> bool {
    let compact: String = text.chars().filter(|c| *c != ' ').collect();
    let bytes = compact.as_bytes();
    if !(15..=34).contains(&bytes.len())
        || !bytes[..2].iter().all(u8::is_ascii_uppercase)
        || !bytes[2..4].iter().all(u8::is_ascii_digit)
        || !bytes[4..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return false;
    }
    let rearranged = compact[4..].chars().chain(compact[..4].chars());
    let mut remainder: u32 = 0;
    for c in rearranged {
        let value = c.to_digit(36).unwrap_or(0);
        // Letters count as two digits (A = 10 … Z = 35).
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

/// 7 to 15 digits written as a phone number is: a leading `+`, or groups separated by spaces,
/// dashes, dots or parentheses. A bare run of digits is an id far more often than a phone.
pub fn is_phone(text: &str) -> bool {
    if !text
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c))
    {
        return false;
    }
    if DATE.is_match(text) {
        return false;
    }
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let plus = text.starts_with('+') && !text[1..].contains('+');
    let separated = text.chars().any(|c| " -().".contains(c)) && !text.contains('+');
    (7..=15).contains(&digits) && (plus || separated) && !text.contains("..")
}

/// Words of a field name that say it holds personal data.
const NAME_WORDS: &[&str] = &[
    "email",
    "mail",
    "phone",
    "mobile",
    "msisdn",
    "address",
    "street",
    "postcode",
    "zip",
    "birth",
    "birthday",
    "birthdate",
    "dob",
    "ssn",
    "passport",
    "iban",
    "surname",
    "firstname",
    "lastname",
    "fullname",
];

/// Whether a field called `name` says it holds personal data: a word of it is one of
/// [`NAME_WORDS`], or it is a person's name (`name`, `first_name`, `given_name`…), not
/// `product_name`.
pub fn telling_name(name: &str) -> bool {
    let words = words(name);
    let person = [
        "first", "last", "full", "given", "family", "middle", "maiden", "sur",
    ];
    words.iter().any(|w| NAME_WORDS.contains(&w.as_str()))
        || words == ["name"]
        || (words.last().is_some_and(|w| w == "name")
            && words.iter().any(|w| person.contains(&w.as_str())))
}

/// `firstName`, `first_name`, `first-name` → ["first", "name"].
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c == '_' || c == '-' || c == ' ' || c == '.' {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_lowercase();
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// A value shown without giving it away: an e-mail keeps its first letter and domain, a card
/// its last four digits, anything else its first two characters.
pub fn mask(kind: PiiKind, text: &str) -> String {
    match kind {
        PiiKind::Email => match text.split_once('@') {
            Some((user, domain)) => {
                format!("{}***@{domain}", user.chars().next().unwrap_or('*'))
            }
            None => "***".into(),
        },
        PiiKind::Card => {
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            format!("****{}", &digits[digits.len().saturating_sub(4)..])
        }
        _ => {
            let head: String = text.chars().take(2).collect();
            format!("{head}***")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_pass_luhn_and_order_ids_do_not() {
        // Test numbers the card networks publish.
        for card in [
            "4012888888881881",
            "2223003122003222",
            "3530111333300000",
            "4111111111111111",
            "4111 1111 1111 1111",
            "5555-5555-5555-4444",
            "378282246310005",
            "6011111111111117",
        ] {
            assert_eq!(detect_text(card), Some(PiiKind::Card), "{card}");
        }
        for id in ["4111111111111112", "1234567890123456", "0000000000000000"] {
            assert_eq!(detect_text(id), None, "{id}");
        }
        let number: serde_json::Number = 4111111111111111u64.into();
        assert_eq!(detect_number(&number), Some(PiiKind::Card));
        let order: serde_json::Number = 2026112800001234u64.into();
        assert_eq!(
            detect_number(&order),
            None,
            "a 16-digit order id failing Luhn"
        );
        // 1795000000046 passes Luhn: an event time in ms, not a card.
        assert!(luhn(&[1, 7, 9, 5, 0, 0, 0, 0, 0, 0, 0, 4, 6]));
        let time: serde_json::Number = 1795000000046u64.into();
        assert_eq!(detect_number(&time), None);
    }

    #[test]
    fn ibans_pass_mod_97() {
        // The examples of the IBAN registry (ISO 13616).
        for iban in [
            "GB82WEST12345698765432",
            "DE89370400440532013000",
            "FR1420041010050500013M02606",
            "NL91 ABNA 0417 1643 00",
        ] {
            assert_eq!(detect_text(iban), Some(PiiKind::Iban), "{iban}");
        }
        assert_eq!(detect_text("GB82WEST12345698765431"), None);
        assert_eq!(detect_text("ORDER1234567890123"), None);
    }

    #[test]
    fn emails_addresses_and_phones() {
        assert_eq!(
            detect_text("jane.doe+news@example.co.uk"),
            Some(PiiKind::Email)
        );
        assert_eq!(detect_text("not an @ address"), None);
        assert_eq!(detect_text("192.168.1.20"), Some(PiiKind::Ipv4));
        assert_eq!(detect_text("2001:db8::1"), Some(PiiKind::Ipv6));
        assert_eq!(detect_text("12:30"), None, "a time is not an address");
        assert_eq!(detect_text("+44 20 7946 0958"), Some(PiiKind::Phone));
        assert_eq!(detect_text("(555) 123-4567"), Some(PiiKind::Phone));
        assert_eq!(detect_text("5551234567"), None, "bare digits are ids");
        assert_eq!(detect_text("2026-11-28"), None, "a date has too few digits");
        assert_eq!(detect_text("/p/shoes"), None);
    }

    #[test]
    fn names_that_say_so() {
        for name in [
            "email",
            "customerEmail",
            "phone_number",
            "first_name",
            "lastName",
            "name",
            "dob",
            "home_address",
        ] {
            assert!(telling_name(name), "{name}");
        }
        for name in [
            "product_name",
            "page",
            "amount",
            "topic_name",
            "username_hash_version",
        ] {
            assert!(!telling_name(name), "{name}");
        }
    }

    #[test]
    fn masks_keep_little() {
        assert_eq!(mask(PiiKind::Email, "jane@example.com"), "j***@example.com");
        assert_eq!(mask(PiiKind::Card, "4111 1111 1111 1111"), "****1111");
        assert_eq!(mask(PiiKind::Iban, "GB82WEST12345698765432"), "GB***");
    }
}
