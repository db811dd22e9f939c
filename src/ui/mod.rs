//! The desktop app: a thin layer over the engine. Each tab is a [`Panel`] in its own file that
//! owns its state and its background jobs; this module lays the window out, routes every job's
//! answer to the panel that asked, and applies what panels ask for after drawing
//! ([`shell`] holds what the app does itself).

mod app;
mod browse;
mod browse_ask;
mod busy;
mod command;
mod compare;
mod connect;
mod dialog;
mod failure;
mod freshness;
mod governance;
mod groups;
mod groups_sampler;
mod jobs;
mod keys;
pub mod messages;
mod overview;
mod panel;
mod path_prompt;
mod plot_time;
mod png;
mod profile;
mod rebuild;
mod scorecard;
mod session;
mod shell;
mod status;
mod timing;
mod topics;
mod trial;
mod window;

pub use app::{FreshlensApp, Startup};
pub use timing::note_process_start;
pub use window::run;

#[cfg(test)]
mod compare_tests;
#[cfg(test)]
mod tests;
