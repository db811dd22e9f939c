//! Connected clients kept between reads. A new librdkafka client costs a bootstrap connection,
//! API version and metadata round trips (and, with a group id, a coordinator lookup) before it
//! can fetch anything; lookups and the groups sampler read the same topics and groups again
//! and again.

use std::sync::Mutex;

use rdkafka::consumer::Consumer as _;

use super::Consumer;

pub(crate) struct Pool {
    /// (what the client last served, the client), least recently used first.
    idle: Mutex<Vec<(String, Consumer)>>,
    keep: usize,
}

impl Pool {
    pub(crate) fn new(keep: usize) -> Self {
        Self {
            idle: Mutex::new(Vec::new()),
            keep,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }

    /// The idle client that last served `key`, if any. Only that one: a client that has not
    /// seen a topic waits for a metadata refresh before fetching from it, which costs more (up
    /// to a second) than a new client, whose first metadata covers every topic.
    pub(crate) fn take(&self, key: &str) -> Option<Consumer> {
        let mut idle = self.idle.lock().ok()?;
        let at = idle.iter().rposition(|(k, _)| k == key)?;
        Some(idle.remove(at).1)
    }

    /// Keeps a client whose work ended without error and without an assignment. Anything
    /// still queued for it (records, end-of-partition events of the last read) is drained so
    /// the next read sees only its own, and a client that has seen a connection failure is
    /// dropped so an old failure never explains a new error.
    pub(crate) fn put(&self, key: &str, consumer: Consumer) {
        while consumer.poll(std::time::Duration::ZERO).is_some() {}
        let dropped = if consumer.context().worst_failure().is_some() {
            Some(consumer)
        } else {
            match self.idle.lock() {
                Ok(mut idle) => {
                    idle.push((key.to_owned(), consumer));
                    (idle.len() > self.keep).then(|| idle.remove(0).1)
                }
                Err(_) => None,
            }
        };
        if let Some(consumer) = dropped {
            // Closing a client waits for its broker threads (100 ms or more): never on the
            // caller's time, never under the lock.
            std::thread::spawn(move || drop(consumer));
        }
    }
}

impl Drop for Pool {
    /// Closes the idle clients all at once rather than one after another.
    fn drop(&mut self) {
        let idle = match self.idle.get_mut() {
            Ok(idle) => std::mem::take(idle),
            Err(_) => return,
        };
        std::thread::scope(|scope| {
            for (_, consumer) in idle {
                scope.spawn(move || drop(consumer));
            }
        });
    }
}
