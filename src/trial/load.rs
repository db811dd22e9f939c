//! One side's workload: the demo's records produced at a steady rate, then a burst, then
//! across a broker restart, while the live builder applies them; then drained and read back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::cluster::write::{Ack, Outgoing, Writer};
use crate::cluster::{
    CancelToken, Cluster, ClusterError, ConnectionConfig, ScanEvent, ScanRequest,
};
use crate::demo::live::LiveRecord;
use crate::time::now_ms;

use super::builder::{self, BuilderSetup, BuilderState};
use super::error::StepError;
use super::latency::{back_within_budget, latency, longest_gap, worst_since};
use super::result::{Burst, Interval, Latency, Restart};

/// The header carrying each trial record's sequence number: how a record read back is matched
/// with its acknowledgement, and a duplicate found.
pub const SEQ_HEADER: &str = "freshlens-trial-seq";

#[derive(Debug, Clone)]
pub struct LoadSettings {
    pub rate: f64,
    pub steady: Duration,
    pub burst_factor: f64,
    pub burst: Duration,
    /// How long after the burst (and after the restart) latency may take to come back.
    pub settle: Duration,
    pub restart_cmd: Option<String>,
    pub budget_ms: i64,
    pub interval_ms: i64,
}

/// What the run tells as it goes.
#[derive(Debug, Clone)]
pub enum LoadEvent {
    Phase(&'static str),
    /// The interval just over, as far as it is known then.
    Interval(Interval),
}

#[derive(Debug)]
pub struct LoadOutcome {
    pub start_ms: i64,
    pub latency: Latency,
    pub burst: Burst,
    pub restart: Option<Restart>,
    /// Why the read-back after the restart could not be done; the other figures stand.
    pub restart_error: Option<StepError>,
    /// Events the schedule called for, and those the client took (the rest it could not
    /// buffer while the broker was behind).
    pub offered: u64,
    pub produced: u64,
    pub produce_errors: u64,
    pub undecodable: u64,
    /// The builder's last error, if it ended failing.
    pub builder_failing: Option<String>,
}

struct Shared {
    acks: Mutex<Vec<Ack>>,
}

/// Runs the phases; `Err` only when nothing could be produced at all.
#[allow(clippy::too_many_lines)]
pub fn run(
    connection: &ConnectionConfig,
    writer: &Writer,
    setup: &BuilderSetup,
    records: &[LiveRecord],
    settings: &LoadSettings,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(LoadEvent),
) -> Result<LoadOutcome, StepError> {
    if records.is_empty() {
        return Err(StepError::NoRecords);
    }
    let state = BuilderState::default();
    let stop_builder = AtomicBool::new(false);
    let shared = Shared {
        acks: Mutex::new(Vec::new()),
    };
    let buffer = (settings.rate * settings.burst_factor.max(1.0) * 5.0).max(1_000.0) as u64;
    let (producer, ack_rx) = writer
        .acked_producer(&[
            // What a pipeline's producer commonly waits to fill a batch.
            ("linger.ms", "20"),
            ("acks", "all"),
            ("enable.idempotence", "false"),
            ("message.timeout.ms", "120000"),
            // A client's buffer of five seconds at the peak rate: a broker that cannot keep up
            // makes the producer wait (and the events' latency grow, timed from when each was
            // due), not a backlog that drowns the broker for the rest of the run.
            ("queue.buffering.max.messages", &buffer.to_string()),
        ])
        .map_err(StepError::Producer)?;
    let start_ms = now_ms();
    let started = Instant::now();
    let steady_end = settings.steady;
    let burst_end = steady_end + settings.burst;
    let settle_end = burst_end + settings.settle;
    // (start, end, exit code, killed) of the restart command.
    let mut restart: Option<(i64, i64, Option<i32>, bool)> = None;
    let mut sent: u64 = 0;
    let offered = std::cell::Cell::new(0_u64);
    let collecting = AtomicBool::new(true);
    let outcome = std::thread::scope(|scope| {
        scope.spawn(|| builder::run(writer, setup, &state, &stop_builder));
        let (collecting, shared) = (&collecting, &shared);
        scope.spawn(move || {
            while collecting.load(Ordering::Relaxed) {
                if let Ok(ack) = ack_rx.recv_timeout(Duration::from_millis(100)) {
                    let mut acks = shared.acks.lock().unwrap_or_else(|p| p.into_inner());
                    acks.push(ack);
                    acks.extend(ack_rx.try_iter());
                }
            }
            shared
                .acks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(ack_rx.try_iter());
        });
        // Whether the record was taken (false: the client's buffer is full).
        let send_one = |seq: u64, due_ms: i64| -> Result<bool, StepError> {
            let r = &records[(seq % records.len() as u64) as usize];
            let text = seq.to_string();
            producer
                .try_send(
                    seq,
                    Outgoing {
                        topic: &r.topic,
                        partition: r.partition,
                        // When the event was due: a producer kept waiting adds to its latency.
                        timestamp_ms: Some(due_ms),
                        key: Some(&r.key),
                        value: Some(&r.value),
                    },
                    &[(SEQ_HEADER, Some(text.as_bytes()))],
                )
                .map_err(StepError::Produce)
        };
        // Produces at `rate` × factor until `until` (from the start), telling intervals.
        let mut last_told = start_ms;
        let mut tell = |on_event: &mut dyn FnMut(LoadEvent)| {
            let now = now_ms();
            while now - last_told >= settings.interval_ms {
                let applied = state.applied.lock().unwrap_or_else(|p| p.into_inner());
                let acks = shared.acks.lock().unwrap_or_else(|p| p.into_inner());
                let produced: Vec<i64> = acks
                    .iter()
                    .filter(|a| a.offset.is_some() && a.at_ms >= last_told)
                    .map(|a| a.at_ms)
                    .collect();
                let recent: Vec<_> = applied
                    .iter()
                    .rev()
                    .take_while(|a| a.at_ms >= last_told)
                    .copied()
                    .collect();
                let one = latency(
                    &recent,
                    &produced,
                    last_told,
                    last_told + settings.interval_ms - 1,
                    settings.interval_ms,
                    settings.budget_ms,
                );
                if let Some(interval) = one.intervals.into_iter().next() {
                    on_event(LoadEvent::Interval(interval));
                }
                last_told += settings.interval_ms;
            }
        };
        let mut produce = |until: Duration,
                           factor: f64,
                           done: &dyn Fn() -> bool,
                           sent: &mut u64,
                           on_event: &mut dyn FnMut(LoadEvent)|
         -> Result<(), StepError> {
            let phase_start = started.elapsed();
            let phase_start_ms = now_ms();
            let rate = settings.rate * factor;
            let base = *sent;
            let mut due = 0;
            while started.elapsed() < until && !cancel.is_cancelled() && !done() {
                due = ((started.elapsed() - phase_start).as_secs_f64() * rate) as u64;
                while *sent < base + due {
                    let at = phase_start_ms + ((*sent - base) as f64 / rate * 1_000.0) as i64;
                    if !send_one(*sent, at)? {
                        break;
                    }
                    *sent += 1;
                }
                tell(on_event);
                std::thread::sleep(Duration::from_millis(2));
            }
            // Events due in the phase the client never took are offered and not produced.
            offered.set(offered.get() + due.max(*sent - base));
            Ok(())
        };
        let never = || false;
        on_event(LoadEvent::Phase("steady"));
        produce(steady_end, 1.0, &never, &mut sent, on_event)?;
        on_event(LoadEvent::Phase("burst"));
        let burst_start_ms = now_ms();
        produce(
            burst_end,
            settings.burst_factor,
            &never,
            &mut sent,
            on_event,
        )?;
        let burst_end_ms = now_ms();
        on_event(LoadEvent::Phase("after the burst"));
        // Back within budget: everything produced so far applied and the last second's
        // records within it.
        let recovered = || caught_up(shared, &state, settings.budget_ms);
        produce(settle_end, 1.0, &recovered, &mut sent, on_event)?;
        if let Some(command) = &settings.restart_cmd {
            on_event(LoadEvent::Phase("restart"));
            let command_start_ms = now_ms();
            // `None`: it could not be started (its exit code then says nothing either).
            let child = Mutex::new(restart_command(command).spawn().ok());
            let ended: Mutex<Option<(i64, Option<i32>)>> = Mutex::new(None);
            let finished = || {
                let mut ended = ended.lock().unwrap_or_else(|p| p.into_inner());
                if ended.is_none() {
                    let mut child = child.lock().unwrap_or_else(|p| p.into_inner());
                    *ended = match child.as_mut().map(std::process::Child::try_wait) {
                        Some(Ok(None)) => None,
                        Some(Ok(Some(status))) => Some((now_ms(), status.code())),
                        None | Some(Err(_)) => Some((now_ms(), None)),
                    };
                }
                ended.is_some()
            };
            let cap = started.elapsed() + settings.settle * 4;
            produce(cap, 1.0, &finished, &mut sent, on_event)?;
            // A command that never ends is stopped: the trial stays bounded in time.
            let killed = !finished();
            if killed && let Some(child) = child.lock().unwrap_or_else(|p| p.into_inner()).as_mut()
            {
                stop_group(child);
            }
            let (end_ms, code) = ended
                .into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or((now_ms(), None));
            restart = Some((command_start_ms, end_ms, code, killed));
            let settle_after = started.elapsed() + settings.settle;
            produce(settle_after, 1.0, &recovered, &mut sent, on_event)?;
        }
        on_event(LoadEvent::Phase("draining"));
        // A broker that fell behind gets a bounded wait, then what it has not taken is dropped
        // (and counted as produce errors), so the replay after measures the broker, not a
        // backlog.
        if producer.flush(settings.settle).is_err() {
            producer.purge();
            let _ = producer.flush(Duration::from_secs(5));
        }
        let drain_until = Instant::now() + settings.settle;
        while Instant::now() < drain_until && !cancel.is_cancelled() {
            let acked = acked_count(shared);
            let applied = state.applied.lock().map(|a| a.len() as u64).unwrap_or(0);
            if applied >= acked {
                break;
            }
            tell(on_event);
            std::thread::sleep(Duration::from_millis(50));
        }
        stop_builder.store(true, Ordering::Relaxed);
        collecting.store(false, Ordering::Relaxed);
        Ok::<_, StepError>((burst_start_ms, burst_end_ms))
    });
    let (burst_start_ms, burst_end_ms) = outcome?;
    let end_ms = now_ms();
    let applied = state
        .applied
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    let acks = shared.acks.into_inner().unwrap_or_else(|p| p.into_inner());
    let produced_at: Vec<i64> = acks
        .iter()
        .filter(|a| a.offset.is_some())
        .map(|a| a.at_ms)
        .collect();
    let produce_errors = acks
        .iter()
        .filter(|a| a.error.is_some() && !a.purged)
        .count() as u64;
    let budget = settings.budget_ms;
    let burst = Burst {
        factor: settings.burst_factor,
        start_ms: burst_start_ms,
        end_ms: burst_end_ms,
        worst_lag_ms: worst_since(&applied, burst_start_ms),
        back_within_budget_ms: back_within_budget(
            &applied
                .iter()
                .filter(|a| restart.is_none_or(|(s, _, _, _)| a.at_ms < s))
                .copied()
                .collect::<Vec<_>>(),
            burst_end_ms,
            restart.map_or(end_ms, |(s, _, _, _)| s),
            budget,
        ),
    };
    let restart = match restart {
        None => Ok(None),
        Some((start_ms, end_ms_, exit_code, killed)) => read_back(
            connection,
            &setup.sources,
            &acks,
            &applied,
            RestartWindow {
                start_ms,
                end_ms: end_ms_,
                exit_code,
                killed,
                run_end_ms: end_ms,
            },
            settings,
            cancel,
        )
        .map(Some),
    };
    let (restart, restart_error) = match restart {
        Ok(r) => (r, None),
        Err(e) => (None, Some(e)),
    };
    Ok(LoadOutcome {
        start_ms,
        latency: latency(
            &applied,
            &produced_at,
            start_ms,
            end_ms,
            settings.interval_ms,
            budget,
        ),
        burst,
        restart,
        restart_error,
        offered: offered.get(),
        produced: sent,
        produce_errors,
        undecodable: state.undecodable.into_inner().unwrap_or(0),
        builder_failing: state.failing.into_inner().unwrap_or(None),
    })
}

/// `sh -c command` in a process group of its own, so that stopping it stops what it started.
fn restart_command(command: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .stdout(std::process::Stdio::null());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd
}

/// Kills the command's whole process group (a shell's children with it), then reaps it.
fn stop_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

/// Where a record is: topic, partition, offset.
type Position = (String, i32, i64);

/// Every record of `topic` with its sequence header, by position; a read that fails is tried
/// again (twice) from the start: a broker still working off the run answers slowly.
fn read_topic(
    cluster: &Cluster,
    topic: &str,
    cancel: &CancelToken,
) -> Result<Vec<(Position, u64)>, StepError> {
    let mut attempt = 0;
    loop {
        let mut found = Vec::new();
        let read = cluster.scan(&ScanRequest::new(topic), cancel, &mut |event| {
            if let ScanEvent::Records(records) = event {
                for r in records {
                    let seq = r
                        .headers
                        .iter()
                        .find(|(k, _)| k == SEQ_HEADER)
                        .and_then(|(_, v)| v.as_deref())
                        .and_then(|v| std::str::from_utf8(v).ok())
                        .and_then(|v| v.parse::<u64>().ok());
                    if let Some(seq) = seq {
                        found.push(((r.topic.clone(), r.partition, r.offset), seq));
                    }
                }
            }
            true
        });
        match read {
            Ok(_) => return Ok(found),
            Err(source) if attempt >= 2 || cancel.is_cancelled() => {
                return Err(StepError::Read {
                    topic: topic.to_owned(),
                    source,
                });
            }
            Err(_) => {
                attempt += 1;
                std::thread::sleep(Duration::from_secs(2));
            }
        }
    }
}

/// A connection to a broker that may still be working off what the run sent it: asked again
/// until it answers, for at most `patience`, each time with a timeout of at least 60 s.
pub fn answering(
    connection: &ConnectionConfig,
    patience: Duration,
) -> Result<Cluster, ClusterError> {
    let mut config = connection.clone();
    config.timeout = config.timeout.max(Duration::from_secs(60));
    let deadline = Instant::now() + patience;
    loop {
        match Cluster::connect(config.clone()) {
            Ok(cluster) => return Ok(cluster),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_secs(1)),
        }
    }
}

