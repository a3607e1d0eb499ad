//! Every Jupyter message the kernel sends is built here, from plain values, with the fixes that
//! jupyter-protocol 2.0.3 needs to pass the protocol's schema; and every incoming frame set is
//! decoded here, leniently.
//!
//! Owns: the serialisation traps (`user_expressions: {}`, `transient: {}`, `ename`/`evalue`/
//! `traceback` in error replies), code-point ↔ byte cursor conversion, history query parsing.
//! Must not hold state or do I/O: the server loop sends what these functions build.

use std::collections::HashMap;

use jupyter_protocol::{
    CommClose, CommId, CommInfoReply, CompleteReply, DisplayData, ErrorOutput, ExecuteInput, ExecuteReply,
    ExecuteResult, ExecutionCount, ExpressionResult, HelpLink, HistoryEntry, HistoryReply, InputRequest, InspectReply,
    InterruptReply, IsCompleteReply, IsCompleteReplyStatus, JupyterMessage, JupyterMessageContent, KernelInfoReply,
    Media, MediaType, Payload, ReplyError, ReplyStatus, ShutdownReply, Status, StreamContent, Transient,
    UnknownMessage, UpdateDisplayData,
    messaging::{ClearOutput, CodeMirrorMode, Header, LanguageInfo as WireLanguageInfo},
};
use jupyter_zmq_client::RawMessage;
use serde_json::{Map, Value, json};

use crate::kernel::interpreter::{Completeness, Completions, DisplayId, ExecuteError, KernelInfo, OutputEvent, Stream};
use crate::output::MimeBundle;

/// The protocol version we implement and announce.
pub const PROTOCOL_VERSION: &str = "5.3";

