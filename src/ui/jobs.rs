//! The background runtime: every cluster call runs here, never on the UI thread. A job belongs
//! to one slot of one panel; what it sends comes back in an [`Envelope`] naming the panel, the
//! job and the source it was asked of, and [`Jobs::next_within`] drops, in this one place, every
//! answer nobody waits for any more: a job replaced or cancelled, or one asked of a source the
//! app has left.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use crate::cluster::CancelToken;

/// A panel's name in routing (and in the saved state, for the tab in view).
pub type PanelId = &'static str;

/// The shell's own jobs (connecting, opening files, dialogs) are routed under this id.
pub const SHELL: PanelId = "shell";

/// One answer of a job, on its way to the panel that started it.
pub struct Envelope {
    pub panel: PanelId,
    pub slot: &'static str,
    pub job: u64,
    /// The source generation the job was asked of; `None` for work that reads no source.
    pub generation: Option<u64>,
    /// The job's last word: its slot is free once this is taken.
    pub last: bool,
    pub message: Box<dyn Any + Send>,
}

/// What a job's work answers through: its panel hears each message, stamped with the job.
#[derive(Clone)]
pub struct Reply {
    tx: Sender<Envelope>,
    ctx: egui::Context,
    panel: PanelId,
    slot: &'static str,
    job: u64,
    generation: Option<u64>,
    pub cancel: CancelToken,
}

impl Reply {
    /// A message before the last (progress, a part found): the job goes on.
    pub fn send<M: Any + Send>(&self, message: M) {
        self.post(Box::new(message), false);
    }

    fn post(&self, message: Box<dyn Any + Send>, last: bool) {
        // The receiver is gone only when the app is closing.
        let _ = self.tx.send(Envelope {
            panel: self.panel,
            slot: self.slot,
            job: self.job,
            generation: self.generation,
            last,
            message,
        });
        self.ctx.request_repaint();
    }
}

struct Running {
    job: u64,
    cancel: CancelToken,
    /// Whether it reads the source (and so ends with it).
    bound: bool,
}

pub struct Jobs {
    runtime: tokio::runtime::Runtime,
    tx: Sender<Envelope>,
    rx: Receiver<Envelope>,
    ctx: egui::Context,
    /// Which source work is asked of: bumped whenever the app connects to, or leaves, one.
    generation: Cell<u64>,
    next_job: Cell<u64>,
    running: RefCell<HashMap<(PanelId, &'static str), Running>>,
}

/// How long one frame may spend applying background results before it yields.
const DRAIN_BUDGET: Duration = Duration::from_millis(8);

impl Jobs {
    pub fn new(ctx: egui::Context) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("freshlens-worker")
            .enable_all()
            .build()?;
        let (tx, rx) = channel();
        Ok(Self {
            runtime,
            tx,
            rx,
            ctx,
            generation: Cell::new(0),
            next_job: Cell::new(0),
            running: RefCell::default(),
        })
    }

    pub fn ctx(&self) -> &egui::Context {
        &self.ctx
    }

    /// Starts `work` on the current source as the job of `panel`'s `slot`: the slot's previous
    /// job is cancelled and its late answers dropped. What `work` returns is its last word.
    pub fn start<M: Any + Send>(
        &self,
        panel: PanelId,
        slot: &'static str,
        work: impl FnOnce(&Reply) -> M + Send + 'static,
    ) {
        self.spawn(panel, slot, true, work);
    }

    /// Work that reads no source (a spec file, a dialog, a save): leaving the source neither
    /// cancels nor drops it.
    pub fn start_unbound<M: Any + Send>(
        &self,
        panel: PanelId,
        slot: &'static str,
        work: impl FnOnce(&Reply) -> M + Send + 'static,
    ) {
        self.spawn(panel, slot, false, work);
    }

    fn spawn<M: Any + Send>(
        &self,
        panel: PanelId,
        slot: &'static str,
        bound: bool,
        work: impl FnOnce(&Reply) -> M + Send + 'static,
    ) {
        self.cancel(panel, slot);
        let job = self.next_job.get() + 1;
        self.next_job.set(job);
        let cancel = CancelToken::default();
        self.running.borrow_mut().insert(
            (panel, slot),
            Running {
                job,
                cancel: cancel.clone(),
                bound,
            },
        );
        let reply = Reply {
            tx: self.tx.clone(),
            ctx: self.ctx.clone(),
            panel,
            slot,
            job,
            generation: bound.then(|| self.generation.get()),
            cancel,
        };
        self.runtime.spawn_blocking(move || {
            let last = work(&reply);
            reply.post(Box::new(last), true);
        });
    }

