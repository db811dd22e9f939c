//! An error as the GUI keeps it until it draws it: its type and its chain of causes, shown in
//! the words the CLI prints (`{:#}`: each cause after a colon).

use std::sync::Arc;

/// Why a job failed. Cheap to clone (a tab and the status bar may both show it).
#[derive(Clone)]
pub struct Failure(Arc<anyhow::Error>);

impl Failure {
    /// A failure the GUI itself states (a cancelled job, a field that does not parse).
    pub fn msg(text: impl std::fmt::Display + std::fmt::Debug + Send + Sync + 'static) -> Self {
        Self(Arc::new(anyhow::Error::msg(text)))
    }

    /// The error as typed, to ask what it is.
    pub fn error(&self) -> &anyhow::Error {
        &self.0
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Failure {
    fn from(error: E) -> Self {
        Self(Arc::new(anyhow::Error::new(error)))
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failure keeps the error's type and chain, and reads as the CLI prints it.
    #[test]
    fn a_failure_keeps_its_type_and_reads_as_the_cli_prints_it() {
        let cluster = crate::cluster::ClusterError::UnknownTopic("c360.orders".into());
        let failure = Failure::from(cluster.clone());
        assert_eq!(failure.to_string(), cluster.to_string());
        assert!(
            failure
                .error()
                .downcast_ref::<crate::cluster::ClusterError>()
                .is_some_and(|e| *e == cluster)
        );
        let chained = Failure(Arc::new(
            anyhow::Error::new(cluster).context("reading orders"),
        ));
        assert_eq!(
            chained.to_string(),
            "reading orders: unknown topic c360.orders"
        );
    }
}