/// Why an incoming frame set was dropped.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Bad or missing signature, missing delimiter or too few frames.
    #[error("rejected frames: {0}")]
    Frames(#[from] jupyter_zmq_client::RuntimeError),
    /// The header is not a Jupyter header.
    #[error("unreadable header: {0}")]
    Header(#[source] serde_json::Error),
}

/// Turns a frame set into a message after checking its signature (`raw` comes from
/// `RawMessage::from_multipart`, which verifies the HMAC when a key is set).
///
/// Unlike `Connection::read`, content that does not fit jupyter-protocol's types does not lose the
/// message: it becomes an `UnknownMessage` carrying the raw JSON, so the server can still answer.
/// `history_request` always arrives that way, because jupyter_client omits fields the crate
/// requires (`stop`, `unique`, `n`).
pub fn decode(raw: RawMessage) -> Result<JupyterMessage, DecodeError> {
    let header: Header = serde_json::from_slice(&raw.jparts[0]).map_err(DecodeError::Header)?;
    let parent_header = serde_json::from_slice(&raw.jparts[1]).ok();
    let metadata = serde_json::from_slice(&raw.jparts[2]).unwrap_or_else(|_| json!({}));
    let content_json: Value = serde_json::from_slice(&raw.jparts[3]).unwrap_or(Value::Null);
    let content = if header.msg_type == "history_request" {
        unknown(&header.msg_type, content_json)
    } else {
        JupyterMessageContent::from_type_and_content(&header.msg_type, content_json.clone()).unwrap_or_else(|error| {
            tracing::warn!("malformed {} content: {error}", header.msg_type);
            unknown(&header.msg_type, content_json)
        })
    };
    Ok(JupyterMessage {
        zmq_identities: raw.zmq_identities,
        header,
        parent_header,
        metadata,
        content,
        buffers: raw.jparts.get(4..).map(<[_]>::to_vec).unwrap_or_default(),
        channel: None,
    })
}

fn unknown(msg_type: &str, content: Value) -> JupyterMessageContent {
    JupyterMessageContent::UnknownMessage(UnknownMessage { msg_type: msg_type.to_owned(), content })
}

/// A shell or control reply to `parent`, routed back to the same peer.
fn reply(content: impl Into<JupyterMessageContent>, parent: &JupyterMessage) -> JupyterMessage {
    JupyterMessage::new(content.into(), Some(parent))
}

/// An iopub message caused by `parent`. The ROUTER identities of the request must not become the
/// PUB topic, so they are cleared: clients subscribe to everything.
fn broadcast(content: impl Into<JupyterMessageContent>, parent: &JupyterMessage) -> JupyterMessage {
    let mut message = JupyterMessage::new(content.into(), Some(parent));
    message.zmq_identities.clear();
    message
}

/// `status: busy`.
pub fn busy(parent: &JupyterMessage) -> JupyterMessage {
    broadcast(Status::busy(), parent)
}

/// `status: idle`.
pub fn idle(parent: &JupyterMessage) -> JupyterMessage {
    broadcast(Status::idle(), parent)
}

/// `execute_input`, re-broadcasting the code being run.
pub fn execute_input(parent: &JupyterMessage, code: &str, count: u32) -> JupyterMessage {
    broadcast(ExecuteInput { code: code.to_owned(), execution_count: execution_count(count) }, parent)
}

/// The iopub message for one output event.
pub fn output_event(parent: &JupyterMessage, event: &OutputEvent) -> JupyterMessage {
    match event {
        OutputEvent::Stream { stream, text } => {
            let content = match stream {
                Stream::Stdout => StreamContent::stdout(text),
                Stream::Stderr => StreamContent::stderr(text),
            };
            broadcast(content, parent)
        }
        OutputEvent::Display { bundle, display_id } => broadcast(
            DisplayData {
                data: media(bundle),
                metadata: metadata(bundle),
                // Always an object: nbclient and the schema reject `null`.
                transient: Some(transient(display_id.as_ref())),
            },
            parent,
        ),
        OutputEvent::UpdateDisplay { display_id, bundle } => broadcast(
            UpdateDisplayData {
                data: media(bundle),
                metadata: metadata(bundle),
                transient: transient(Some(display_id)),
            },
            parent,
        ),
        OutputEvent::ClearOutput { wait } => broadcast(ClearOutput { wait: *wait }, parent),
    }
}

/// `execute_result` (`Out[n]`), with `transient: {}` rather than the crate's `null`.
pub fn execute_result(parent: &JupyterMessage, count: u32, value: &MimeBundle) -> JupyterMessage {
    broadcast(
        ExecuteResult {
            execution_count: execution_count(count),
            data: media(value),
            metadata: metadata(value),
            transient: Some(Transient::default()),
        },
        parent,
    )
}

/// The iopub `error` output.
pub fn error_output(parent: &JupyterMessage, error: &ExecuteError) -> JupyterMessage {
    broadcast(
        ErrorOutput { ename: error.ename.clone(), evalue: error.evalue.clone(), traceback: error.traceback.clone() },
        parent,
    )
}

/// `execute_reply` for a cell that ran: `user_expressions: {}` (never `null`), optional pager.
pub fn execute_reply_ok(parent: &JupyterMessage, count: u32, page: Option<&MimeBundle>) -> JupyterMessage {
    let payload = page.map(|page| Payload::Page { data: media(page), start: 0 }).into_iter().collect();
    reply(
        ExecuteReply {
            status: ReplyStatus::Ok,
            execution_count: execution_count(count),
            payload,
            user_expressions: Some(unevaluated_expressions(parent)),
            error: None,
        },
        parent,
    )
}

/// One error entry per requested user expression: HarmonyQL has no expression evaluator for
/// them, and the protocol wants an answer per name rather than silence.
fn unevaluated_expressions(parent: &JupyterMessage) -> HashMap<String, ExpressionResult> {
    let JupyterMessageContent::ExecuteRequest(request) = &parent.content else {
        return HashMap::new();
    };
    request
        .user_expressions
        .iter()
        .flatten()
        .map(|(name, _)| {
            let evalue = "HarmonyQL does not evaluate user_expressions".to_owned();
            (name.clone(), ExpressionResult::Error { ename: "NotSupported".to_owned(), evalue, traceback: Vec::new() })
        })
        .collect()
}

/// `execute_reply` for a failed cell, carrying `ename`, `evalue` and `traceback`.
pub fn execute_reply_error(parent: &JupyterMessage, count: u32, error: &ExecuteError) -> JupyterMessage {
    reply(
        ExecuteReply {
            status: ReplyStatus::Error,
            execution_count: execution_count(count),
            payload: Vec::new(),
            user_expressions: Some(HashMap::new()),
            error: Some(Box::new(ReplyError {
                ename: error.ename.clone(),
                evalue: error.evalue.clone(),
                traceback: error.traceback.clone(),
            })),
        },
        parent,
    )
}

/// `execute_reply` for a queued cell skipped after an earlier error (`stop_on_error`).
pub fn execute_reply_aborted(parent: &JupyterMessage, count: u32) -> JupyterMessage {
    reply(
        ExecuteReply {
            status: ReplyStatus::Aborted,
            execution_count: execution_count(count),
            payload: Vec::new(),
            user_expressions: Some(HashMap::new()),
            error: None,
        },
        parent,
    )
}

/// `kernel_info_reply`.
pub fn kernel_info_reply(parent: &JupyterMessage, info: &KernelInfo) -> JupyterMessage {
    let language = &info.language;
    let content = KernelInfoReply {
        status: ReplyStatus::Ok,
        protocol_version: PROTOCOL_VERSION.to_owned(),
        implementation: info.implementation.clone(),
        implementation_version: info.implementation_version.clone(),
        language_info: WireLanguageInfo {
            name: language.name.clone(),
            version: language.version.clone(),
            mimetype: Some(language.mimetype.clone()),
            file_extension: Some(language.file_extension.clone()),
            pygments_lexer: language.pygments_lexer.clone(),
            codemirror_mode: language.codemirror_mode.clone().map(CodeMirrorMode::Simple),
            nbconvert_exporter: Some("script".to_owned()),
        },
        banner: info.banner.clone(),
        help_links: info
            .help_links
            .iter()
            .map(|(text, url)| HelpLink { text: text.clone(), url: url.clone() })
            .collect(),
        debugger: false,
        error: None,
    };
    reply(JupyterMessageContent::KernelInfoReply(Box::new(content)), parent)
}

/// `complete_reply`, converting the byte range back to code points of `code`.
pub fn complete_reply(parent: &JupyterMessage, code: &str, completions: &Completions) -> JupyterMessage {
    let cursor_start = byte_to_codepoint(code, completions.start);
    let cursor_end = byte_to_codepoint(code, completions.end);
    let types: Vec<Value> = completions
        .items
        .iter()
        .map(|item| {
            json!({
                "text": item.text,
                "type": item.kind.clone().unwrap_or_default(),
                "start": cursor_start,
                "end": cursor_end,
            })
        })
        .collect();
    let mut metadata = Map::new();
    metadata.insert("_jupyter_types_experimental".to_owned(), Value::Array(types));
    reply(
        CompleteReply {
            matches: completions.items.iter().map(|item| item.text.clone()).collect(),
            cursor_start,
            cursor_end,
            metadata,
            status: ReplyStatus::Ok,
            error: None,
        },
        parent,
    )
}

/// `inspect_reply`; `found: false` with empty data when there is nothing to show.
pub fn inspect_reply(parent: &JupyterMessage, found: Option<&MimeBundle>) -> JupyterMessage {
    let content = match found {
        Some(bundle) => {
            InspectReply { found: true, data: media(bundle), metadata: metadata(bundle), ..InspectReply::default() }
        }
        None => InspectReply::default(),
    };
    reply(content, parent)
}

/// `is_complete_reply`; `indent` only when incomplete.
pub fn is_complete_reply(parent: &JupyterMessage, completeness: &Completeness) -> JupyterMessage {
    let content = match completeness {
        Completeness::Complete => IsCompleteReply::complete(),
        Completeness::Incomplete { indent } => IsCompleteReply::incomplete(indent.clone()),
        Completeness::Invalid => IsCompleteReply::invalid(),
        Completeness::Unknown => IsCompleteReply::new(IsCompleteReplyStatus::Unknown, String::new()),
    };
    reply(content, parent)
}

/// One remembered cell, as history reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryItem {
    /// The session number (this kernel process).
    pub session: usize,
    /// The execution count the cell had.
    pub line: usize,
    /// The cell's text.
    pub input: String,
    /// The `text/plain` of its value, if it had one.
    pub output: Option<String>,
}

