//! Ending the kernel when the process that started it has gone.
//!
//! jupyter_client starts a kernel in a session of its own and sets `JPY_PARENT_PID` to its own pid. A
//! client that dies without a `shutdown_request` (killed with -9, out of memory, a crashed Jupyter
//! server) would otherwise leave the kernel running for good, holding its ports, its memory and every
//! pipe it inherited. ipykernel polls its parent once a second and exits when it has changed; we do
//! the same, with the same rules (`ipykernel/parentpoller.py`, `ParentPollerUnix`).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How often the parent is checked: what ipykernel does.
const POLL: Duration = Duration::from_secs(1);

/// What the kernel watches for, decided once at start from `JPY_PARENT_PID` and the actual parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentWatch {
    /// The parent named by `JPY_PARENT_PID` started us: stop when our parent is another process.
    Changes(u32),
    /// `JPY_PARENT_PID` names another process (a wrapper started us): stop when we are reparented to
    /// init, which is all that can be known then.
    ReparentedToInit,
}

impl ParentWatch {
    /// The watch for a kernel started with `JPY_PARENT_PID = declared` whose parent is `actual`. None
    /// without a usable pid, and for pid 1: init never goes away, it is only reassigned.
    pub fn decide(declared: Option<&str>, actual: u32) -> Option<ParentWatch> {
        let declared: u32 = declared?.trim().parse().ok()?;
        match declared {
            0 | 1 => None,
            pid if pid == actual => Some(ParentWatch::Changes(pid)),
            _ => Some(ParentWatch::ReparentedToInit),
        }
    }

    /// The watch for this process, from its environment. Only Unix has parents to poll.
    pub fn from_env() -> Option<ParentWatch> {
        #[cfg(unix)]
        {
            let declared = std::env::var("JPY_PARENT_PID").ok();
            ParentWatch::decide(declared.as_deref(), std::os::unix::process::parent_id())
        }
        #[cfg(not(unix))]
        {
            None
        }
    }

    /// Whether a process whose parent is now `parent` has lost the one it watches.
    pub fn is_gone(self, parent: u32) -> bool {
        match self {
            ParentWatch::Changes(pid) => parent != pid,
            ParentWatch::ReparentedToInit => parent == 1,
        }
    }
}

/// Polls the parent until it has gone, then cancels `stop` (which shuts the kernel down the way a
/// `shutdown_request` does, the running cell included).
#[cfg(unix)]
pub async fn watch(parent: ParentWatch, stop: CancellationToken) {
    watch_every(parent, stop, POLL).await
}

#[cfg(unix)]
async fn watch_every(parent: ParentWatch, stop: CancellationToken, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let now = std::os::unix::process::parent_id();
        if parent.is_gone(now) {
            tracing::warn!("the process that started this kernel has gone (parent now {now}); shutting down");
            stop.cancel();
            return;
        }
    }
}

/// Without Unix parents there is nothing to poll; the kernel ends on `shutdown_request` only.
#[cfg(not(unix))]
pub async fn watch(_parent: ParentWatch, _stop: CancellationToken) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_parent_is_watched_only_when_it_is_the_real_one() {
        assert_eq!(ParentWatch::decide(Some("4242"), 4242), Some(ParentWatch::Changes(4242)));
        assert_eq!(ParentWatch::decide(Some(" 4242\n"), 4242), Some(ParentWatch::Changes(4242)));
        assert_eq!(ParentWatch::decide(Some("4242"), 77), Some(ParentWatch::ReparentedToInit));
        for unusable in [None, Some(""), Some("1"), Some("0"), Some("-5"), Some("pid"), Some("99999999999")] {
            assert_eq!(ParentWatch::decide(unusable, 4242), None, "{unusable:?}");
        }
    }

    #[test]
    fn a_changed_parent_or_init_means_the_starter_has_gone() {
        assert!(!ParentWatch::Changes(4242).is_gone(4242));
        assert!(ParentWatch::Changes(4242).is_gone(1));
        assert!(ParentWatch::Changes(4242).is_gone(900), "a subreaper other than init adopted us");
        assert!(!ParentWatch::ReparentedToInit.is_gone(77));
        assert!(ParentWatch::ReparentedToInit.is_gone(1));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_watch_cancels_stop_when_the_parent_is_gone_and_not_before() {
        let every = Duration::from_millis(10);
        let ours = std::os::unix::process::parent_id();
        let stop = CancellationToken::new();
        let watching = tokio::spawn(watch_every(ParentWatch::Changes(ours), stop.clone(), every));
        tokio::time::sleep(every * 20).await;
        assert!(!stop.is_cancelled(), "our parent is still there");
        watching.abort();

        tokio::time::timeout(every * 100, watch_every(ParentWatch::Changes(ours.wrapping_add(1)), stop.clone(), every))
            .await
            .expect("the watch returns once it sees another parent");
        assert!(stop.is_cancelled());
    }
}
