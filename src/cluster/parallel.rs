//! Reading several topics at once, a thread (and so a pooled client) each: the census, the
//! chain, the rehearsal, readiness and the lookup's identity hops all read this way.

use super::ClusterError;

/// Runs `work` on every item, each on a thread of its own, and gives the answers in item
/// order; a thread that panicked answers with [`ClusterError::Panicked`] naming `what`.
pub fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    what: &str,
    work: impl Fn(usize, &T) -> Result<R, ClusterError> + Sync,
) -> Vec<Result<R, ClusterError>> {
    let work = &work;
    std::thread::scope(|scope| {
        let threads: Vec<_> = items
            .iter()
            .enumerate()
            .map(|(index, item)| scope.spawn(move || work(index, item)))
            .collect();
        threads
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err(ClusterError::Panicked(what.to_owned())))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_come_in_item_order_and_a_panic_is_an_error() {
        let answers = in_parallel(&[3, 1, 2], "a test reader", |i, n| {
            if *n == 1 {
                panic!("boom");
            }
            Ok(i * 10 + n)
        });
        assert_eq!(answers[0].as_ref().ok(), Some(&3));
        assert!(matches!(&answers[1], Err(ClusterError::Panicked(w)) if w == "a test reader"));
        assert_eq!(answers[2].as_ref().ok(), Some(&22));
    }
}
