//! The librdkafka admin calls the `rdkafka` crate does not wrap, through `rdkafka-sys`, in this
//! one module.
//!
//! Committed offsets of many groups from one client (ListConsumerGroupOffsets): librdkafka takes
//! one group per call, so every group's call is put on one queue at once and the answers are
//! collected as they come; no client per group, no group id on any client, nothing joined.
//!
//! The cluster's ACLs (DescribeAcls), every binding, for who-can-read-what.

use std::collections::HashMap;
use std::ffi::{CStr, CString, c_void};
use std::time::{Duration, Instant};

use rdkafka::bindings as rd;
use rdkafka::consumer::Consumer as _;

use super::{Cluster, ClusterError};

/// Every partition a group has committed on, with the committed offset.
pub type GroupOffsets = HashMap<(String, i32), i64>;

/// Frees the queue when the call ends, however it ends.
struct Queue(*mut rd::rd_kafka_queue_t);

impl Drop for Queue {
    fn drop(&mut self) {
        // SAFETY: the queue came from rd_kafka_queue_new and is destroyed once, here.
        unsafe { rd::rd_kafka_queue_destroy(self.0) }
    }
}

/// Frees an event once read.
struct Event(*mut rd::rd_kafka_event_t);

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: the event came from rd_kafka_queue_poll and is destroyed once, here.
        unsafe { rd::rd_kafka_event_destroy(self.0) }
    }
}

fn c_text(text: *const std::ffi::c_char) -> String {
    if text.is_null() {
        return String::new();
    }
    // SAFETY: librdkafka hands out NUL-terminated strings that live as long as their event.
    unsafe { CStr::from_ptr(text) }
        .to_string_lossy()
        .into_owned()
}

impl Cluster {
    /// Every committed offset of each of `groups`, from one client, all groups asked at once.
    /// A group the cluster cannot answer for has its own error; the whole call fails only
    /// when no answer comes within the timeout.
    pub fn group_offsets(
        &self,
        groups: &[&str],
    ) -> Result<HashMap<String, Result<GroupOffsets, ClusterError>>, ClusterError> {
        let mut answers = HashMap::new();
        if groups.is_empty() {
            return Ok(answers);
        }
        let names: Vec<CString> = groups
            .iter()
            .map(|g| CString::new(*g).map_err(|_| ClusterError::UnknownGroup((*g).to_owned())))
            .collect::<Result<_, _>>()?;
        let timeout = self.config().timeout;
        let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        let rk = self.consumer().client().native_ptr();
        // SAFETY: `rk` is the live client owned by `self` for the whole call; every object
        // created here is destroyed before returning (the queue by its guard, the options and
        // requests right after each call, which copies them), and the result pointers are
        // read only while their event is alive.
        let queue = Queue(unsafe { rd::rd_kafka_queue_new(rk) });
        for (i, name) in names.iter().enumerate() {
            unsafe {
                let options = rd::rd_kafka_AdminOptions_new(
                    rk,
                    rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS,
                );
                let mut errstr = [0 as std::ffi::c_char; 256];
                rd::rd_kafka_AdminOptions_set_request_timeout(
                    options,
                    timeout_ms,
                    errstr.as_mut_ptr(),
                    errstr.len(),
                );
                // The opaque names the group even when the whole request fails.
                rd::rd_kafka_AdminOptions_set_opaque(options, i as *mut c_void);
                let mut request =
                    rd::rd_kafka_ListConsumerGroupOffsets_new(name.as_ptr(), std::ptr::null());
                rd::rd_kafka_ListConsumerGroupOffsets(rk, &mut request, 1, options, queue.0);
                rd::rd_kafka_ListConsumerGroupOffsets_destroy(request);
                rd::rd_kafka_AdminOptions_destroy(options);
            }
        }
        let deadline = Instant::now() + timeout + Duration::from_secs(1);
        while answers.len() < groups.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let left_ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
            // SAFETY: as above; the event is destroyed by its guard.
            let event = unsafe { rd::rd_kafka_queue_poll(queue.0, left_ms) };
            if event.is_null() {
                continue;
            }
            let event = Event(event);
            let index = unsafe { rd::rd_kafka_event_opaque(event.0) } as usize;
            let Some(group) = groups.get(index) else {
                continue;
            };
            let answer = unsafe { read_result(event.0) };
            answers.insert((*group).to_owned(), answer);
        }
        if answers.is_empty() {
            return Err(ClusterError::Unreachable {
                bootstrap: self.config().bootstrap.clone(),
                timeout,
                detail: "no answer to ListConsumerGroupOffsets".into(),
            });
        }
        for group in groups {
            answers.entry((*group).to_owned()).or_insert_with(|| {
                Err(ClusterError::Kafka(format!(
                    "no committed offsets for {group} within {}",
                    crate::time::format_seconds(timeout.as_secs_f64())
                )))
            });
        }
        Ok(answers)
    }
}

