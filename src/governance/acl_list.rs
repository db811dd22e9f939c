//! ACLs as `kafka-acls.sh --list` prints them, for a cluster this client may not describe (or
//! one whose broker answers no ACLs): a platform team's listing, read as the cluster's answer.
//! Kafka's `AclCommand` prints each resource pattern, then its entries, one per line:
//!
//! ```text
//! Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=c360.orders, patternType=LITERAL)`:
//!     (principal=User:billing, host=*, operation=READ, permissionType=ALLOW)
//! ```

use crate::cluster::Acl;

/// A line of the listing that is neither a resource, an entry nor one of the tool's headers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclListError {
    #[error("line {line}: an ACL entry before any \"Current ACLs for resource\" line")]
    EntryWithoutResource { line: usize },
    #[error("line {line}: not a kafka-acls --list line: {text:?}")]
    Unrecognized { line: usize, text: String },
    #[error("no ACL entries in the listing: is this the output of kafka-acls --list?")]
    Empty,
}

/// `key=value, key=value` inside the parentheses, as pairs.
fn pairs(inner: &str) -> Option<Vec<(&str, &str)>> {
    inner
        .split(", ")
        .map(|pair| pair.split_once('='))
        .collect::<Option<Vec<_>>>()
}

fn get<'a>(pairs: &[(&str, &'a str)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// The resource pattern of a `Current ACLs for resource `…`:` line.
fn resource(line: &str) -> Option<(String, String, String)> {
    let inner = line
        .strip_prefix("Current ACLs for resource `ResourcePattern(")?
        .trim_end_matches(':')
        .strip_suffix(")`")?;
    // A name may itself hold ", ": the type comes first and the pattern type last.
    let (kind, rest) = inner.split_once(", name=")?;
    let (name, pattern) = rest.rsplit_once(", patternType=")?;
    let kind = kind.strip_prefix("resourceType=")?;
    Some((
        kind.to_ascii_lowercase(),
        name.to_owned(),
        pattern.to_ascii_lowercase(),
    ))
}

/// The bindings of a `kafka-acls --list` listing (any resource types; `Adding ACLs …` echoes
/// and `ACLs for principal …` headers are skipped).
pub fn parse_kafka_acls(text: &str) -> Result<Vec<Acl>, AclListError> {
    let mut current: Option<(String, String, String)> = None;
    let mut echo = false;
    let mut acls = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let number = i + 1;
        if line.is_empty() || line.starts_with("ACLs for principal") {
            continue;
        }
        if line.starts_with("Adding ACLs for resource") || line.starts_with("Removing ACLs") {
            // What the tool was asked to add follows; the "Current ACLs" block after it is
            // what the cluster holds.
            echo = true;
            continue;
        }
        if line.starts_with("Current ACLs for resource") {
            echo = false;
            current = Some(resource(line).ok_or_else(|| AclListError::Unrecognized {
                line: number,
                text: line.to_owned(),
            })?);
            continue;
        }
        let entry = line
            .strip_prefix('(')
            .and_then(|l| l.strip_suffix(')'))
            .and_then(pairs);
        let Some(entry) = entry else {
            return Err(AclListError::Unrecognized {
                line: number,
                text: line.to_owned(),
            });
        };
        if echo {
            continue;
        }
        let Some((kind, name, pattern)) = &current else {
            return Err(AclListError::EntryWithoutResource { line: number });
        };
        let field = |key: &str| {
            get(&entry, key).ok_or_else(|| AclListError::Unrecognized {
                line: number,
                text: line.to_owned(),
            })
        };
        acls.push(Acl {
            resource_type: kind.clone(),
            name: name.clone(),
            pattern: pattern.clone(),
            principal: field("principal")?.to_owned(),
            host: field("host")?.to_owned(),
            operation: field("operation")?.to_ascii_lowercase(),
            permission: field("permissionType")?.to_ascii_lowercase(),
        });
    }
    if acls.is_empty() {
        return Err(AclListError::Empty);
    }
    Ok(acls)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As Kafka's `AclCommand.printResourceAcls` writes it: a tab before each entry, a space
    /// before each line break, a blank line between resources.
    const LISTING: &str = "Current ACLs for resource `ResourcePattern(resourceType=GROUP, name=relation-81-*, patternType=LITERAL)`: \n \t(principal=User:relation-81, host=*, operation=READ, permissionType=ALLOW) \n\nCurrent ACLs for resource `ResourcePattern(resourceType=TOPIC, name=test-topic, patternType=LITERAL)`: \n \t(principal=User:relation-81, host=*, operation=WRITE, permissionType=ALLOW)\n\t(principal=User:relation-81, host=*, operation=READ, permissionType=ALLOW)\n\t(principal=User:*, host=10.0.0.1, operation=READ, permissionType=DENY) \n\nCurrent ACLs for resource `ResourcePattern(resourceType=TOPIC, name=c360., patternType=PREFIXED)`: \n \t(principal=User:analytics, host=*, operation=ALL, permissionType=ALLOW) \n";

    #[test]
    fn a_listing_reads_as_the_bindings_the_cluster_holds() {
        let acls = parse_kafka_acls(LISTING).unwrap();
        assert_eq!(acls.len(), 5);
        assert_eq!(
            acls[0],
            Acl {
                resource_type: "group".into(),
                name: "relation-81-*".into(),
                pattern: "literal".into(),
                principal: "User:relation-81".into(),
                host: "*".into(),
                operation: "read".into(),
                permission: "allow".into(),
            }
        );
        assert_eq!(acls[3].host, "10.0.0.1");
        assert_eq!(acls[3].permission, "deny");
        assert_eq!(
            (acls[4].name.as_str(), acls[4].pattern.as_str()),
            ("c360.", "prefixed")
        );
        let readers = crate::governance::readers(&acls, "c360.orders");
        assert_eq!(readers.len(), 1);
        assert_eq!(readers[0].principal, "User:analytics");
    }

    #[test]
    fn what_the_tool_echoes_while_adding_is_not_taken_for_what_the_cluster_holds() {
        let text = "Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)`: \n \t(principal=User:new, host=*, operation=READ, permissionType=ALLOW) \n\nCurrent ACLs for resource `ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)`: \n \t(principal=User:old, host=*, operation=READ, permissionType=ALLOW) \n";
        let acls = parse_kafka_acls(text).unwrap();
        assert_eq!(acls.len(), 1);
        assert_eq!(acls[0].principal, "User:old");
    }

    #[test]
    fn anything_else_is_refused_with_its_line() {
        assert_eq!(
            parse_kafka_acls("(principal=User:a, host=*, operation=READ, permissionType=ALLOW)"),
            Err(AclListError::EntryWithoutResource { line: 1 })
        );
        assert!(matches!(
            parse_kafka_acls(
                "Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)`:\nUser:a has Allow permission"
            ),
            Err(AclListError::Unrecognized { line: 2, .. })
        ));
        assert_eq!(parse_kafka_acls("\n\n"), Err(AclListError::Empty));
    }
}
