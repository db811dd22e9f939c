//! The broker's API versions (ApiVersions) for the requests a profile pipeline sends. librdkafka
//! asks for them on every connection but does not expose the answer, so this asks itself, over
//! a plain TCP connection, with `kafka-protocol`'s encoders.

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::time::Duration;

use bytes::BytesMut;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, RequestHeader, ResponseHeader,
};
use kafka_protocol::protocol::{Decodable as _, Encodable as _, StrBytes};

use super::result::ApiSupport;
use crate::cluster::ConnectionConfig;

/// What a profile pipeline sends: (request, the lowest version carrying what it relies on,
/// whether it cannot do without it).
pub const NEEDED: &[(ApiKey, i16, bool)] = &[
    // v3: record batches (magic 2), so headers and idempotent sequence numbers.
    (ApiKey::Produce, 3, true),
    // v4: isolation levels and the last stable offset.
    (ApiKey::Fetch, 4, true),
    // v2: by timestamp with an isolation level.
    (ApiKey::ListOffsets, 2, true),
    (ApiKey::Metadata, 1, true),
    (ApiKey::OffsetCommit, 2, true),
    (ApiKey::OffsetFetch, 1, true),
    // v1: the transaction coordinator's key type.
    (ApiKey::FindCoordinator, 1, true),
    (ApiKey::JoinGroup, 0, true),
    (ApiKey::SyncGroup, 0, true),
    (ApiKey::Heartbeat, 0, true),
    (ApiKey::LeaveGroup, 0, true),
    // KIP-848's consumer group protocol: a pipeline can stay on the classic one.
    (ApiKey::ConsumerGroupHeartbeat, 0, false),
    (ApiKey::InitProducerId, 0, true),
    (ApiKey::AddPartitionsToTxn, 0, true),
    (ApiKey::AddOffsetsToTxn, 0, true),
    (ApiKey::EndTxn, 0, true),
    (ApiKey::TxnOffsetCommit, 0, true),
    (ApiKey::CreateTopics, 0, true),
    (ApiKey::DescribeConfigs, 0, true),
    (ApiKey::DeleteRecords, 0, true),
    (ApiKey::DescribeAcls, 0, false),
    // v2: leader epochs, so a consumer detects log truncation after a leader change (KIP-320).
    (ApiKey::OffsetForLeaderEpoch, 2, true),
];

#[derive(Debug, thiserror::Error)]
pub enum ApiVersionsError {
    #[error(
        "ApiVersions is asked over plain TCP and this connection uses {0}: the probes below still run"
    )]
    Secured(String),
    #[error("cannot reach {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("ApiVersions to {0} failed: {1}")]
    Exchange(String, String),
    #[error("ApiVersions answered error code {0}")]
    Refused(i16),
}

/// The versions the broker at the first bootstrap address serves for each request in
/// [`NEEDED`].
pub fn api_versions(connection: &ConnectionConfig) -> Result<Vec<ApiSupport>, ApiVersionsError> {
    if let Some(protocol) = connection
        .properties
        .iter()
        .find(|(k, _)| k.as_str() == "security.protocol")
        .map(|(_, v)| v.to_ascii_lowercase())
        .filter(|p| p != "plaintext")
    {
        return Err(ApiVersionsError::Secured(protocol));
    }
    let address = connection
        .bootstrap
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let served = ask(&address, connection.timeout)?;
    Ok(NEEDED
        .iter()
        .map(|&(api, needed, required)| {
            let range = served.iter().find(|(k, _, _)| *k == api as i16);
            ApiSupport {
                name: format!("{api:?}"),
                key: api as i16,
                min: range.map(|r| r.1),
                max: range.map(|r| r.2),
                needed,
                required,
                supported: range.is_some_and(|r| r.2 >= needed),
            }
        })
        .collect())
}

/// (key, min, max) of every request the broker serves: asked at v3, again at v0 when the broker
/// refuses v3 (UNSUPPORTED_VERSION answers in v0's layout).
fn ask(address: &str, timeout: Duration) -> Result<Vec<(i16, i16, i16)>, ApiVersionsError> {
    match exchange(address, 3, timeout)? {
        Ok(answer) => Ok(answer),
        Err(35) => exchange(address, 0, timeout)?.map_err(ApiVersionsError::Refused),
        Err(code) => Err(ApiVersionsError::Refused(code)),
    }
}

#[allow(clippy::type_complexity)]
fn exchange(
    address: &str,
    version: i16,
    timeout: Duration,
) -> Result<Result<Vec<(i16, i16, i16)>, i16>, ApiVersionsError> {
    let failed = |e: String| ApiVersionsError::Exchange(address.to_owned(), e);
    let socket = address
        .to_socket_addrs()
        .map_err(|e| ApiVersionsError::Connect(address.to_owned(), e))?
        .next()
        .ok_or_else(|| failed("the address resolves to nothing".into()))?;
    let mut stream = TcpStream::connect_timeout(&socket, timeout)
        .map_err(|e| ApiVersionsError::Connect(address.to_owned(), e))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| failed(e.to_string()))?;
    let mut buf = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(ApiKey::ApiVersions as i16)
        .with_request_api_version(version)
        .with_correlation_id(1)
        .with_client_id(Some(StrBytes::from_static_str("freshlens-trial")))
        .encode(
            &mut buf,
            ApiKey::ApiVersions.request_header_version(version),
        )
        .map_err(|e| failed(e.to_string()))?;
    ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("freshlens"))
        .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")))
        .encode(&mut buf, version)
        .map_err(|e| failed(e.to_string()))?;
    let size = i32::try_from(buf.len()).map_err(|e| failed(e.to_string()))?;
    stream
        .write_all(&size.to_be_bytes())
        .and_then(|()| stream.write_all(&buf))
        .map_err(|e| failed(e.to_string()))?;
    let mut size = [0u8; 4];
    stream
        .read_exact(&mut size)
        .map_err(|e| failed(e.to_string()))?;
    let size = usize::try_from(i32::from_be_bytes(size)).map_err(|e| failed(e.to_string()))?;
    if size > 1 << 20 {
        return Err(failed(format!(
            "an answer of {size} bytes is not ApiVersions"
        )));
    }
    let mut body = vec![0u8; size];
    stream
        .read_exact(&mut body)
        .map_err(|e| failed(e.to_string()))?;
    let mut body = bytes::Bytes::from(body);
    // The response header is v0 for ApiVersions at every version (KIP-511).
    ResponseHeader::decode(
        &mut body,
        ApiKey::ApiVersions.response_header_version(version),
    )
    .map_err(|e| failed(e.to_string()))?;
    // An UNSUPPORTED_VERSION answer is laid out as v0 whatever was asked.
    let answer = ApiVersionsResponse::decode(&mut body.clone(), version)
        .or_else(|_| ApiVersionsResponse::decode(&mut body, 0))
        .map_err(|e| failed(e.to_string()))?;
    if answer.error_code != 0 {
        return Ok(Err(answer.error_code));
    }
    Ok(Ok(answer
        .api_keys
        .iter()
        .map(|k| (k.api_key, k.min_version, k.max_version))
        .collect()))
}
