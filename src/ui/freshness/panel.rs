//! The Freshness tab as a panel: its jobs (the builder's lag history, the ingest sample, the
//! PNG export's dialog) and what it hears from the session.

use std::any::Any;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use super::super::command::{Command, News};
use super::super::dialog::{Asked, ask};
use super::super::failure::Failure;
use super::super::jobs::PanelId;
use super::super::panel::{Cx, Panel, expect};
use super::super::path_prompt::PathFor;
use super::super::session::Session;
use super::ask::{Ask, ID, IngestRequest};
use super::{FreshnessPanel, IngestSample, LagPoint, Screenshot};

/// How long a PNG export waits for the window's screenshot before saying it was not saved.
/// eframe answers within a frame or two; a software renderer under load takes seconds.
pub(in crate::ui) const SCREENSHOT_WAIT: Duration = Duration::from_secs(5);

enum Answer {
    BuilderLag(Result<Vec<LagPoint>, Failure>),
    Ingest(Result<IngestSample, Failure>),
    PngPath(Asked),
}

impl FreshnessPanel {
    fn sample_ingest(&mut self, cx: &mut Cx<'_>, request: IngestRequest) {
        let Some(source) = cx.session.source.clone() else {
            return;
        };
        self.ingest_started();
        cx.jobs.start(ID, "ingest", move |reply| {
            let IngestRequest {
                topic,
                pointer,
                since,
                until,
            } = request;
            // About 120 buckets over the window, at least a minute each.
            let bucket_ms = ((until - since) / 120).max(60_000) / 60_000 * 60_000;
            let result = crate::freshness::sample_ingest(
                source.as_ref(),
                &topic,
                &pointer,
                (Some(since), Some(until)),
                10_000,
                bucket_ms,
                &reply.cancel,
            )
            .map_err(Failure::from);
            Answer::Ingest(result)
        });
    }

    /// Saves the plots as a PNG at `path`. The screenshot is taken of a later frame than this
    /// one, which may still show the path prompt; see [`Self::screenshot_plots`].
    fn export_png(&mut self, cx: &mut Cx<'_>, path: PathBuf) {
        let ctx = cx.jobs.ctx();
        // The last export's notice goes: what shows next is this one's.
        *self.notice.lock().unwrap_or_else(PoisonError::into_inner) = None;
        self.png_export = Some((path, ctx.cumulative_frame_nr()));
        ctx.request_repaint();
    }

    /// Called right after the plots are drawn: asks for the screenshot of a pending PNG
    /// export, cropped to the plots' rect of this very frame (the screenshot is of this frame).
    fn screenshot_plots(&mut self, ctx: &egui::Context) {
        let Some((_, asked)) = &self.png_export else {
            return;
        };
        if ctx.cumulative_frame_nr() <= *asked || ctx.will_discard() {
            ctx.request_repaint();
            return;
        }
        let Some((path, _)) = self.png_export.take() else {
            return;
        };
        let Some(rect) = self.plots_rect() else {
            self.notify(format!("not saved {}: no plots on screen", path.display()));
            return;
        };
        let notice = Arc::clone(&self.notice);
        let viewport = ctx.viewport_rect();
        let asked_scale = ctx.pixels_per_point();
        let repaint = ctx.clone();
        let answered = Arc::new(AtomicBool::new(false));
        self.screenshot = Some(Screenshot {
            path: path.clone(),
            asked: Instant::now(),
            answered: Arc::clone(&answered),
        });
        ctx.request_screenshot(move |image| {
            let text = super::super::png::save_region(&image, rect, viewport, asked_scale, &path);
            *notice.lock().unwrap_or_else(PoisonError::into_inner) = Some(text);
            answered.store(true, Ordering::Release);
            repaint.request_repaint();
        });
    }

