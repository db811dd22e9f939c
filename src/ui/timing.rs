//! How long after the process started the app got somewhere: how fast it gets a user to an
//! answer is measured from these log lines.

static PROCESS_START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Remembers when the process started, so the first frame can say how long it took.
pub fn note_process_start() {
    PROCESS_START.get_or_init(std::time::Instant::now);
}

/// Logs (at info level) how long after process start something happened: how fast the app
/// gets a user to an answer is measured from these.
pub fn log_since_start(what: &str) {
    if let Some(start) = PROCESS_START.get() {
        log::info!("{what} {} ms after start", start.elapsed().as_millis());
    }
}