/// `history_reply` listing `items`, with (input, output) pairs when `with_output`.
pub fn history_reply(parent: &JupyterMessage, items: &[&HistoryItem], with_output: bool) -> JupyterMessage {
    let history = items
        .iter()
        .map(|item| {
            if with_output {
                HistoryEntry::InputOutput(
                    item.session,
                    item.line,
                    (item.input.clone(), item.output.clone().unwrap_or_default()),
                )
            } else {
                HistoryEntry::Input(item.session, item.line, item.input.clone())
            }
        })
        .collect();
    reply(HistoryReply::new(history), parent)
}

/// A `history_request`, read leniently: jupyter_client leaves out what it does not need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryQuery {
    /// The last `n` cells.
    Tail {
        /// How many.
        n: usize,
        /// Include outputs.
        output: bool,
    },
    /// Cells `start..stop` of a session (0 or negative: relative to the current one).
    Range {
        /// Session number.
        session: i64,
        /// First line, inclusive.
        start: usize,
        /// Last line, exclusive; `None` for all.
        stop: Option<usize>,
        /// Include outputs.
        output: bool,
    },
    /// Cells whose input matches a glob (`*`, `?`), the last `n` of them.
    Search {
        /// The glob.
        pattern: String,
        /// Report each distinct input once.
        unique: bool,
        /// How many, from the end; `None` for all.
        n: Option<usize>,
        /// Include outputs.
        output: bool,
    },
}

