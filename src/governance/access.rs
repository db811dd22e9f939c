//! Who can read which attribute: the cluster's ACLs joined with the spec. For each field, the
//! principals and hosts allowed to READ its topic, resolved as Kafka's authorizer does: a
//! binding applies to a topic when it names it literally, names `*`, or is a prefix of it;
//! READ is granted by `read` or `all`; a DENY that applies to the same principal (or `User:*`)
//! and host (or `*`) wins over any ALLOW.

use serde::Serialize;

use crate::cluster::{Acl, AclAnswer};
use crate::profile::Spec;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reader {
    pub principal: String,
    pub host: String,
    /// `read` or `all`.
    pub operation: String,
    /// The binding's resource pattern: `literal:c360.orders`, `prefixed:c360.`, `literal:*`.
    pub pattern: String,
    /// Principals a DENY excludes from a wildcard ALLOW.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<String>,
}

impl Reader {
    /// `User:billing@* (literal:c360.orders) except …`, for people.
    pub fn describe(&self) -> String {
        let except = if self.except.is_empty() {
            String::new()
        } else {
            format!(" except {}", self.except.join(", "))
        };
        format!(
            "{}@{} ({} via {}){except}",
            self.principal, self.host, self.operation, self.pattern
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribute {
    pub field: String,
    pub topic: String,
    pub pii: bool,
    pub readers: Vec<Reader>,
    /// The store topic, which serves every attribute, and who may read it there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_topic: Option<String>,
    pub store_readers: Vec<Reader>,
}

impl Attribute {
    /// Who reads it, in words: at its topic, then at the store.
    pub fn readers_text(&self) -> String {
        let here: Vec<String> = self.readers.iter().map(Reader::describe).collect();
        let mut text = if here.is_empty() {
            "no ACL grants READ".to_owned()
        } else {
            here.join("; ")
        };
        if let Some(store) = &self.store_topic
            && !self.store_readers.is_empty()
        {
            let there: Vec<String> = self.store_readers.iter().map(Reader::describe).collect();
            text.push_str(&format!(
                "; through the store {store}: {}",
                there.join("; ")
            ));
        }
        text
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    /// Whether the cluster answered with its ACLs.
    pub supported: bool,
    /// What the answer means, in a sentence.
    pub note: String,
    pub attributes: Vec<Attribute>,
}

/// Whether a topic binding covers `topic`.
fn covers(acl: &Acl, topic: &str) -> bool {
    acl.resource_type == "topic"
        && match acl.pattern.as_str() {
            "literal" => acl.name == topic || acl.name == "*",
            "prefixed" => topic.starts_with(&acl.name),
            _ => false,
        }
}

fn grants_read(acl: &Acl) -> bool {
    acl.operation == "read" || acl.operation == "all"
}

/// Whether a DENY binding applies to a principal and host an ALLOW names.
fn denies(deny: &Acl, principal: &str, host: &str) -> bool {
    (deny.principal == principal || deny.principal == "User:*")
        && (deny.host == host || deny.host == "*")
}

/// The principals allowed to read `topic` under `acls`.
pub fn readers(acls: &[Acl], topic: &str) -> Vec<Reader> {
    let applying: Vec<&Acl> = acls
        .iter()
        .filter(|a| covers(a, topic) && grants_read(a))
        .collect();
    let denials: Vec<&&Acl> = applying.iter().filter(|a| a.permission == "deny").collect();
    let mut out: Vec<Reader> = applying
        .iter()
        .filter(|a| a.permission == "allow")
        .filter(|a| !denials.iter().any(|d| denies(d, &a.principal, &a.host)))
        .map(|a| Reader {
            principal: a.principal.clone(),
            host: a.host.clone(),
            operation: a.operation.clone(),
            pattern: format!("{}:{}", a.pattern, a.name),
            // A wildcard ALLOW still lets in everyone a DENY does not name.
            except: if a.principal == "User:*" {
                denials.iter().map(|d| d.principal.clone()).collect()
            } else {
                Vec::new()
            },
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.principal, &a.host, &a.pattern).cmp(&(&b.principal, &b.host, &b.pattern))
    });
    out.dedup();
    out
}

/// Joins the cluster's answer with the spec's fields.
pub fn access(spec: &Spec, answer: &AclAnswer) -> Access {
    let (supported, note, acls): (bool, String, &[Acl]) = match answer {
        AclAnswer::Acls(acls) if acls.is_empty() => (
            true,
            "The cluster describes no ACLs. With an authorizer and no ACLs only super users may \
             read (unless allow.everyone.if.no.acl.found is set); some brokers answer an empty list \
             without enforcing anything."
                .into(),
            acls,
        ),
        AclAnswer::Acls(acls) => (
            true,
            format!("{} ACL bindings read.", acls.len()),
            acls,
        ),
        AclAnswer::NoAuthorizer(detail) => (
            false,
            format!(
                "The cluster runs no authorizer ({detail}): every client that can connect may \
                 read every topic, so every attribute below is readable by anyone connected."
            ),
            &[],
        ),
        AclAnswer::Unavailable(what) => (
            false,
            format!("{what} holds no ACLs: connect to the cluster to see who may read what."),
            &[],
        ),
        AclAnswer::NotAllowed(detail) => (
            false,
            format!(
                "This client may not describe the cluster's ACLs ({detail}): it needs DESCRIBE \
                 on the cluster resource."
            ),
            &[],
        ),
    };
    let attributes = spec
        .fields
        .iter()
        .map(|f| Attribute {
            field: f.name.clone(),
            topic: f.topic.clone(),
            pii: f.pii,
            readers: readers(acls, &f.topic),
            store_topic: spec.store.as_ref().map(|s| s.topic.clone()),
            store_readers: spec
                .store
                .as_ref()
                .map(|s| readers(acls, &s.topic))
                .unwrap_or_default(),
        })
        .collect();
    Access {
        supported,
        note,
        attributes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(pattern: &str, name: &str, principal: &str, host: &str, op: &str, perm: &str) -> Acl {
        Acl {
            resource_type: "topic".into(),
            name: name.into(),
            pattern: pattern.into(),
            principal: principal.into(),
            host: host.into(),
            operation: op.into(),
            permission: perm.into(),
        }
    }

    /// A spec with one `pii` field, `email` on topic `t`, and `more` after it.
    fn email_spec(more: &str) -> Spec {
        let text = format!(
            "name = \"c\"\nbudget = \"1m\"\n[[source]]\ntopic = \"t\"\n[[field]]\nname = \"email\"\n\
             topic = \"t\"\npath = \"/email\"\nrule = \"last\"\npii = true\n{more}"
        );
        Spec::parse(&text, "t").unwrap()
    }

    fn names(readers: &[Reader]) -> Vec<(&str, &str)> {
        readers
            .iter()
            .map(|r| (r.principal.as_str(), r.pattern.as_str()))
            .collect()
    }

    #[test]
    fn literal_prefixed_and_wildcard_bindings_resolve() {
        let acls = [
            acl(
                "literal",
                "c360.orders",
                "User:billing",
                "*",
                "read",
                "allow",
            ),
            acl("prefixed", "c360.", "User:analytics", "*", "read", "allow"),
            acl("literal", "*", "User:auditor", "*", "all", "allow"),
            acl(
                "literal",
                "c360.orders",
                "User:writer",
                "*",
                "write",
                "allow",
            ),
            acl("prefixed", "other.", "User:stranger", "*", "read", "allow"),
            Acl {
                resource_type: "group".into(),
                ..acl(
                    "literal",
                    "c360.orders",
                    "User:group-reader",
                    "*",
                    "read",
                    "allow",
                )
            },
        ];
        assert_eq!(
            names(&readers(&acls, "c360.orders")),
            [
                ("User:analytics", "prefixed:c360."),
                ("User:auditor", "literal:*"),
                ("User:billing", "literal:c360.orders"),
            ],
            "write does not grant read; another prefix and a group binding do not apply"
        );
        assert_eq!(
            names(&readers(&acls, "c360.identity")),
            [
                ("User:analytics", "prefixed:c360."),
                ("User:auditor", "literal:*")
            ]
        );
    }

    #[test]
    fn deny_wins_over_allow() {
        let acls = [
            acl("prefixed", "c360.", "User:analytics", "*", "read", "allow"),
            acl(
                "literal",
                "c360.identity",
                "User:analytics",
                "*",
                "read",
                "deny",
            ),
            acl("literal", "*", "User:*", "*", "read", "allow"),
            acl(
                "literal",
                "c360.identity",
                "User:intern",
                "*",
                "all",
                "deny",
            ),
            acl(
                "literal",
                "c360.orders",
                "User:ops",
                "10.0.0.1",
                "read",
                "allow",
            ),
            acl("literal", "c360.orders", "User:ops", "*", "read", "deny"),
        ];
        let identity = readers(&acls, "c360.identity");
        assert_eq!(names(&identity), [("User:*", "literal:*")]);
        assert_eq!(identity[0].except, ["User:analytics", "User:intern"]);
        let orders = readers(&acls, "c360.orders");
        assert_eq!(
            names(&orders),
            [
                ("User:*", "literal:*"),
                ("User:analytics", "prefixed:c360.")
            ],
            "a DENY on every host covers the ALLOW on one"
        );
        // Everyone denied: nobody reads.
        let all_denied = [
            acl("literal", "t", "User:a", "*", "read", "allow"),
            acl("literal", "t", "User:*", "*", "read", "deny"),
        ];
        assert!(readers(&all_denied, "t").is_empty());
    }

    #[test]
    fn whoever_reads_the_store_reads_every_attribute() {
        let spec = email_spec("[store]\ntopic = \"profiles\"\n");
        let acls = vec![acl("literal", "profiles", "User:app", "*", "read", "allow")];
        let found = access(&spec, &AclAnswer::Acls(acls));
        let email = &found.attributes[0];
        assert!(email.readers.is_empty());
        assert_eq!(email.store_readers[0].principal, "User:app");
        assert!(
            email
                .readers_text()
                .contains("through the store profiles: User:app")
        );
    }

    #[test]
    fn answers_without_acls_say_what_they_mean() {
        let spec = email_spec("");
        let none = access(
            &spec,
            &AclAnswer::NoAuthorizer("Security features are disabled".into()),
        );
        assert!(!none.supported);
        assert!(none.note.contains("no authorizer"), "{}", none.note);
        assert_eq!(none.attributes[0].field, "email");
        assert!(none.attributes[0].pii);
        let empty = access(&spec, &AclAnswer::Acls(Vec::new()));
        assert!(empty.supported && empty.note.contains("no ACLs"));
        let refused = access(
            &spec,
            &AclAnswer::NotAllowed("Cluster authorization failed".into()),
        );
        assert!(refused.note.contains("DESCRIBE"));
    }
}