    /// A screenshot the window has not answered within [`SCREENSHOT_WAIT`] is given up with a
    /// notice (a renderer that failed drops the request without a word).
    fn screenshot_overdue(&mut self, ctx: &egui::Context) {
        let Some(shot) = &self.screenshot else {
            return;
        };
        if shot.answered.load(Ordering::Acquire) {
            self.screenshot = None;
        } else if shot.asked.elapsed() >= SCREENSHOT_WAIT {
            self.notify(format!(
                "not saved {}: the window gave no screenshot within {}s",
                shot.path.display(),
                SCREENSHOT_WAIT.as_secs()
            ));
            self.screenshot = None;
        } else {
            ctx.request_repaint_after(Duration::from_millis(250));
        }
    }
}

impl Panel for FreshnessPanel {
    fn id(&self) -> PanelId {
        ID
    }

    fn ui(&mut self, ui: &mut egui::Ui, session: &Session, out: &mut Vec<Command>) {
        egui::ScrollArea::vertical().show(ui, |ui| {
            let found = session.lookup.as_deref();
            out.extend(self.draw(ui, session.spec.as_deref(), found));
        });
        self.screenshot_plots(ui.ctx());
        self.screenshot_overdue(ui.ctx());
    }

    fn ask(&mut self, request: Box<dyn Any + Send>, cx: &mut Cx<'_>) {
        match expect::<Ask>(request, ID) {
            Some(Ask::SampleIngest(request)) => self.sample_ingest(cx, request),
            Some(Ask::CancelIngest) if cx.jobs.cancel(ID, "ingest") => {
                self.ingest_sampled(Err(Failure::msg("sampling cancelled: nothing shown")));
            }
            Some(Ask::CancelIngest) => {}
            Some(Ask::PickPng) => cx.jobs.start_unbound(ID, "png", |_| {
                Answer::PngPath(ask(|| {
                    rfd::FileDialog::new()
                        .set_title("Export the plots as PNG")
                        .add_filter("PNG image", &["png"])
                        .set_file_name("freshness.png")
                        .save_file()
                }))
            }),
            Some(Ask::SavePng(path)) => self.export_png(cx, path),
            None => {}
        }
    }

    fn take(&mut self, message: Box<dyn Any + Send>, cx: &mut Cx<'_>) {
        match expect::<Answer>(message, ID) {
            Some(Answer::BuilderLag(result)) => self.builder_lag_read(result),
            Some(Answer::Ingest(result)) => self.ingest_sampled(result),
            Some(Answer::PngPath(Asked::Path(path))) => self.export_png(cx, path),
            Some(Answer::PngPath(Asked::NoDialog)) => {
                cx.out.push(Command::PromptPath(PathFor::Png))
            }
            Some(Answer::PngPath(Asked::Cancelled)) | None => {}
        }
    }

    fn observe(&mut self, news: &News, cx: &mut Cx<'_>) {
        match news {
            News::SourceChanged => {
                if let Some(lost) = self.clear() {
                    cx.out.push(Command::Notice(lost));
                }
            }
            News::GroupsJudged => {
                if let Some(groups) = &cx.session.groups {
                    self.groups_judged(groups);
                }
            }
            // The customer's freshness, and the builder group's lag history behind it.
            News::LookupFound => {
                let Some(spec) = cx.session.spec.clone() else {
                    return;
                };
                let now = cx.session.now_ms();
                self.lookup_done(&spec, cx.session.key(), now);
                // The groups may have been judged before the lookup named its builder.
                if let Some(groups) = &cx.session.groups {
                    self.groups_judged(groups);
                }
                if let (Some(source), Some(group)) =
                    (cx.session.source.clone(), self.builder_group.clone())
                {
                    cx.jobs.start(ID, "builder", move |_| {
                        let history =
                            crate::freshness::group_time_lag_history(source.as_ref(), &group, now);
                        Answer::BuilderLag(history.map_err(Failure::from))
                    });
                }
            }
            News::SpecChanged => {}
        }
    }

    /// An export asked for here is dropped, and said, once the plots are not on screen.
    fn tick(&mut self, cx: &mut Cx<'_>, in_view: bool) {
        if !in_view && let Some((path, _)) = self.png_export.take() {
            cx.out.push(Command::Notice(format!(
                "not saved {}: the Freshness plots are not on screen",
                path.display()
            )));
        }
    }
}