/// One ListConsumerGroupOffsets result event: the group's committed offsets, or its error.
///
/// # Safety
/// `event` must be a live event from `rd_kafka_queue_poll`.
unsafe fn read_result(event: *mut rd::rd_kafka_event_t) -> Result<GroupOffsets, ClusterError> {
    unsafe {
        let err = rd::rd_kafka_event_error(event);
        if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            return Err(ClusterError::Kafka(c_text(
                rd::rd_kafka_event_error_string(event),
            )));
        }
        let result = rd::rd_kafka_event_ListConsumerGroupOffsets_result(event);
        if result.is_null() {
            return Err(ClusterError::Kafka("an answer of another kind".into()));
        }
        let mut count = 0usize;
        let groups = rd::rd_kafka_ListConsumerGroupOffsets_result_groups(result, &mut count);
        let mut offsets = GroupOffsets::new();
        for g in 0..count {
            let group = *groups.add(g);
            let error = rd::rd_kafka_group_result_error(group);
            if !error.is_null() {
                return Err(ClusterError::Kafka(c_text(rd::rd_kafka_error_string(
                    error,
                ))));
            }
            let list = rd::rd_kafka_group_result_partitions(group);
            if list.is_null() {
                continue;
            }
            for p in 0..(*list).cnt.max(0) as usize {
                let elem = &*(*list).elems.add(p);
                // A negative offset is "no commit"; a partition error (a deleted topic's
                // partition, say) carries no offset to trust.
                if elem.offset >= 0
                    && elem.err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
                {
                    offsets.insert((c_text(elem.topic), elem.partition), elem.offset);
                }
            }
        }
        Ok(offsets)
    }
}

/// One ACL binding as the cluster describes it, in Kafka's words (lowercase).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Acl {
    /// `topic`, `group`, `cluster`, `transactional_id`, `delegation_token`, `broker`…
    pub resource_type: String,
    pub name: String,
    /// `literal` or `prefixed`.
    pub pattern: String,
    pub principal: String,
    pub host: String,
    /// `read`, `all`, `write`, `describe`…
    pub operation: String,
    /// `allow` or `deny`.
    pub permission: String,
}

/// What DescribeAcls answered: the bindings, or why there are none to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclAnswer {
    Acls(Vec<Acl>),
    /// The cluster runs no authorizer: every client that can connect may do anything.
    NoAuthorizer(String),
    /// This client may not describe ACLs.
    NotAllowed(String),
    /// The data is not a live cluster (a capture, the demo): it holds no ACLs.
    Unavailable(String),
}

