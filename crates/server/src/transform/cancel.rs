//! Cancellation of a running transformation: the job engine runs each work item inside [`run`] with the
//! job's flag, and the costly loops ask [`requested`] or [`checkpoint`] (a thread-local read: the
//! transformations are synchronous and run on one blocking thread each), so a canceled job stops its work
//! instead of keeping a core busy until the item ends. Every transformation checks: the trajectory
//! subsetter per beam and dataset, the variable subsetter per variable, the GeoTIFF and reprojection paths
//! per variable and per row, the shape mask per point run.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    static FLAG: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Runs `work` on this thread with `flag` as its cancellation flag (restored afterwards, even on panic).
pub fn run<T>(flag: Arc<AtomicBool>, work: impl FnOnce() -> T) -> T {
    struct Restore(Option<Arc<AtomicBool>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            FLAG.with(|slot| *slot.borrow_mut() = previous);
        }
    }
    let _restore = Restore(FLAG.with(|slot| slot.borrow_mut().replace(flag)));
    work()
}

/// The message a transformation stopped by cancel returns (in [`harmonyql_data::Error::Invalid`], which
/// `transform` turns into [`crate::transform::TransformError::Canceled`]).
pub const STOPPED: &str = "stopped: the job was canceled";

/// `Err` once the work running on this thread was canceled: the `?` between two costly steps.
pub fn checkpoint() -> harmonyql_data::Result<()> {
    if requested() { Err(harmonyql_data::Error::Invalid(STOPPED.to_owned())) } else { Ok(()) }
}

/// Whether the work running on this thread was canceled (always `false` outside [`run`]).
pub fn requested() -> bool {
    FLAG.with(|slot| slot.borrow().as_ref().is_some_and(|flag| flag.load(Ordering::Relaxed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_is_seen_inside_run_only() {
        let flag = Arc::new(AtomicBool::new(false));
        assert!(!requested());
        run(flag.clone(), || {
            assert!(!requested());
            flag.store(true, Ordering::Relaxed);
            assert!(requested());
        });
        assert!(!requested());
    }
}
