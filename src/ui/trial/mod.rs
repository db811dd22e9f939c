//! The Trial tab: a candidate platform trialled beside today's (`freshlens trial`): targets and
//! settings, Start and Cancel, both sides' latency live on one time axis (seconds from each
//! side's start) with the budget and the burst and restart marked, the compatibility table side
//! by side, the replay bars, the rows, and *Export report…* (HTML). The trial writes, under its
//! prefix only, and deletes what it made; the tab says so beside Start.

use std::any::Any;

mod view;

use super::command::Command;
use super::failure::Failure;
use super::jobs::{Jobs, PanelId};
use super::panel::{Busy, Cx, Panel, expect};
use super::session::Session;
use crate::cluster::ConnectionConfig;
use crate::trial::load::LoadEvent;
use crate::trial::result::{ApiSupport, Interval, Probe, ReplayRate, Side, TrialReport};
use crate::trial::run::{TrialRequest, TrialStep, Which, default_prefix};

pub const ID: PanelId = "Trial";

/// What the tab keeps between runs (no secrets: properties are not saved).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TrialSettings {
    pub candidate: String,
    pub baseline: String,
    pub customers: usize,
    pub rate: f64,
    pub duration_s: u64,
    pub burst_factor: f64,
    pub burst_s: u64,
    pub budget_s: f64,
    pub replay: String,
    pub restart_cmd: String,
    pub keep: bool,
}

impl Default for TrialSettings {
    fn default() -> Self {
        Self {
            candidate: String::new(),
            baseline: String::new(),
            customers: 1_000,
            rate: 200.0,
            duration_s: 20,
            burst_factor: 5.0,
            burst_s: 10,
            budget_s: 2.0,
            replay: "1,2,4".into(),
            restart_cmd: String::new(),
            keep: false,
        }
    }
}

/// One side as it runs: what arrived so far, then the whole side.
#[derive(Default, Clone)]
pub struct LiveSide {
    pub bootstrap: String,
    pub apis: Vec<ApiSupport>,
    pub probes: Vec<Probe>,
    pub intervals: Vec<Interval>,
    pub phase: String,
    pub replay: Vec<ReplayRate>,
    pub done: Option<Side>,
}

pub enum Ask {
    Start,
    Cancel,
    Export,
}

enum Answer {
    Finished(Result<TrialReport, Failure>),
}

#[derive(Default)]
pub struct TrialPanel {
    pub settings: TrialSettings,
    /// librdkafka properties of each side, `key=value` a line; never saved.
    pub candidate_properties: String,
    pub baseline_properties: String,
    pub running: bool,
    pub prefix: String,
    pub sides: [LiveSide; 2],
    pub report: Option<TrialReport>,
    pub error: Option<Failure>,
}

fn slot(which: Which) -> usize {
    match which {
        Which::Candidate => 0,
        Which::Baseline => 1,
    }
}

fn config(
    bootstrap: &str,
    properties: &str,
    timeout: std::time::Duration,
) -> Result<ConnectionConfig, Failure> {
    let mut config = ConnectionConfig::new(bootstrap.trim())
        .with_property_lines(properties, "properties")
        .map_err(|e| Failure::msg(e.to_string()))?;
    config.timeout = timeout;
    Ok(config)
}

impl TrialPanel {
    /// The request the settings describe, or what is wrong with them.
    fn request(&self, timeout: std::time::Duration) -> Result<TrialRequest, Failure> {
        let s = &self.settings;
        if s.candidate.trim().is_empty() {
            return Err(Failure::msg("name the candidate's bootstrap servers"));
        }
        let mut request =
            TrialRequest::new(config(&s.candidate, &self.candidate_properties, timeout)?);
        if !s.baseline.trim().is_empty() {
            request.baseline = Some(config(&s.baseline, &self.baseline_properties, timeout)?);
        }
        let replay: Result<Vec<u32>, _> = s
            .replay
            .split(',')
            .map(|n| n.trim().parse::<u32>())
            .collect();
        request.replay_consumers = replay
            .ok()
            .filter(|r| !r.is_empty() && r.iter().all(|&n| (1..=64).contains(&n)))
            .ok_or_else(|| Failure::msg("replay readers: numbers from 1 to 64, like 1,2,4"))?;
        if !(s.rate > 0.0 && s.rate <= 100_000.0) {
            return Err(Failure::msg("rate: between 0 and 100000 events/s"));
        }
        request.prefix = default_prefix();
        request.customers = s.customers.max(1);
        request.rate = s.rate;
        request.duration = std::time::Duration::from_secs(s.duration_s.max(1));
        request.burst_factor = s.burst_factor.clamp(1.0, 100.0);
        request.burst = std::time::Duration::from_secs(s.burst_s);
        request.budget = std::time::Duration::from_secs_f64(s.budget_s.max(0.001));
        request.restart_cmd = Some(s.restart_cmd.trim().to_owned()).filter(|c| !c.is_empty());
        request.keep = s.keep;
        Ok(request)
    }