fn acked_count(shared: &Shared) -> u64 {
    shared
        .acks
        .lock()
        .map(|a| a.iter().filter(|a| a.offset.is_some()).count() as u64)
        .unwrap_or(0)
}

/// Everything acknowledged applied, and what was applied in the last second within budget.
fn caught_up(shared: &Shared, state: &BuilderState, budget_ms: i64) -> bool {
    let acked = acked_count(shared);
    let applied = state.applied.lock().unwrap_or_else(|p| p.into_inner());
    let now = now_ms();
    applied.len() as u64 >= acked
        && applied
            .iter()
            .rev()
            .take_while(|a| a.at_ms >= now - 1_000)
            .all(|a| a.latency_ms <= budget_ms)
}

/// After the run: every record acknowledged before the restart command started looked for at
/// its offset (with its sequence header), duplicates over the whole run counted.
struct RestartWindow {
    start_ms: i64,
    end_ms: i64,
    exit_code: Option<i32>,
    killed: bool,
    /// When the whole run ended: the last moment latency was watched.
    run_end_ms: i64,
}

fn read_back(
    connection: &ConnectionConfig,
    sources: &[String],
    acks: &[Ack],
    applied: &[builder::Applied],
    window: RestartWindow,
    settings: &LoadSettings,
    cancel: &CancelToken,
) -> Result<Restart, StepError> {
    let RestartWindow {
        start_ms,
        end_ms,
        exit_code,
        killed,
        run_end_ms,
    } = window;
    let cluster = answering(connection, settings.settle * 3).map_err(StepError::Connect)?;
    let mut at: HashMap<(String, i32, i64), u64> = HashMap::new();
    let mut seen: HashMap<u64, u32> = HashMap::new();
    for topic in sources {
        let positions = read_topic(&cluster, topic, cancel)?;
        for (position, seq) in positions {
            *seen.entry(seq).or_default() += 1;
            at.insert(position, seq);
        }
    }
    let before: Vec<&Ack> = acks
        .iter()
        .filter(|a| a.offset.is_some() && a.at_ms < start_ms)
        .collect();
    let mut lost_offsets = Vec::new();
    let mut read_back = 0_u64;
    for a in &before {
        let offset = a.offset.unwrap_or(-1);
        if at.get(&(a.topic.clone(), a.partition, offset)) == Some(&a.id) {
            read_back += 1;
        } else {
            lost_offsets.push(format!("{}/{}@{}", a.topic, a.partition, offset));
        }
    }
    let lost = lost_offsets.len() as u64;
    lost_offsets.truncate(20);
    let producing: Vec<i64> = acks
        .iter()
        .filter(|a| a.offset.is_some())
        .map(|a| a.at_ms)
        .collect();
    let applying: Vec<i64> = applied.iter().map(|a| a.at_ms).collect();
    // From the command's start until a second after it ended: the broker's absence.
    let window_end = (end_ms + 1_000).min(run_end_ms);
    let produce_gap = longest_gap(&producing, start_ms, window_end);
    let consume_gap = longest_gap(&applying, start_ms, window_end);
    Ok(Restart {
        command: settings.restart_cmd.clone().unwrap_or_default(),
        start_ms,
        end_ms,
        exit_code,
        killed,
        unavailable_ms: produce_gap.max(consume_gap),
        produce_unavailable_ms: produce_gap,
        consume_unavailable_ms: consume_gap,
        acknowledged: before.len() as u64,
        read_back,
        lost,
        lost_offsets,
        duplicates: seen.values().filter(|&&n| n > 1).count() as u64,
        back_within_budget_ms: back_within_budget(applied, end_ms, run_end_ms, settings.budget_ms),
        produce_errors: acks
            .iter()
            .filter(|a| a.error.is_some() && !a.purged)
            .count() as u64,
    })
}
