use super::*;
use serde_json::json;

/// Message-index arrays as confluent-kafka 2.16's Python serializer writes them
/// (`SchemaId._encode_varints(buf, indexes, zigzag=True)`), hex.
const PYTHON_CLIENT_INDEXES: &[(&[i64], &str)] = &[
    (&[0], "00"),
    (&[1], "0202"),
    (&[0, 0], "040000"),
    (&[1, 0], "040200"),
    (&[0, 2], "040004"),
    (&[1, 0, 2], "06020004"),
    (&[63], "027e"),
    (&[64], "028001"),
    (&[5, 10, 127], "060a14fe01"),
    (&[300], "02d804"),
];

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn reads_the_message_indexes_confluents_client_writes() {
    for (indexes, written) in PYTHON_CLIENT_INDEXES {
        let mut bytes = hex(written);
        bytes.extend_from_slice(b"rest");
        let (read, rest) = message_indexes(&bytes).unwrap();
        assert_eq!(&read, indexes, "{written}");
        assert_eq!(rest, b"rest");
    }
    // Cut short, or a count past what follows: malformed, never a huge allocation.
    assert_eq!(message_indexes(&[]), None);
    assert_eq!(message_indexes(&[0x04, 0x02]), None);
    assert_eq!(message_indexes(&[0xfe, 0xff, 0xff, 0xff, 0x0f]), None);
    assert_eq!(message_indexes(&[0x80; 11]), None);
}

const REFERENCED: &str = r#"
syntax = "proto3";
package c360.common;
message Address {
  string city = 1;
  string postal_code = 2;
}
"#;

const IDENTITY: &str = r#"
syntax = "proto3";
package c360;
import "c360/common/address.proto";
import "google/protobuf/timestamp.proto";

message Envelope { string trace = 1; }

message Identity {
  enum Tier { TIER_UNSPECIFIED = 0; GOLD = 1; }
  message Device {
    string id = 1;
    int64 seen_ms = 2;
  }
  string customer_id = 1;
  string email = 2;
  c360.common.Address address = 3;
  google.protobuf.Timestamp updated_at = 4;
  int64 lifetime_cents = 5;
  Tier tier = 6;
  bool marketing = 7;
  repeated Device devices = 8;
}
"#;

fn identity_schema() -> ProtoSchema {
    ProtoSchema::compile(
        IDENTITY,
        &[("c360/common/address.proto".into(), REFERENCED.into())],
    )
    .unwrap()
}

fn identity_bytes(schema: &ProtoSchema) -> Vec<u8> {
    let message = schema.message("c360.Identity").unwrap();
    let value = json!({
        "customerId": "cust-7",
        "email": "a@example.com",
        "address": {"city": "Lyon", "postalCode": "69001"},
        "updatedAt": "2026-11-18T11:06:40Z",
        "lifetimeCents": "9007199254740993",
        "tier": "GOLD",
        "devices": [{"id": "dev-1", "seenMs": "5"}]
    });
    let dynamic = DynamicMessage::deserialize(message, value).unwrap();
    dynamic.encode_to_vec()
}

#[test]
fn a_referenced_schema_decodes_in_the_json_mapping() {
    let schema = identity_schema();
    let mut framed = vec![0x02, 0x02]; // indexes [1]: the second top-level message
    framed.extend(identity_bytes(&schema));
    let (value, decoded) = schema.decode_framed(&framed).unwrap();
    assert_eq!(
        decoded,
        ProtoDecoded {
            message: "c360.Identity".into(),
            indexes: vec![1]
        }
    );
    assert_eq!(value["customerId"], "cust-7");
    assert_eq!(value["address"]["city"], "Lyon");
    // Timestamp as RFC 3339, 64-bit integers as strings, enums by name, and a proto3
    // `false` that the wire never carries still shown.
    assert_eq!(value["updatedAt"], "2026-11-18T11:06:40Z");
    assert_eq!(value["lifetimeCents"], "9007199254740993");
    assert_eq!(value["tier"], "GOLD");
    assert_eq!(value["marketing"], false);
    assert_eq!(value["devices"][0]["seenMs"], "5");
}

#[test]
fn a_nested_message_is_found_by_a_non_zero_index_path() {
    let schema = identity_schema();
    let device = schema.message("c360.Identity.Device").unwrap();
    let bytes = DynamicMessage::deserialize(device, json!({"id": "dev-9", "seenMs": "12"}))
        .unwrap()
        .encode_to_vec();
    // [1, 0]: Identity, then its first nested message, as the client writes it.
    let mut framed = hex("040200");
    framed.extend(&bytes);
    let (value, decoded) = schema.decode_framed(&framed).unwrap();
    assert_eq!(decoded.message, "c360.Identity.Device");
    assert_eq!(value, json!({"id": "dev-9", "seenMs": "12"}));
    // An index past the schema's messages is said as such.
    let mut beyond = hex("0206");
    beyond.extend(&bytes);
    assert_eq!(
        schema.decode_framed(&beyond).unwrap_err(),
        ProtobufError::NoSuchIndex(vec![3])
    );
}

#[test]
fn a_serialized_descriptor_compiles_as_the_text_does() {
    // What `?format=serialized` answers (and what Confluent's Python serializer registers):
    // a base64 FileDescriptorProto.
    let text = identity_schema();
    let file = text.pool.get_file_by_name(&text.file).unwrap();
    let serialized = base64::engine::general_purpose::STANDARD
        .encode(file.file_descriptor_proto().encode_to_vec());
    let address = text
        .pool
        .get_file_by_name("c360/common/address.proto")
        .unwrap();
    let address = base64::engine::general_purpose::STANDARD
        .encode(address.file_descriptor_proto().encode_to_vec());
    let from_descriptor = ProtoSchema::compile(
        &serialized,
        &[("c360/common/address.proto".into(), address)],
    )
    .unwrap();
    let mut framed = hex("0202");
    framed.extend(identity_bytes(&text));
    assert_eq!(
        from_descriptor.decode_framed(&framed).unwrap(),
        text.decode_framed(&framed).unwrap()
    );
}

#[test]
fn bad_schemas_and_payloads_are_errors_in_words() {
    let missing_import = ProtoSchema::compile(IDENTITY, &[]).unwrap_err();
    assert!(
        matches!(&missing_import, ProtobufError::Compile(w) if w.contains("c360/common/address.proto")),
        "{missing_import}"
    );
    assert!(ProtoSchema::compile("message {", &[]).is_err());
    let schema = identity_schema();
    let garbage = [0x00, 0x0a, 0xff, 0xff, 0xff];
    let error = schema.decode_framed(&garbage).unwrap_err();
    assert!(
        error.to_string().starts_with("not a c360.Envelope: "),
        "{error}"
    );
    assert_eq!(
        schema.message("c360.Nope").unwrap_err().to_string(),
        "no message c360.Nope in the schema"
    );
}