    fn start(&mut self, cx: &mut Cx<'_>) {
        let request = match self.request(cx.session.timeout) {
            Ok(r) => r,
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        self.prefix = request.prefix.clone();
        self.sides = Default::default();
        self.report = None;
        self.error = None;
        self.running = true;
        // A trial reads no session source: leaving the cluster in view does not stop it.
        cx.jobs.start_unbound(ID, "trial", move |reply| {
            let result = crate::trial::run::run(&request, &reply.cancel, &mut |step| {
                reply.send(step);
            })
            .map_err(|e| Failure::msg(e.to_string()));
            Answer::Finished(result)
        });
    }

    fn step(&mut self, step: TrialStep) {
        match step {
            TrialStep::Started(w, bootstrap) => {
                let side = &mut self.sides[slot(w)];
                side.bootstrap = bootstrap;
                side.phase = "probing".into();
            }
            TrialStep::Apis(w, apis) => self.sides[slot(w)].apis = apis,
            TrialStep::Probe(w, probe) => self.sides[slot(w)].probes.push(probe),
            TrialStep::Load(w, LoadEvent::Phase(phase)) => self.sides[slot(w)].phase = phase.into(),
            TrialStep::Load(w, LoadEvent::Interval(i)) => self.sides[slot(w)].intervals.push(i),
            TrialStep::Replay(w, r) => {
                let side = &mut self.sides[slot(w)];
                side.phase = "replay".into();
                side.replay.push(r);
            }
            TrialStep::Done(w, side) => {
                let live = &mut self.sides[slot(w)];
                live.phase = "done".into();
                live.intervals = side.latency.intervals.clone();
                live.done = Some(*side);
            }
            TrialStep::CleanedUp(w, left) => {
                if !left.is_empty() {
                    self.sides[slot(w)].phase = format!("could not delete: {}", left.join("; "));
                }
            }
        }
    }
}

impl Panel for TrialPanel {
    fn id(&self) -> PanelId {
        ID
    }

    fn ui(&mut self, ui: &mut egui::Ui, session: &Session, out: &mut Vec<Command>) {
        out.extend(self.draw(ui, session));
    }

    fn ask(&mut self, ask: Box<dyn Any + Send>, cx: &mut Cx<'_>) {
        match expect::<Ask>(ask, ID) {
            Some(Ask::Start) if !self.running => self.start(cx),
            Some(Ask::Start) => {}
            Some(Ask::Cancel) => {
                // The job cleans up before it ends: the answer still arrives.
                cx.jobs.stop(ID, "trial");
            }
            Some(Ask::Export) => {
                if let Some(report) = &self.report {
                    cx.out.push(Command::SaveText {
                        title: "Export the trial",
                        file_name: "trial.html".into(),
                        text: crate::trial::report::html(report),
                    });
                }
            }
            None => {}
        }
    }

    fn take(&mut self, message: Box<dyn Any + Send>, _cx: &mut Cx<'_>) {
        let message = match message.downcast::<TrialStep>() {
            Ok(step) => return self.step(*step),
            Err(message) => message,
        };
        if let Some(Answer::Finished(result)) = expect::<Answer>(message, ID) {
            self.running = false;
            match result {
                Ok(report) => self.report = Some(report),
                Err(e) => {
                    // A side the error cut short says so rather than "probing" forever.
                    for side in &mut self.sides {
                        if side.done.is_none() && !side.bootstrap.is_empty() {
                            side.phase = "stopped (see the error above)".into();
                        }
                    }
                    self.error = Some(e);
                }
            }
        }
    }

    fn saved(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.settings).ok()
    }

    fn restore(&mut self, saved: serde_json::Value) {
        if let Ok(settings) = serde_json::from_value(saved) {
            self.settings = settings;
        }
    }

    fn busy(&self, jobs: &Jobs) -> Option<Busy> {
        Some(Busy {
            progress: None,
            running: jobs.running(ID, "trial"),
            cancel: Command::to(ID, Ask::Cancel),
        })
    }
}
