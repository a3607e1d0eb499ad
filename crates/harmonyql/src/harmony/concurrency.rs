//! How many downloads run at once, adapted to the link: grown while throughput rises, cut when it falls
//! (additive increase, multiplicative decrease, as TCP does with its window), always within bounds.
//!
//! Behind latency each file spends most of its time waiting for its first byte, so more files at once
//! means more bytes per second, and the limit keeps growing (doubling at first, like TCP's slow start).
//! On a fast link the disk or the CPU is the limit; more files only add contention, the throughput stops
//! rising and the limit stays where it is, or comes down if throughput falls.

use std::time::Duration;

/// Throughput must rise by this fraction over the previous window to count as rising.
const RISE: f64 = 1.10;
/// Throughput below this fraction of the previous window's counts as falling.
const FALL: f64 = 0.70;

/// The limit on downloads at once, fed with the bytes as they arrive.
#[derive(Debug, Clone)]
pub struct Controller {
    limit: usize,
    min: usize,
    max: usize,
    /// How long each throughput sample lasts.
    window: Duration,
    window_start: Duration,
    window_bytes: u64,
    /// Whether the limit was reached during the window: only then does the window say anything about it.
    saturated: bool,
    previous_rate: Option<f64>,
    /// Doubling until throughput first stops rising, then one at a time.
    slow_start: bool,
}

impl Controller {
    /// Starts at `initial` files at once and adapts within `1..=max`, sampling throughput every `window`.
    pub fn adaptive(initial: usize, max: usize, window: Duration) -> Self {
        let max = max.max(1);
        Controller {
            limit: initial.clamp(1, max),
            min: 1,
            max,
            window,
            window_start: Duration::ZERO,
            window_bytes: 0,
            saturated: false,
            previous_rate: None,
            slow_start: true,
        }
    }

    /// Always `limit` files at once.
    pub fn fixed(limit: usize) -> Self {
        let limit = limit.max(1);
        Controller { min: limit, ..Controller::adaptive(limit, limit, Duration::from_secs(1)) }
    }

    /// Files that may run at once now.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Notes that `bytes` arrived at `now` (time since the downloads started) while `running` files were
    /// in flight; at the end of each window, adjusts the limit. Returns the limit.
    pub fn record(&mut self, now: Duration, bytes: u64, running: usize) -> usize {
        self.window_bytes += bytes;
        self.saturated |= running >= self.limit;
        let elapsed = now.saturating_sub(self.window_start);
        if elapsed < self.window {
            return self.limit;
        }
        let rate = self.window_bytes as f64 / elapsed.as_secs_f64();
        match self.previous_rate {
            // Falling: back off by a quarter (a loaded disk or link recovers; a drop from running out of
            // files costs nothing, as fewer are left than the limit anyway).
            Some(previous) if rate < previous * FALL => {
                self.limit = (self.limit * 3 / 4).max(self.min);
                self.slow_start = false;
            }
            // Rising (or the first sample) while the limit was in use: more files help.
            previous if self.saturated && previous.is_none_or(|previous| rate > previous * RISE) => {
                let grown = if self.slow_start { self.limit * 2 } else { self.limit + 1 };
                self.limit = grown.min(self.max);
            }
            // Flat: this many is as good as more; stop doubling.
            _ if self.saturated => self.slow_start = false,
            _ => {}
        }
        self.previous_rate = Some(rate);
        self.window_start = now;
        self.window_bytes = 0;
        self.saturated = false;
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_millis(100);

    /// Drives a controller against a simulated link where each file takes `latency` before its first byte,
    /// then shares `bandwidth` bytes/s with the others; returns the limit after `seconds`.
    fn simulate(controller: &mut Controller, latency: f64, bandwidth: f64, seconds: f64) -> usize {
        let step = 0.01;
        let mut t = 0.0;
        while t < seconds {
            let limit = controller.limit() as f64;
            // Throughput of `limit` files, each alternating a latency wait with its share of a 1 MiB transfer.
            let per_file = 1_048_576.0 / (latency + 1_048_576.0 * limit / bandwidth);
            let rate = (per_file * limit).min(bandwidth);
            t += step;
            controller.record(Duration::from_secs_f64(t), (rate * step) as u64, controller.limit());
        }
        controller.limit()
    }

    #[test]
    fn behind_latency_the_limit_grows_to_its_bound() {
        let mut controller = Controller::adaptive(4, 32, WINDOW);
        // 50 ms per file, 1 GB/s: 32 files at once still leave the link mostly idle.
        assert_eq!(simulate(&mut controller, 0.05, 1e9, 2.0), 32);
    }

    #[test]
    fn on_a_fast_link_the_limit_stays_near_where_throughput_stops_rising() {
        let mut controller = Controller::adaptive(4, 32, WINDOW);
        // No latency: one file alone fills the link; more files add nothing.
        let limit = simulate(&mut controller, 0.0, 1e9, 2.0);
        assert!(limit <= 8, "grew to {limit} though throughput was flat");
    }

    #[test]
    fn a_fall_in_throughput_cuts_the_limit() {
        let mut controller = Controller::adaptive(16, 32, WINDOW);
        let ms = Duration::from_millis;
        controller.record(ms(100), 100_000_000, 16);
        assert_eq!(controller.limit(), 32, "first sample with the limit in use: doubled");
        controller.record(ms(200), 100_000_000, 32);
        assert_eq!(controller.limit(), 32, "flat: held");
        controller.record(ms(300), 10_000_000, 32);
        assert_eq!(controller.limit(), 24, "fell to a tenth: cut by a quarter");
        controller.record(ms(400), 20_000_000, 24);
        assert_eq!(controller.limit(), 25, "rising after slow start: one more");
    }

    #[test]
    fn the_limit_does_not_grow_when_it_was_not_reached() {
        let mut controller = Controller::adaptive(8, 32, WINDOW);
        controller.record(Duration::from_millis(150), 50_000_000, 3);
        assert_eq!(controller.limit(), 8, "only 3 of 8 were running: no evidence that more would help");
    }

    #[test]
    fn fixed_never_moves_and_bounds_hold() {
        let mut fixed = Controller::fixed(3);
        assert_eq!(simulate(&mut fixed, 0.05, 1e9, 1.0), 3);
        let mut controller = Controller::adaptive(0, 0, WINDOW);
        assert_eq!(controller.limit(), 1);
        assert_eq!(simulate(&mut controller, 0.05, 1e9, 1.0), 1);
    }
}