/// Reads a `history_request`'s content; `None` if `hist_access_type` is unknown.
pub fn parse_history_query(content: &Value) -> Option<HistoryQuery> {
    let output = content.get("output").and_then(Value::as_bool).unwrap_or(false);
    let number = |key: &str| content.get(key).and_then(Value::as_i64);
    let count = |key: &str| number(key).and_then(|value| usize::try_from(value).ok());
    match content.get("hist_access_type").and_then(Value::as_str)? {
        "tail" => Some(HistoryQuery::Tail { n: count("n").unwrap_or(10), output }),
        "range" => Some(HistoryQuery::Range {
            session: number("session").unwrap_or(0),
            start: count("start").unwrap_or(0),
            stop: count("stop"),
            output,
        }),
        "search" => Some(HistoryQuery::Search {
            pattern: content.get("pattern").and_then(Value::as_str).unwrap_or("*").to_owned(),
            unique: content.get("unique").and_then(Value::as_bool).unwrap_or(false),
            n: count("n"),
            output,
        }),
        _ => None,
    }
}

/// Whether `text` matches the glob `pattern` (`*` any run, `?` one character), like SQLite's GLOB
/// that IPython's history search uses.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtrack point for the last `*`: linear in practice.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// `comm_info_reply` with no comms (we open none; clients and ipywidgets still probe).
pub fn comm_info_reply(parent: &JupyterMessage) -> JupyterMessage {
    reply(CommInfoReply::default(), parent)
}

/// `comm_close` for a `comm_open` to a target we do not have.
pub fn comm_close(parent: &JupyterMessage, comm_id: &str) -> JupyterMessage {
    broadcast(CommClose { comm_id: CommId(comm_id.to_owned()), data: Map::new() }, parent)
}

