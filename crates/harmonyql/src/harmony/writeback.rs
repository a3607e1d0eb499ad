//! Early writeback of a file being downloaded: every few MiB, the kernel is asked to start writing what has
//! arrived to disk, so the fsync that makes a finished file durable waits only for the last few MiB rather
//! than for the whole file (left alone, the page cache holds it all until then: Linux starts writing back
//! on its own only past a tenth of memory or after 30 s). Downloads still fsync every file before renaming
//! it into place; this only lets the disk work while the network does. Where the call does not exist (not
//! Linux) or a file system refuses it, nothing changes but the timing.

use std::sync::Arc;

/// Bytes gathered between two requests: large next to the cost of a call, small next to a granule, so the
/// disk starts early and the final fsync finds little left.
const WINDOW: u64 = 8 * 1024 * 1024;

/// Tracks how much of one file has been handed to the kernel for writeback.
pub(crate) struct Writeback {
    /// A duplicate of the file's descriptor: a request still running after its download stopped (a
    /// cancelled future) keeps it open, so it never reaches a file that reused the number.
    file: Arc<std::fs::File>,
    /// Offset up to which writeback has been requested.
    requested: u64,
}

impl Writeback {
    pub(crate) fn new(file: std::fs::File) -> Self {
        Writeback { file: Arc::new(file), requested: 0 }
    }

    /// `written` bytes are now in the file: once a window has gathered since the last request, asks for
    /// writeback of everything since. Waits for the request (not for the disk), so a congested device slows
    /// the download rather than piling up calls.
    pub(crate) async fn advance(&mut self, written: u64) {
        if written < self.requested.saturating_add(WINDOW) {
            return;
        }
        let (file, offset, length) = (Arc::clone(&self.file), self.requested, written - self.requested);
        self.requested = written;
        match tokio::task::spawn_blocking(move || start(&file, offset, length)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::debug!(%error, "early writeback refused; the fsync does it all"),
            Err(error) => tracing::debug!(%error, "early writeback did not run"),
        }
    }

    /// The file was emptied to start again.
    pub(crate) fn restart(&mut self) {
        self.requested = 0;
    }
}

/// Starts writeback of `length` bytes from `offset` without waiting for it.
#[cfg(target_os = "linux")]
fn start(file: &std::fs::File, offset: u64, length: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd as _;
    let (Ok(offset), Ok(length)) = (i64::try_from(offset), i64::try_from(length)) else {
        return Ok(()); // past what the call can name; the fsync covers it
    };
    // SAFETY: sync_file_range takes no pointers; the descriptor is open while `file` is borrowed.
    let result = unsafe { libc::sync_file_range(file.as_raw_fd(), offset, length, libc::SYNC_FILE_RANGE_WRITE) };
    if result == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

#[cfg(not(target_os = "linux"))]
fn start(_file: &std::fs::File, _offset: u64, _length: u64) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writeback_is_requested_once_per_window_and_the_kernel_takes_it() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("file");
        let file = std::fs::File::create(&path).unwrap();
        let mut writer = file.try_clone().unwrap();
        let mut writeback = Writeback::new(file);
        let block = vec![7u8; 1024 * 1024];
        let mut written = 0u64;
        let mut requested_at = Vec::new();
        for _ in 0..20 {
            std::io::Write::write_all(&mut writer, &block).unwrap();
            written += block.len() as u64;
            let before = writeback.requested;
            writeback.advance(written).await;
            if writeback.requested != before {
                requested_at.push(writeback.requested >> 20);
            }
        }
        assert_eq!(requested_at, [8, 16], "one request per 8 MiB window, covering all written so far");
        // The call itself is accepted on the file system the tests run on.
        start(&writeback.file, 0, written).unwrap();
        writeback.restart();
        writeback.advance(WINDOW - 1).await;
        assert_eq!(writeback.requested, 0, "after a restart, the first window starts again at zero");
    }
}
