//! Mutation fuzzing that stays in the suite: thousands of mutants of valid inputs through the
//! capture reader (both formats, zstd), the spec parser, payload sniffing and Confluent
//! framing, the Avro decoder, Protobuf's message indexes, payloads and descriptors, and the
//! `__consumer_offsets` decoder. Each must answer (a value or
//! an error that says where), never panic, never allocate without bound. Payloads made loose
//! (a BOM, trailing text, two objects, NaN, 1e400, comments, deep nesting) go through the PII
//! mask: no `pii` value comes out raw. Deterministic by
//! default so CI is repeatable; `FRESHLENS_FUZZ_SEED=N` explores other mutants.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use freshlens::codec::{Expect, MAX_DEPTH, ParsedSchema, decode, parse_json, too_deep};
use freshlens::freshness::decode_offsets_record;
use freshlens::profile::{PiiMask, Spec};
use freshlens::source::read_capture;

const CASES: u32 = 10_000;

fn runner() -> TestRunner {
    runner_of(CASES)
}

/// Nesting thousands of levels deep costs a case more: these tests try fewer.
const DEEP_CASES: u32 = 1_000;

fn runner_of(cases: u32) -> TestRunner {
    let seed: u64 = std::env::var("FRESHLENS_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Flips, inserts, deletes and truncates: what a damaged file or a hostile peer sends.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ];
    proptest::collection::vec(edit, 0..6)
}

fn mutate(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for edit in edits {
        let len = bytes.len().max(1);
        match *edit {
            Edit::Flip(i, b) if !bytes.is_empty() => bytes[i % len] ^= b,
            Edit::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Edit::Delete(i) if !bytes.is_empty() => {
                bytes.remove(i % len);
            }
            Edit::Truncate(i) => bytes.truncate(i % (bytes.len() + 1)),
            Edit::Duplicate(i, n) if !bytes.is_empty() => {
                let start = i % len;
                let end = (start + n).min(bytes.len());
                let copy = bytes[start..end].to_vec();
                bytes.splice(start..start, copy);
            }
            _ => {}
        }
    }
    bytes
}

const CAPTURE: &str = r#"{"freshlens_capture":1,"name":"f","captured_at_ms":1700000100000,"topics":[{"name":"t","partitions":[{"id":0,"low":0,"high":2}]}],"groups":[{"group":"g","state":"Empty","offsets":[{"topic":"t","partition":0,"offset":1}],"commits":[{"topic":"t","partition":0,"offset":1,"commit_ms":1700000000000}]}]}
{"topic":"t","partition":0,"offset":0,"timestamp_ms":1700000000000,"key":"cust-1","value":"{\"ts\":1,\"email\":\"a@x.io\"}","headers":[{"key":"h","value":"v"}]}
{"topic":"t","partition":0,"offset":1,"timestamp_ms":1700000000001,"key_b64":"/wA=","value_b64":"AAAAAAcCBA=="}"#;
const KCAT: &str = r#"{"topic":"t","partition":0,"offset":3,"tstype":"create","ts":1700000000000,"broker":1,"headers":["a","b"],"key":"cust-1","payload":"{\"amount\":12.5}"}
{"topic":"t","partition":1,"offset":4,"tstype":"logappend","ts":1700000000001,"key":null,"payload":{"avro":true}}"#;

fn check_capture(bytes: &[u8]) {
    match read_capture(bytes, "fuzz") {
        Ok((_, warnings)) => {
            for w in warnings {
                assert!(
                    w.starts_with("line ") || w.contains("line(s)"),
                    "a warning without its line: {w}"
                );
            }
        }
        Err(e) => assert!(e.to_string().starts_with("capture fuzz: "), "{e}"),
    }
}

#[test]
fn capture_reader_survives_mutants_of_both_formats_and_zstd() {
    let mut compressed = Vec::new();
    {
        let mut encoder = zstd::Encoder::new(&mut compressed, 3).unwrap();
        std::io::Write::write_all(&mut encoder, CAPTURE.as_bytes()).unwrap();
        encoder.finish().unwrap();
    }
    let tried = std::sync::atomic::AtomicU32::new(0);
    for seed in [CAPTURE.as_bytes(), KCAT.as_bytes(), compressed.as_slice()] {
        runner()
            .run(&edits(), |edits| {
                tried.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                check_capture(&mutate(seed, &edits));
                Ok(())
            })
            .unwrap();
    }
    assert_eq!(tried.into_inner(), 3 * CASES, "every mutant was tried");
}

const SPEC: &str = r#"
name = "customer"
partitioner = "murmur2"
budget = "5m"
[[source]]
topic = "c360.identity"
event_time = "/ts"
links = ["/anonymous_id"]
erase_when = { path = "/type", equals = "erasure" }
[[field]]
name = "email"
topic = "c360.identity"
path = "/email"
rule = "last"
pii = true
consent = "marketing"
[[field]]
name = "marketing"
topic = "c360.identity"
path = "/marketing"
rule = "last"
[store]
topic = "c360.profiles"
updated_at = "/updated_at"
fields = "/profile"
"#;

#[test]
fn spec_parser_survives_mutants_and_names_the_file() {
    runner()
        .run(&edits(), |edits| {
            let bytes = mutate(SPEC.as_bytes(), &edits);
            let text = String::from_utf8_lossy(&bytes);
            if let Err(e) = Spec::parse(&text, "fuzz.toml") {
                assert!(e.to_string().starts_with("fuzz.toml"), "{e}");
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn payload_sniffing_and_confluent_framing_survive_any_bytes() {
    let framed: &[u8] = &[0, 0, 0, 0, 7, b'{', b'"', b'a', b'"', b':', b'1', b'}'];
    runner()
        .run(&(edits(), any::<Vec<u8>>()), |(edits, random)| {
            for bytes in [mutate(framed, &edits), random] {
                for expect in [Expect::Auto, Expect::Json, Expect::Text, Expect::Binary] {
                    let decoded = decode(&bytes, expect);
                    // A schema id only where one can be: positive, with a body after it.
                    if let Some(id) = decoded.schema_id {
                        assert!(id > 0 && bytes.len() > 5 && bytes[0] == 0);
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn avro_decoding_survives_mutants() {
    let schema = r#"{"type":"record","name":"Order","fields":[
        {"name":"id","type":"string"},{"name":"amount","type":"double"},
        {"name":"items","type":{"type":"array","items":"string"}},
        {"name":"meta","type":{"type":"map","values":"long"}},
        {"name":"note","type":["null","string"],"default":null}]}"#;
    let parsed = ParsedSchema::parse(schema, &[]).unwrap();
    let list = r#"{"type":"record","name":"Node","fields":[
        {"name":"v","type":"int"},{"name":"next","type":["null","Node"],"default":null}]}"#;
    let recursive = ParsedSchema::parse(list, &[]).unwrap();
    let seed: &[u8] = &[
        6, b'o', b'-', b'1', 0, 0, 0, 0, 0, 0, 0x24, 0x40, 2, 2, b'x', 0, 2, 2, b'k', 4, 0, 2, 2,
        b'n',
    ];
    runner()
        .run(&edits(), |edits| {
            let bytes = mutate(seed, &edits);
            let _ = parsed.decode(&bytes);
            // However deep the bytes nest the list, the decoder answers.
            let _ = recursive.decode(&bytes);
            Ok(())
        })
        .unwrap();
}

/// A recursive Protobuf schema with a reference, a map, a oneof, an enum and a well-known
/// type: what the mutants of its framed payloads and of its descriptor are read against.
const PROTO_COMMON: &str = r#"syntax = "proto3";
package c360.common;
message Address { string city = 1; }
"#;
const PROTO: &str = r#"syntax = "proto3";
package c360;
import "c360/common/address.proto";
import "google/protobuf/timestamp.proto";
message First { string x = 1; }
message Node {
  enum Kind { NONE = 0; LEAF = 1; }
  message Inner { repeated int64 v = 1; }
  int32 v = 1;
  Node next = 2;
  map<string, int64> meta = 3;
  oneof pick { string s = 4; bytes b = 5; }
  Kind kind = 6;
  c360.common.Address address = 7;
  google.protobuf.Timestamp at = 8;
  Inner inner = 9;
}
"#;

#[test]
fn protobuf_framing_indexes_and_descriptors_survive_mutants() {
    use base64::Engine as _;
    use freshlens::codec::protobuf::{ProtoSchema, message_indexes};
    let references = [(
        "c360/common/address.proto".to_owned(),
        PROTO_COMMON.to_owned(),
    )];
    let schema = ProtoSchema::compile(PROTO, &references).unwrap();
    // Indexes [1] (Node), then v=1, next={v=2, next={v=3}}, meta{"k":4}, s="x", kind=LEAF,
    // address{city="Lyon"}, at{seconds=5}, inner{v=[1,2]}.
    let seed: &[u8] = &[
        0x02, 0x02, 0x08, 0x01, 0x12, 0x06, 0x08, 0x02, 0x12, 0x02, 0x08, 0x03, 0x1a, 0x05, 0x0a,
        0x01, b'k', 0x10, 0x04, 0x22, 0x01, b'x', 0x30, 0x01, 0x3a, 0x06, 0x0a, 0x04, b'L', b'y',
        b'o', b'n', 0x42, 0x02, 0x08, 0x05, 0x4a, 0x04, 0x0a, 0x02, 0x01, 0x02,
    ];
    let (value, decoded) = schema.decode_framed(seed).unwrap();
    assert_eq!(decoded.message, "c360.Node");
    assert_eq!(value["address"]["city"], "Lyon");
    runner()
        .run(&edits(), |edits| {
            let bytes = mutate(seed, &edits);
            // A value or an error in words: never a panic, never an allocation the bytes ask for.
            let _ = message_indexes(&bytes);
            if let Err(e) = schema.decode_framed(&bytes) {
                prop_assert!(!e.to_string().is_empty());
            }
            Ok(())
        })
        .unwrap();
    // Descriptors: the serialized form (as `?format=serialized` answers) and the text, mutated.
    let compiled = ProtoSchema::compile(PROTO, &references).unwrap();
    let descriptor = base64::engine::general_purpose::STANDARD.encode(compiled.descriptor_bytes());
    runner_of(DEEP_CASES)
        .run(&edits(), |edits| {
            let text = String::from_utf8_lossy(&mutate(PROTO.as_bytes(), &edits)).into_owned();
            let _ = ProtoSchema::compile(&text, &references);
            let bytes = mutate(&compiled.descriptor_bytes(), &edits);
            let mutated = base64::engine::general_purpose::STANDARD.encode(bytes);
            let _ = ProtoSchema::compile(&mutated, &references);
            Ok(())
        })
        .unwrap();
    assert!(ProtoSchema::compile(&descriptor, &references).is_ok());
}

/// How deep a generated payload nests: mostly around the limit, sometimes far past it.
fn depths() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 1usize..2 * MAX_DEPTH, 1 => 1usize..20_000]
}

/// JSON nested `depth` levels, each an array, an object or an array after a first item.
fn deep_json(depth: usize, shapes: &[u8]) -> Vec<u8> {
    let (mut open, mut close) = (Vec::new(), Vec::new());
    for level in 1..depth {
        let (o, c): (&[u8], &[u8]) = match shapes[level % shapes.len()] % 3 {
            0 => (b"[", b"]"),
            1 => (br#"{"a":"#, b"}"),
            _ => (b"[1,", b"]"),
        };
        open.extend_from_slice(o);
        close.extend(c.iter().rev());
    }
    close.reverse();
    [open, b"null".to_vec(), close].concat()
}

#[test]
fn json_nested_at_any_depth_is_read_or_refused_in_words() {
    let shapes = proptest::collection::vec(any::<u8>(), 1..8);
    runner_of(DEEP_CASES)
        .run(&(depths(), shapes, edits()), |(depth, shapes, edits)| {
            let json = deep_json(depth, &shapes);
            match parse_json(&json) {
                Ok(_) => assert!(depth <= MAX_DEPTH, "{depth} levels read"),
                Err(e) => {
                    assert!(depth > MAX_DEPTH, "{depth} levels: {e}");
                    assert_eq!(e.to_string(), too_deep());
                }
            }
            let mutant = mutate(&json, &edits);
            for expect in [Expect::Auto, Expect::Json] {
                let _ = decode(&mutant, expect);
            }
            Ok(())
        })
        .unwrap();
    // A kcat line whose payload nests 10,000 levels: a warning for that line, no crash.
    let deep = deep_json(10_000, &[0, 1]);
    let line = [
        br#"{"topic":"t","partition":0,"offset":3,"key":"k","payload":"#,
        &deep[..],
        b"}",
    ]
    .concat();
    check_capture(&[KCAT.as_bytes(), b"\n", &line].concat());
}

/// A datum of `Node` (an int, then `next`) nested `depth` levels, its ints `values`.
fn deep_list(depth: usize, values: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(2 * depth);
    for level in 0..depth {
        bytes.push(values[level % values.len()] & 0x7f);
        bytes.push(if level + 1 < depth { 2 } else { 0 });
    }
    bytes
}

#[test]
fn avro_nested_at_any_depth_is_read_or_refused_in_words() {
    let list = r#"{"type":"record","name":"Node","fields":[
        {"name":"v","type":"int"},{"name":"next","type":["null","Node"],"default":null}]}"#;
    let recursive = ParsedSchema::parse(list, &[]).unwrap();
    let trees = r#"{"type":"record","name":"Tree","fields":[
        {"name":"kids","type":{"type":"array","items":"Tree"}},
        {"name":"tags","type":{"type":"map","values":"Tree"}}]}"#;
    let trees = ParsedSchema::parse(trees, &[]).unwrap();
    let values = proptest::collection::vec(any::<u8>(), 1..8);
    runner_of(DEEP_CASES)
        .run(&(depths(), values, edits()), |(depth, values, edits)| {
            let bytes = deep_list(depth, &values);
            match recursive.decode(&bytes) {
                Ok(_) => assert!(depth < MAX_DEPTH, "{depth} levels read"),
                Err(e) => {
                    assert!(depth >= MAX_DEPTH, "{depth} levels: {e}");
                    assert_eq!(e.to_string(), too_deep());
                }
            }
            let mutant = mutate(&bytes, &edits);
            let _ = recursive.decode(&mutant);
            // The same bytes as trees: one kid a level, or one tag.
            let _ = trees.decode(&mutant);
            Ok(())
        })
        .unwrap();
}

#[test]
fn consumer_offsets_decoder_survives_mutants() {
    let mut key = 1i16.to_be_bytes().to_vec();
    for s in ["profile-builder", "c360.orders"] {
        key.extend((s.len() as i16).to_be_bytes());
        key.extend(s.as_bytes());
    }
    key.extend(7i32.to_be_bytes());
    let value: &[u8] = &[
        0, 4, 0, 0, 0, 0, 0, 0, 0x30, 0x39, 0, 0, 0, 9, 1, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68,
        0x00, 1, 0, 2, 0xaa, 0xbb,
    ];
    runner()
        .run(&(edits(), edits()), |(key_edits, value_edits)| {
            let k = mutate(&key, &key_edits);
            let v = mutate(value, &value_edits);
            let _ = decode_offsets_record(&k, Some(&v));
            let _ = decode_offsets_record(&k, None);
            Ok(())
        })
        .unwrap();
}

/// Ways a payload is not strict JSON that lenient readers accept, or that hide a valid object.
#[derive(Debug, Clone)]
enum Loose {
    Bom,
    Trailing(u8),
    Concat,
    NaN,
    Huge,
    LineComment,
    BlockComment,
    /// Arrays around the payload, deeper than a strict reader goes.
    Nest(usize),
}

fn looseness() -> impl Strategy<Value = Vec<Loose>> {
    let loose = prop_oneof![
        Just(Loose::Bom),
        (b'!'..=b'~').prop_map(Loose::Trailing),
        Just(Loose::Concat),
        Just(Loose::NaN),
        Just(Loose::Huge),
        Just(Loose::LineComment),
        Just(Loose::BlockComment),
        (130usize..400).prop_map(Loose::Nest),
    ];
    proptest::collection::vec(loose, 1..4)
}

fn loosen(seed: &[u8], how: &[Loose]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    // After the first `{`, or in front when there is none.
    let inside = |bytes: &mut Vec<u8>, text: &[u8]| {
        let at = bytes.iter().position(|b| *b == b'{').map_or(0, |i| i + 1);
        bytes.splice(at..at, text.iter().copied());
    };
    for loose in how {
        match *loose {
            Loose::Bom => bytes.splice(0..0, [0xef, 0xbb, 0xbf]).for_each(drop),
            Loose::Trailing(b) => bytes.extend([b' ', b]),
            Loose::Concat => bytes.extend(bytes.clone()),
            Loose::NaN => inside(&mut bytes, br#""n":NaN,"#),
            Loose::Huge => inside(&mut bytes, br#""n":1e400,"#),
            Loose::LineComment => bytes.splice(0..0, *b"// c\n").for_each(drop),
            Loose::BlockComment => inside(&mut bytes, b"/* c */"),
            Loose::Nest(depth) => {
                bytes
                    .splice(0..0, std::iter::repeat_n(b'[', depth))
                    .for_each(drop);
                bytes.extend(std::iter::repeat_n(b']', depth));
            }
        }
    }
    bytes
}

const ADDRESS: &str = "a@x.io";

/// What the masking paths show of a payload: the masked bytes (captures, the browser) and the
/// record as `messages --json` prints it.
fn shown(mask: &PiiMask, payload: &[u8]) -> (Vec<u8>, String) {
    let masked = mask.apply_bytes("c360.identity", payload).into_owned();
    let record = freshlens::cluster::Record {
        topic: "c360.identity".into(),
        partition: 0,
        offset: 0,
        timestamp_ms: None,
        timestamp_kind: freshlens::cluster::TimestampKind::NotAvailable,
        key: None,
        value: Some(masked.clone()),
        headers: vec![],
    };
    let json = freshlens::codec::record_json(&record, Expect::Auto).to_string();
    (masked, json)
}

/// Loose payloads are masked whole, whatever way they are loose: the address never shows.
#[test]
fn loose_payloads_never_show_a_pii_value() {
    let spec = Spec::parse(SPEC, "fuzz.toml").unwrap();
    let mask = PiiMask::new(&spec);
    let seed = format!(r#"{{"ts":1,"email":"{ADDRESS}","marketing":true}}"#);
    runner()
        .run(&looseness(), |how| {
            let payload = loosen(seed.as_bytes(), &how);
            let (masked, json) = shown(&mask, &payload);
            assert!(
                !String::from_utf8_lossy(&masked).contains(ADDRESS),
                "{how:?}"
            );
            assert!(!json.contains(ADDRESS), "{how:?}: {json}");
            Ok(())
        })
        .unwrap();
}

/// Damaged and loose payloads: what is shown is `***` whole, or strict JSON whose `pii` path
/// holds no value but the mask (a mutant may move the address off the path, where no spec
/// calls it PII).
#[test]
fn damaged_loose_payloads_are_masked_whole_or_at_their_pii_path() {
    let spec = Spec::parse(SPEC, "fuzz.toml").unwrap();
    let mask = PiiMask::new(&spec);
    let seed = format!(r#"{{"ts":1,"email":"{ADDRESS}","marketing":true}}"#);
    runner()
        .run(&(edits(), looseness()), |(edits, how)| {
            let payload = loosen(&mutate(seed.as_bytes(), &edits), &how);
            let (masked, _) = shown(&mask, &payload);
            if masked != b"***" {
                let value: serde_json::Value = serde_json::from_slice(&masked)
                    .unwrap_or_else(|e| panic!("{how:?}: neither *** nor JSON: {e}"));
                let at_path = value.pointer("/email");
                assert!(
                    at_path.is_none_or(|v| v.is_null() || v == "***"),
                    "{how:?}: {value}"
                );
            }
            Ok(())
        })
        .unwrap();
}