    /// Cancels the job of `panel`'s `slot`, if one runs: whatever it still sends is dropped.
    pub fn cancel(&self, panel: PanelId, slot: &'static str) -> bool {
        match self.running.borrow_mut().remove(&(panel, slot)) {
            Some(running) => {
                running.cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// Asks the job of `panel`'s `slot` to stop, and keeps listening: a job that must finish
    /// its work before it ends (a trial deleting what it made) still reports, and its last word
    /// still arrives.
    pub fn stop(&self, panel: PanelId, slot: &'static str) -> bool {
        match self.running.borrow().get(&(panel, slot)) {
            Some(running) => {
                running.cancel.cancel();
                true
            }
            None => false,
        }
    }

    pub fn running(&self, panel: PanelId, slot: &'static str) -> bool {
        self.running.borrow().contains_key(&(panel, slot))
    }

    /// A new source is in use (or none): every job reading the old one is cancelled, and
    /// anything it still sends is dropped.
    pub fn source_changed(&self) {
        self.generation.set(self.generation.get() + 1);
        self.running.borrow_mut().retain(|_, running| {
            if running.bound {
                running.cancel.cancel();
            }
            !running.bound
        });
    }

    /// The next answer still waited for, while the frame's budget lasts: the budget covers
    /// applying answers, not only receiving them (rerun stops after ~10 ms the same way). What
    /// is left waits for the next frame.
    pub fn next_within(&self, started: Instant) -> Option<Envelope> {
        loop {
            if started.elapsed() >= DRAIN_BUDGET {
                self.ctx.request_repaint();
                return None;
            }
            let envelope = self.rx.try_recv().ok()?;
            if self.accepts(&envelope) {
                return Some(envelope);
            }
        }
    }

    /// Whether `envelope` comes from the job its slot runs now, asked of the source in use;
    /// a last word frees the slot.
    fn accepts(&self, envelope: &Envelope) -> bool {
        let key = (envelope.panel, envelope.slot);
        let mut running = self.running.borrow_mut();
        let current = running.get(&key).is_some_and(|r| r.job == envelope.job)
            && envelope
                .generation
                .is_none_or(|g| g == self.generation.get());
        if current && envelope.last {
            running.remove(&key);
        }
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(jobs: &Jobs) -> Vec<(PanelId, u32)> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut got = Vec::new();
        while Instant::now() < deadline && (jobs.running("p", "a") || jobs.running("p", "b")) {
            while let Some(e) = jobs.next_within(Instant::now()) {
                got.push((e.panel, *e.message.downcast::<u32>().unwrap()));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        got
    }

    /// A replaced job, a cancelled one and one asked of a source the app left are all
    /// dropped; the current job's messages arrive, its last word freeing the slot.
    #[test]
    fn only_the_current_jobs_answers_arrive() {
        let jobs = Jobs::new(egui::Context::default()).unwrap();
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let wait = std::sync::Mutex::new(wait);
        jobs.start("p", "a", move |_| {
            let _ = wait.lock().unwrap().recv();
            1u32
        });
        // Replaced before it answers: its answer is dropped.
        jobs.start("p", "a", |reply| {
            reply.send(2u32);
            3u32
        });
        go.send(()).unwrap();
        assert_eq!(drain(&jobs), [("p", 2), ("p", 3)]);
        assert!(!jobs.running("p", "a"));

        // A source switch drops a bound job but keeps one that reads no source.
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let wait = std::sync::Mutex::new(wait);
        let (go2, wait2) = std::sync::mpsc::channel::<()>();
        let wait2 = std::sync::Mutex::new(wait2);
        jobs.start("p", "a", move |_| {
            let _ = wait.lock().unwrap().recv();
            4u32
        });
        jobs.start_unbound("p", "b", move |_| {
            let _ = wait2.lock().unwrap().recv();
            5u32
        });
        jobs.source_changed();
        assert!(!jobs.running("p", "a"));
        go.send(()).unwrap();
        go2.send(()).unwrap();
        assert_eq!(drain(&jobs), [("p", 5)]);

        // A cancelled job's cancel token is set, and its answer dropped.
        let (seen, cancelled) = std::sync::mpsc::channel::<bool>();
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let wait = std::sync::Mutex::new(wait);
        jobs.start("p", "a", move |reply| {
            let _ = wait.lock().unwrap().recv();
            let _ = seen.send(reply.cancel.is_cancelled());
            6u32
        });
        assert!(jobs.cancel("p", "a"));
        go.send(()).unwrap();
        assert!(cancelled.recv().unwrap());
        std::thread::sleep(Duration::from_millis(50));
        assert!(jobs.next_within(Instant::now()).is_none());
    }
}
