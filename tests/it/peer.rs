//! The hostile peer's plumbing shared by the client, download and credential tests: reading one request head
//! off a raw socket, and a scripted raw answer (bytes, then close or stall). Each test module keeps its own
//! server loop, since each scripts answers differently (by connection, by request number, by port).

use tokio::io::AsyncReadExt;

/// A raw answer: the bytes written after the request head; `stall` keeps the connection open and silent.
#[derive(Clone)]
pub struct Reply {
    /// Status line, headers and body.
    pub bytes: Vec<u8>,
    /// Keep the connection open (silent) after writing, instead of closing it.
    pub stall: bool,
}

/// An HTTP answer with `head` (lines separated by `\n`) and `body`; the connection closes after it.
pub fn reply(head: &str, body: &[u8]) -> Reply {
    let mut bytes = head.replace('\n', "\r\n").into_bytes();
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(body);
    Reply { bytes, stall: false }
}

/// Reads one request head (up to the blank line, at most 64 KiB); `None` when the client closed first.
pub async fn read_head(socket: &mut (impl tokio::io::AsyncRead + Unpin)) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
        if socket.read(&mut byte).await.unwrap_or(0) == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}