/// `interrupt_reply`.
pub fn interrupt_reply(parent: &JupyterMessage) -> JupyterMessage {
    reply(InterruptReply::default(), parent)
}

/// `shutdown_reply`.
pub fn shutdown_reply(parent: &JupyterMessage, restart: bool) -> JupyterMessage {
    reply(ShutdownReply { restart, status: ReplyStatus::Ok, error: None }, parent)
}

/// Requests this kernel answers when their content is well formed.
const HANDLED_REQUESTS: &[&str] = &[
    "execute_request",
    "kernel_info_request",
    "complete_request",
    "inspect_request",
    "is_complete_request",
    "history_request",
    "comm_info_request",
    "interrupt_request",
    "shutdown_request",
];

/// An error reply for a request we cannot answer (an unknown type, or a known type whose content
/// does not follow the protocol), so the client does not wait forever.
pub fn unsupported_reply(parent: &JupyterMessage, msg_type: &str) -> JupyterMessage {
    let reply_type = msg_type.strip_suffix("_request").unwrap_or(msg_type).to_owned() + "_reply";
    let (ename, evalue) = if HANDLED_REQUESTS.contains(&msg_type) {
        ("MalformedRequest", format!("the content of this {msg_type} does not follow the Jupyter protocol"))
    } else {
        ("UnsupportedRequest", format!("this kernel does not handle {msg_type}"))
    };
    reply(
        UnknownMessage {
            msg_type: reply_type,
            content: json!({ "status": "error", "ename": ename, "evalue": evalue, "traceback": [] }),
        },
        parent,
    )
}

/// `input_request` on stdin, routed with the identities of the execute request (`parent`).
pub fn input_request(parent: &JupyterMessage, prompt: &str, password: bool) -> JupyterMessage {
    reply(InputRequest { prompt: prompt.to_owned(), password }, parent)
}

/// The typed content of a message whose content failed to parse, or of a history request.
pub fn unknown_content(message: &JupyterMessage) -> Option<&Value> {
    match &message.content {
        JupyterMessageContent::UnknownMessage(unknown) => Some(&unknown.content),
        _ => None,
    }
}

/// The byte offset of code point `codepoint` in `text`, clamped to the end.
pub fn codepoint_to_byte(text: &str, codepoint: usize) -> usize {
    text.char_indices().nth(codepoint).map_or(text.len(), |(byte, _)| byte)
}

/// The number of code points before byte offset `byte` of `text` (rounded down to a char
/// boundary, clamped to the end).
pub fn byte_to_codepoint(text: &str, byte: usize) -> usize {
    text.char_indices().take_while(|(offset, character)| offset + character.len_utf8() <= byte).count()
}

fn execution_count(count: u32) -> ExecutionCount {
    ExecutionCount::new(count as usize)
}

fn transient(display_id: Option<&DisplayId>) -> Transient {
    Transient { display_id: display_id.map(|id| id.as_str().to_owned()) }
}

/// A bundle as jupyter-protocol media. Every entry goes through `MediaType::Other`, which
/// serialises the JSON exactly as given (typed variants would reject, for example, a JSON array).
fn media(bundle: &MimeBundle) -> Media {
    Media::new(bundle.data().map(|(mime, value)| MediaType::Other((mime.to_owned(), value.clone()))).collect())
}