impl Cluster {
    /// Every ACL binding of the cluster.
    pub fn describe_acls(&self) -> Result<AclAnswer, ClusterError> {
        let timeout = self.config().timeout;
        let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        let rk = self.consumer().client().native_ptr();
        let mut errstr = [0 as std::ffi::c_char; 512];
        // SAFETY: `rk` is the live client owned by `self`; the filter and options are
        // destroyed right after the call (which copies them), the queue by its guard, and the
        // bindings are read only while their event is alive.
        unsafe {
            let filter = rd::rd_kafka_AclBindingFilter_new(
                rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_ANY,
                std::ptr::null(),
                rd::rd_kafka_ResourcePatternType_t::RD_KAFKA_RESOURCE_PATTERN_ANY,
                std::ptr::null(),
                std::ptr::null(),
                rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_ANY,
                rd::rd_kafka_AclPermissionType_t::RD_KAFKA_ACL_PERMISSION_TYPE_ANY,
                errstr.as_mut_ptr(),
                errstr.len(),
            );
            if filter.is_null() {
                return Err(ClusterError::Kafka(c_text(errstr.as_ptr())));
            }
            let queue = Queue(rd::rd_kafka_queue_new(rk));
            let options = rd::rd_kafka_AdminOptions_new(
                rk,
                rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DESCRIBEACLS,
            );
            rd::rd_kafka_AdminOptions_set_request_timeout(
                options,
                timeout_ms,
                errstr.as_mut_ptr(),
                errstr.len(),
            );
            rd::rd_kafka_DescribeAcls(rk, filter, options, queue.0);
            rd::rd_kafka_AclBinding_destroy(filter);
            rd::rd_kafka_AdminOptions_destroy(options);
            let event = rd::rd_kafka_queue_poll(queue.0, timeout_ms.saturating_add(1000));
            if event.is_null() {
                return Err(ClusterError::Unreachable {
                    bootstrap: self.config().bootstrap.clone(),
                    timeout,
                    detail: "no answer to DescribeAcls".into(),
                });
            }
            let event = Event(event);
            let err = rd::rd_kafka_event_error(event.0);
            let text = c_text(rd::rd_kafka_event_error_string(event.0));
            use rd::rd_kafka_resp_err_t as E;
            match err {
                E::RD_KAFKA_RESP_ERR_NO_ERROR => {}
                E::RD_KAFKA_RESP_ERR_SECURITY_DISABLED => return Ok(AclAnswer::NoAuthorizer(text)),
                E::RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED
                | E::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED => {
                    return Ok(AclAnswer::NotAllowed(text));
                }
                _ => return Err(ClusterError::Kafka(text)),
            }
            let result = rd::rd_kafka_event_DescribeAcls_result(event.0);
            if result.is_null() {
                return Err(ClusterError::Kafka("an answer of another kind".into()));
            }
            let mut count = 0usize;
            let bindings = rd::rd_kafka_DescribeAcls_result_acls(result, &mut count);
            let mut acls = Vec::with_capacity(count);
            for i in 0..count {
                let b = *bindings.add(i);
                acls.push(Acl {
                    resource_type: resource_type(rd::rd_kafka_AclBinding_restype(b)),
                    name: c_text(rd::rd_kafka_AclBinding_name(b)),
                    pattern: pattern(rd::rd_kafka_AclBinding_resource_pattern_type(b)),
                    principal: c_text(rd::rd_kafka_AclBinding_principal(b)),
                    host: c_text(rd::rd_kafka_AclBinding_host(b)),
                    operation: operation(rd::rd_kafka_AclBinding_operation(b)),
                    permission: permission(rd::rd_kafka_AclBinding_permission_type(b)),
                });
            }
            Ok(AclAnswer::Acls(acls))
        }
    }
}

fn resource_type(t: rd::rd_kafka_ResourceType_t) -> String {
    use rd::rd_kafka_ResourceType_t as T;
    match t {
        T::RD_KAFKA_RESOURCE_TOPIC => "topic",
        T::RD_KAFKA_RESOURCE_GROUP => "group",
        T::RD_KAFKA_RESOURCE_BROKER => "cluster",
        T::RD_KAFKA_RESOURCE_TRANSACTIONAL_ID => "transactional_id",
        _ => "other",
    }
    .into()
}

fn pattern(p: rd::rd_kafka_ResourcePatternType_t) -> String {
    use rd::rd_kafka_ResourcePatternType_t as P;
    match p {
        P::RD_KAFKA_RESOURCE_PATTERN_PREFIXED => "prefixed",
        P::RD_KAFKA_RESOURCE_PATTERN_LITERAL => "literal",
        _ => "other",
    }
    .into()
}

fn operation(o: rd::rd_kafka_AclOperation_t) -> String {
    use rd::rd_kafka_AclOperation_t as O;
    match o {
        O::RD_KAFKA_ACL_OPERATION_ALL => "all",
        O::RD_KAFKA_ACL_OPERATION_READ => "read",
        O::RD_KAFKA_ACL_OPERATION_WRITE => "write",
        O::RD_KAFKA_ACL_OPERATION_DESCRIBE => "describe",
        O::RD_KAFKA_ACL_OPERATION_CREATE => "create",
        O::RD_KAFKA_ACL_OPERATION_DELETE => "delete",
        O::RD_KAFKA_ACL_OPERATION_ALTER => "alter",
        O::RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS => "describe_configs",
        O::RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS => "alter_configs",
        _ => "other",
    }
    .into()
}

fn permission(p: rd::rd_kafka_AclPermissionType_t) -> String {
    use rd::rd_kafka_AclPermissionType_t as P;
    match p {
        P::RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW => "allow",
        P::RD_KAFKA_ACL_PERMISSION_TYPE_DENY => "deny",
        _ => "other",
    }
    .into()
}
