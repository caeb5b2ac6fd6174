//! Progress bars: on a terminal only, so cron and systemd logs stay quiet.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar counting bytes (a spinner when the total is unknown), drawn on stderr when it is a terminal.
pub fn bytes(total: Option<u64>, label: &str) -> ProgressBar {
    let bar = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    let template = match total {
        Some(_) => "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        None => "{msg} {spinner} {bytes} {bytes_per_sec}",
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(label.to_string());
    if total.is_none() {
        // Nothing may count bytes (an upload is one call): the spinner still says it is working.
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
    }
    bar
}

/// A bar counting `len` things (`{pos}/{len} hosts`), hidden when stderr is no terminal.
pub fn count(len: usize, what: &str) -> ProgressBar {
    if !on_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template(&format!("{{bar:30}} {{pos}}/{{len}} {what} {{elapsed}}")) {
        bar.set_style(style);
    }
    bar
}

/// Whether stderr is a terminal a person watches.
pub fn on_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}