fn metadata(bundle: &MimeBundle) -> Map<String, Value> {
    bundle.metadata().map(|(mime, value)| (mime.to_owned(), value.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::interpreter::{Completion, LanguageInfo};
    use jupyter_protocol::ExecuteRequest;

    fn parent() -> JupyterMessage {
        ExecuteRequest::new("x".into()).into()
    }

    fn content(message: &JupyterMessage) -> Value {
        serde_json::to_value(&message.content).expect("content serialises")
    }

    #[test]
    fn cursor_conversion_counts_code_points_not_bytes() {
        let check = |text: &str, codepoint: usize, byte: usize| {
            assert_eq!(codepoint_to_byte(text, codepoint), byte, "{text:?} cp {codepoint} → byte");
            assert_eq!(byte_to_codepoint(text, byte), codepoint, "{text:?} byte {byte} → cp");
        };
        check("abc", 0, 0);
        check("abc", 3, 3);
        check("é x", 1, 2);
        check("é x", 3, 4);
        check("🌍 sub", 2, 5);
        check("日本 ATL03", 2, 6);
        assert_eq!(codepoint_to_byte("ab", 99), 2, "past the end clamps");
        assert_eq!(byte_to_codepoint("é", 1), 0, "inside a char rounds down");
    }

    #[test]
    fn execute_reply_never_sends_null_user_expressions() {
        let ok = content(&execute_reply_ok(&parent(), 1, None));
        assert_eq!(ok["user_expressions"], json!({}));
        assert_eq!(ok["payload"], json!([]));
        assert_eq!(ok["status"], "ok");
        let aborted = content(&execute_reply_aborted(&parent(), 1));
        assert_eq!(aborted["status"], "aborted");
        assert_eq!(aborted["user_expressions"], json!({}));
    }

    #[test]
    fn requested_user_expressions_each_get_an_answer() {
        let mut request = ExecuteRequest::new("x".into());
        request.user_expressions = Some(HashMap::from([("a".to_owned(), "1 + 1".to_owned())]));
        let reply = content(&execute_reply_ok(&request.into(), 1, None));
        assert_eq!(reply["user_expressions"]["a"]["status"], "error");
        assert_eq!(reply["user_expressions"]["a"]["ename"], "NotSupported");
    }

    #[test]
    fn error_reply_carries_ename_evalue_and_traceback() {
        let error = ExecuteError {
            ename: "ParseError".into(),
            evalue: "bbox expected 4 numbers, found 2".into(),
            traceback: vec!["subset ATL03 bbox(1,2".into(), "                    ^".into()],
        };
        let reply = content(&execute_reply_error(&parent(), 3, &error));
        assert_eq!(reply["status"], "error");
        assert_eq!(reply["ename"], "ParseError");
        assert_eq!(reply["evalue"], "bbox expected 4 numbers, found 2");
        assert_eq!(reply["traceback"].as_array().map(Vec::len), Some(2));
        assert_eq!(reply["execution_count"], 3);
    }

    #[test]
    fn results_and_displays_send_an_empty_transient_object_not_null() {
        let bundle = MimeBundle::text("7").with_json(json!([1]));
        let result = content(&execute_result(&parent(), 1, &bundle));
        assert_eq!(result["transient"], json!({}));
        assert_eq!(result["data"], json!({ "text/plain": "7", "application/json": { "value": [1] } }));
        assert_eq!(result["metadata"], json!({ "application/json": { "expanded": true } }));
        let display =
            output_event(&parent(), &OutputEvent::Display { bundle: MimeBundle::text("d"), display_id: None });
        assert_eq!(content(&display)["transient"], json!({}));
        let id = DisplayId::new_unique();
        let update = output_event(
            &parent(),
            &OutputEvent::UpdateDisplay { display_id: id.clone(), bundle: MimeBundle::text("u") },
        );
        assert_eq!(content(&update)["transient"], json!({ "display_id": id.as_str() }));
        assert_eq!(update.header.msg_type, "update_display_data");
    }

    #[test]
    fn iopub_messages_do_not_inherit_router_identities() {
        let mut request = parent();
        request.zmq_identities = vec![b"peer".to_vec().into()];
        assert!(busy(&request).zmq_identities.is_empty());
        assert_eq!(execute_reply_ok(&request, 1, None).zmq_identities, request.zmq_identities);
        assert_eq!(busy(&request).parent_header.map(|h| h.msg_id), Some(request.header.msg_id.clone()));
    }

    #[test]
    fn complete_reply_reports_code_point_cursors() {
        let code = "é subset ATL0";
        let completions = Completions {
            items: vec![Completion { text: "ATL03".into(), kind: Some("collection".into()) }],
            start: code.find("ATL0").expect("present"),
            end: code.len(),
        };
        let reply = content(&complete_reply(&parent(), code, &completions));
        assert_eq!(reply["cursor_start"], 9);
        assert_eq!(reply["cursor_end"], 13);
        assert_eq!(reply["matches"], json!(["ATL03"]));
        assert_eq!(
            reply["metadata"]["_jupyter_types_experimental"],
            json!([{ "text": "ATL03", "type": "collection", "start": 9, "end": 13 }])
        );
    }

    #[test]
    fn kernel_info_reply_names_the_language_and_extension() {
        let info = KernelInfo {
            implementation: "harmonyql".into(),
            implementation_version: "0.1.0".into(),
            language: LanguageInfo {
                name: "harmonyql".into(),
                version: "0.1".into(),
                mimetype: "text/x-harmonyql".into(),
                file_extension: ".hq".into(),
                pygments_lexer: None,
                codemirror_mode: Some("sql".into()),
            },
            banner: "HarmonyQL".into(),
            help_links: vec![("Harmony".into(), "https://harmony.earthdata.nasa.gov".into())],
        };
        let reply = content(&kernel_info_reply(&parent(), &info));
        assert_eq!(reply["protocol_version"], "5.3");
        assert_eq!(reply["language_info"]["file_extension"], ".hq");
        assert_eq!(reply["language_info"]["codemirror_mode"], "sql");
        assert_eq!(reply["help_links"][0]["url"], "https://harmony.earthdata.nasa.gov");
    }

    #[test]
    fn history_queries_accept_what_jupyter_client_sends() {
        let check = |content: Value, expected: Option<HistoryQuery>| {
            assert_eq!(parse_history_query(&content), expected, "{content}");
        };
        check(
            json!({"hist_access_type": "tail", "n": 3, "output": true, "raw": true}),
            Some(HistoryQuery::Tail { n: 3, output: true }),
        );
        check(
            json!({"hist_access_type": "range", "session": 0, "start": 0, "output": false, "raw": true}),
            Some(HistoryQuery::Range { session: 0, start: 0, stop: None, output: false }),
        );
        check(
            json!({"hist_access_type": "search", "pattern": "sub*", "raw": true, "output": false}),
            Some(HistoryQuery::Search { pattern: "sub*".into(), unique: false, n: None, output: false }),
        );
        check(json!({"hist_access_type": "sideways"}), None);
    }

    #[test]
    fn glob_matches_like_sqlite_glob() {
        let check = |pattern: &str, text: &str, expected: bool| {
            assert_eq!(glob_matches(pattern, text), expected, "{pattern:?} vs {text:?}");
        };
        check("*", "", true);
        check("sub*", "subset ATL03", true);
        check("sub*", "print 1", false);
        check("?2", "42", true);
        check("*ATL0?*", "subset ATL03 bbox(1,2,3,4)", true);
        check("a*b*c", "axxbyyc", true);
        check("a*b*c", "axxbyy", false);
        check("é*", "été", true);
    }

    #[test]
    fn unsupported_requests_get_an_error_reply_of_the_matching_type() {
        let reply = unsupported_reply(&parent(), "debug_request");
        assert_eq!(reply.header.msg_type, "debug_reply");
        assert_eq!(content(&reply)["status"], "error");
        assert_eq!(content(&reply)["ename"], "UnsupportedRequest");
        let malformed = unsupported_reply(&parent(), "execute_request");
        assert_eq!(malformed.header.msg_type, "execute_reply");
        assert_eq!(content(&malformed)["ename"], "MalformedRequest");
    }
}
