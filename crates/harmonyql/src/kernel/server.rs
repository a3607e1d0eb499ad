//! The kernel core: the five sockets, a task per channel, and the bookkeeping around every request.
//!
//! Owns: busy/idle around each shell request, execution count, `execute_input`, history,
//! aborting queued cells after an error (`stop_on_error`), catching panics per cell, interrupt
//! (control `interrupt_request` and SIGINT cancel the running cell's token), shutdown.
//! Must not know any language: it drives an [`Interpreter`] and builds messages with `wire`.
//!
//! Loop shape: heartbeat, iopub, control, stdin and a shell reader each run in their own task;
//! the shell worker owns the interpreter and handles requests one at a time, so control (interrupt,
//! shutdown, kernel_info) always answers even while a cell runs.

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use jupyter_protocol::{
    CommOpen, CompleteRequest, ConnectionInfo, ExecuteRequest, InspectRequest, IsCompleteRequest, JupyterMessage,
    JupyterMessageContent, ReplyStatus,
};
use jupyter_zmq_client::{Connection, RawMessage, RouterSendConnection};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use zeromq::{SocketRecv as _, SocketSend as _};

use crate::kernel::interpreter::{
    DisplayId, ExecuteContext, ExecuteError, ExecuteOutcome, InputError, Interpreter, KernelInfo, Output, OutputEvent,
};
use crate::kernel::parent::{self, ParentWatch};
use crate::kernel::wire::{self, HistoryItem, HistoryQuery};
use crate::output::MimeBundle;

/// How long an interrupted cell may take to wind down by itself before the core drops it.
const INTERRUPT_GRACE: Duration = Duration::from_millis(500);

/// The shortest gap between two updates of one display (about 10 per second).
const UPDATE_INTERVAL: Duration = Duration::from_millis(100);

/// How long shutdown waits for the shell worker to finish its cell and call `shutdown`.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// The history session number of this kernel process. History lives in memory, so there is
/// only ever the current session.
const HISTORY_SESSION: usize = 1;

/// Why the kernel could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The connection file Jupyter passed could not be read.
    #[error("cannot read the connection file {path}: {source}")]
    ReadConnectionFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The connection file is not a Jupyter connection file.
    #[error("{path} is not a Jupyter connection file: {source}")]
    ParseConnectionFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The connection file asks for a signature scheme other than HMAC-SHA256.
    #[error("unsupported signature scheme {scheme:?} in {path}; only hmac-sha256 is supported")]
    SignatureScheme {
        /// The file.
        path: PathBuf,
        /// The scheme it names.
        scheme: String,
    },
    /// A channel's socket could not be bound (port taken, bad address).
    #[error("cannot bind the {channel} channel: {source}")]
    Bind {
        /// shell, control, stdin, iopub or heartbeat.
        channel: &'static str,
        /// Why.
        #[source]
        source: jupyter_zmq_client::RuntimeError,
    },
    /// The async runtime the kernel runs on could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// `Result` with the kernel's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Reads and checks a connection file.
pub fn read_connection_file(path: &Path) -> Result<ConnectionInfo> {
    let text =
        std::fs::read_to_string(path).map_err(|source| Error::ReadConnectionFile { path: path.to_owned(), source })?;
    let connection: ConnectionInfo =
        serde_json::from_str(&text).map_err(|source| Error::ParseConnectionFile { path: path.to_owned(), source })?;
    if !connection.key.is_empty() && connection.signature_scheme != "hmac-sha256" {
        return Err(Error::SignatureScheme { path: path.to_owned(), scheme: connection.signature_scheme });
    }
    Ok(connection)
}

/// Options for [`serve`].
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Treat SIGINT as an interrupt of the running cell instead of letting it end the process.
    /// Jupyter sends SIGINT before shutting a kernel down, and when `interrupt_mode` is `signal`.
    pub handle_sigint: bool,
    /// Shut down when the process that started the kernel has gone (see [`ParentWatch`]).
    pub parent: Option<ParentWatch>,
}

/// Binds the five channels described by `connection` and serves until a `shutdown_request`.
///
/// Returns after the shutdown reply is sent and `interpreter.shutdown` ran; the caller should then
/// exit the process (a restart is a new process started by the client).
pub async fn serve<I: Interpreter>(connection: &ConnectionInfo, interpreter: I, options: ServeOptions) -> Result<()> {
    let session_id = uuid::Uuid::new_v4().to_string();
    let bind = |channel: &'static str| move |source| Error::Bind { channel, source };
    let shell =
        jupyter_zmq_client::create_kernel_shell_connection(connection, &session_id).await.map_err(bind("shell"))?;
    let control =
        jupyter_zmq_client::create_kernel_control_connection(connection, &session_id).await.map_err(bind("control"))?;
    let stdin =
        jupyter_zmq_client::create_kernel_stdin_connection(connection, &session_id).await.map_err(bind("stdin"))?;
    let iopub =
        jupyter_zmq_client::create_kernel_iopub_connection(connection, &session_id).await.map_err(bind("iopub"))?;
    let heartbeat =
        jupyter_zmq_client::create_kernel_heartbeat_connection(connection).await.map_err(bind("heartbeat"))?;

    let stop = CancellationToken::new();
    let restart = Arc::new(AtomicBool::new(false));
    let current = CurrentCell::default();
    let info = Arc::new(interpreter.kernel_info());

    let (iopub_tx, iopub_rx) = mpsc::unbounded_channel();
    let iopub_sender = IopubSender(iopub_tx);
    let (ask_tx, ask_rx) = mpsc::unbounded_channel();
    let (queue_tx, queue_rx) = mpsc::unbounded_channel();

    let (shell_send, shell_recv) = shell.split();
    let (stdin_send, stdin_recv) = stdin.split();

    let mut background = tokio::task::JoinSet::new();
    background.spawn(heartbeat_loop(heartbeat.socket));
    background.spawn(iopub_loop(iopub, iopub_rx));
    background.spawn(read_loop(shell_recv, queue_tx, "shell"));
    background.spawn(stdin_loop(stdin_send, stdin_recv, ask_rx));
    background.spawn(control_loop(Control {
        connection: control,
        info: info.clone(),
        current: current.clone(),
        stop: stop.clone(),
        restart: restart.clone(),
    }));
    if options.handle_sigint {
        background.spawn(sigint_loop(current.clone()));
    }
    if let Some(parent) = options.parent {
        background.spawn(parent::watch(parent, stop.clone()));
    }

    let worker = ShellWorker {
        interpreter,
        info,
        shell: shell_send,
        iopub: iopub_sender,
        asks: ask_tx,
        queue: queue_rx,
        backlog: VecDeque::new(),
        count: 0,
        history: Vec::new(),
        current,
        stop: stop.clone(),
        restart,
    };
    let mut worker = tokio::spawn(worker.run());

    tokio::select! {
        _ = stop.cancelled() => {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut worker).await.is_err() {
                tracing::warn!("the running cell did not stop within {SHUTDOWN_GRACE:?}; shutting down anyway");
                worker.abort();
            }
        }
        result = &mut worker => {
            if let Err(error) = result {
                tracing::error!("the shell worker ended unexpectedly: {error}");
            }
        }
    }
    background.shutdown().await;
    Ok(())
}

/// The cancellation token of the running cell, shared with control and the SIGINT handler.
#[derive(Clone, Default)]
struct CurrentCell(Arc<Mutex<Option<CancellationToken>>>);

impl CurrentCell {
    fn set(&self, token: Option<CancellationToken>) {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = token;
    }

    fn interrupt(&self) -> bool {
        let guard = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        guard.as_ref().map(CancellationToken::cancel).is_some()
    }
}

enum IopubItem {
    Message(Box<JupyterMessage>),
    Flush(oneshot::Sender<()>),
}

/// The way into the iopub task. Messages keep the order they were queued in.
#[derive(Clone)]
struct IopubSender(mpsc::UnboundedSender<IopubItem>);

impl IopubSender {
    fn send(&self, message: JupyterMessage) {
        // A failed broadcast must never abort a shell reply: the iopub task only ends at shutdown.
        let _ = self.0.send(IopubItem::Message(Box::new(message)));
    }

    /// Waits until everything queued before has been handed to the socket, so outputs precede
    /// the reply that follows.
    async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.0.send(IopubItem::Flush(done)).is_ok() {
            let _ = flushed.await;
        }
    }
}

/// A cell's way out: the parent request, iopub, stdin; used by [`Output`].
pub(crate) struct CellLink {
    parent: Arc<JupyterMessage>,
    iopub: IopubSender,
    asks: mpsc::UnboundedSender<InputAsk>,
    silent: bool,
    allow_stdin: bool,
    cancel: CancellationToken,
    updates: HashMap<DisplayId, Throttle>,
}

struct Throttle {
    last_sent: Instant,
    pending: Option<MimeBundle>,
}

impl CellLink {
    pub(crate) fn publish(&mut self, event: OutputEvent) {
        if self.silent {
            return;
        }
        if let OutputEvent::UpdateDisplay { display_id, bundle } = &event {
            let now = Instant::now();
            if let Some(throttle) = self.updates.get_mut(display_id) {
                if now.duration_since(throttle.last_sent) < UPDATE_INTERVAL {
                    throttle.pending = Some(bundle.clone());
                    return;
                }
                throttle.last_sent = now;
                throttle.pending = None;
            } else {
                self.updates.insert(display_id.clone(), Throttle { last_sent: now, pending: None });
            }
        }
        self.iopub.send(wire::output_event(&self.parent, &event));
    }

    /// Sends the latest coalesced update of every display, so the final state is what stays.
    fn finish(mut self) {
        for (display_id, throttle) in std::mem::take(&mut self.updates) {
            if let Some(bundle) = throttle.pending {
                let event = OutputEvent::UpdateDisplay { display_id, bundle };
                self.iopub.send(wire::output_event(&self.parent, &event));
            }
        }
    }

    pub(crate) async fn input(&mut self, prompt: &str, password: bool) -> std::result::Result<String, InputError> {
        if !self.allow_stdin {
            return Err(InputError::NotAllowed);
        }
        self.iopub.flush().await;
        let (answer, answered) = oneshot::channel();
        let ask = InputAsk { parent: self.parent.clone(), prompt: prompt.to_owned(), password, answer };
        self.asks.send(ask).map_err(|_| InputError::NoAnswer)?;
        tokio::select! {
            _ = self.cancel.cancelled() => Err(InputError::Interrupted),
            answer = answered => answer.unwrap_or(Err(InputError::NoAnswer)),
        }
    }
}

struct InputAsk {
    parent: Arc<JupyterMessage>,
    prompt: String,
    password: bool,
    answer: oneshot::Sender<std::result::Result<String, InputError>>,
}

/// Reads one request: a socket error is returned; a bad frame set (bad signature, broken JSON) is
/// logged and dropped, as the protocol requires.
async fn read_request<S: zeromq::SocketRecv>(
    connection: &mut Connection<S>,
    channel: &str,
) -> std::result::Result<Option<JupyterMessage>, zeromq::ZmqError> {
    let frames = connection.socket.recv().await?;
    let decoded =
        RawMessage::from_multipart(frames, &connection.mac).map_err(wire::DecodeError::from).and_then(wire::decode);
    match decoded {
        Ok(message) => Ok(Some(message)),
        Err(error) => {
            tracing::warn!("dropped a message on {channel}: {error}");
            Ok(None)
        }
    }
}

async fn read_loop(
    mut connection: Connection<zeromq::RouterRecvHalf>,
    queue: mpsc::UnboundedSender<JupyterMessage>,
    channel: &'static str,
) {
    loop {
        match read_request(&mut connection, channel).await {
            Ok(Some(message)) => {
                if queue.send(message).is_err() {
                    return;
                }
            }
            Ok(None) => {}
            Err(error) => {
                // Keep going across transient peer disconnects; yield so an error loop cannot spin.
                tracing::warn!("reading {channel}: {error}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn heartbeat_loop(mut socket: zeromq::RepSocket) {
    loop {
        let echoed = match socket.recv().await {
            Ok(ping) => socket.send(ping).await,
            Err(error) => Err(error),
        };
        if let Err(error) = echoed {
            tracing::warn!("heartbeat: {error}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn iopub_loop(mut connection: Connection<zeromq::PubSocket>, mut items: mpsc::UnboundedReceiver<IopubItem>) {
    while let Some(item) = items.recv().await {
        match item {
            IopubItem::Message(message) => {
                let msg_type = message.header.msg_type.clone();
                if let Err(error) = connection.send(*message).await {
                    tracing::warn!("publishing {msg_type}: {error}");
                }
            }
            IopubItem::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

async fn stdin_loop(
    mut send: RouterSendConnection,
    recv: Connection<zeromq::RouterRecvHalf>,
    mut asks: mpsc::UnboundedReceiver<InputAsk>,
) {
    let (replies_tx, mut replies) = mpsc::unbounded_channel();
    let reader = tokio::spawn(read_loop(recv, replies_tx, "stdin"));
    while let Some(mut ask) = asks.recv().await {
        // Answers to earlier, abandoned prompts must not answer this one.
        while replies.try_recv().is_ok() {}
        let request = wire::input_request(&ask.parent, &ask.prompt, ask.password);
        let request_id = request.header.msg_id.clone();
        if let Err(error) = send.send(request).await {
            tracing::warn!("sending input_request: {error}");
            let _ = ask.answer.send(Err(InputError::NoAnswer));
            continue;
        }
        loop {
            tokio::select! {
                _ = ask.answer.closed() => break,
                reply = replies.recv() => {
                    let Some(reply) = reply else {
                        reader.abort();
                        return;
                    };
                    // jupyter_client's `input()` sends its reply without a parent header (ipykernel
                    // takes the next reply as the answer); a reply to some other request is stale.
                    if reply.parent_header.as_ref().is_some_and(|parent| parent.msg_id != request_id) {
                        continue;
                    }
                    let answer = match reply.content {
                        JupyterMessageContent::InputReply(input) if input.status == ReplyStatus::Ok => Ok(input.value),
                        _ => Err(InputError::NoAnswer),
                    };
                    let _ = ask.answer.send(answer);
                    break;
                }
            }
        }
    }
    reader.abort();
}

async fn sigint_loop(current: CurrentCell) {
    loop {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for SIGINT: {error}");
            return;
        }
        current.interrupt();
    }
}

struct Control {
    connection: Connection<zeromq::RouterSocket>,
    info: Arc<KernelInfo>,
    current: CurrentCell,
    stop: CancellationToken,
    restart: Arc<AtomicBool>,
}

async fn control_loop(mut control: Control) {
    loop {
        let request = match read_request(&mut control.connection, "control").await {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!("reading control: {error}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let reply = match &request.content {
            JupyterMessageContent::KernelInfoRequest(_) => wire::kernel_info_reply(&request, &control.info),
            JupyterMessageContent::InterruptRequest(_) => {
                control.current.interrupt();
                wire::interrupt_reply(&request)
            }
            JupyterMessageContent::ShutdownRequest(shutdown) => {
                control.restart.store(shutdown.restart, Ordering::SeqCst);
                let reply = wire::shutdown_reply(&request, shutdown.restart);
                if let Err(error) = control.connection.send(reply).await {
                    tracing::warn!("sending shutdown_reply: {error}");
                }
                // Cancelling `stop` also cancels the running cell: its token is a child.
                control.stop.cancel();
                return;
            }
            other => {
                let msg_type = other.message_type().to_owned();
                if !msg_type.ends_with("_request") {
                    tracing::warn!("ignored {msg_type} on control");
                    continue;
                }
                wire::unsupported_reply(&request, &msg_type)
            }
        };
        if let Err(error) = control.connection.send(reply).await {
            tracing::warn!("replying on control: {error}");
        }
    }
}

struct ShellWorker<I> {
    interpreter: I,
    info: Arc<KernelInfo>,
    shell: RouterSendConnection,
    iopub: IopubSender,
    asks: mpsc::UnboundedSender<InputAsk>,
    queue: mpsc::UnboundedReceiver<JupyterMessage>,
    /// Requests taken off the queue early; `true` marks execute requests to abort.
    backlog: VecDeque<(JupyterMessage, bool)>,
    count: u32,
    history: Vec<HistoryItem>,
    current: CurrentCell,
    stop: CancellationToken,
    restart: Arc<AtomicBool>,
}

impl<I: Interpreter> ShellWorker<I> {
    async fn run(mut self) {
        loop {
            let (request, abort) = match self.backlog.pop_front() {
                Some(next) => next,
                None => tokio::select! {
                    biased;
                    _ = self.stop.cancelled() => break,
                    request = self.queue.recv() => match request {
                        Some(request) => (request, false),
                        None => break,
                    },
                },
            };
            self.iopub.send(wire::busy(&request));
            self.dispatch(&request, abort).await;
            self.iopub.send(wire::idle(&request));
            if self.stop.is_cancelled() {
                break;
            }
        }
        self.iopub.flush().await;
        let restart = self.restart.load(Ordering::SeqCst);
        let interpreter = &mut self.interpreter;
        if std::panic::catch_unwind(AssertUnwindSafe(|| interpreter.shutdown(restart))).is_err() {
            tracing::error!("the interpreter panicked while shutting down");
        }
    }

    async fn dispatch(&mut self, request: &JupyterMessage, abort: bool) {
        let reply = match &request.content {
            JupyterMessageContent::ExecuteRequest(_) if abort => wire::execute_reply_aborted(request, self.count),
            JupyterMessageContent::ExecuteRequest(execute) => self.execute(request, execute).await,
            JupyterMessageContent::KernelInfoRequest(_) => wire::kernel_info_reply(request, &self.info),
            JupyterMessageContent::CompleteRequest(complete) => {
                self.prepare_assist(&complete.code, complete.cursor_pos).await;
                self.complete(request, complete)
            }
            JupyterMessageContent::InspectRequest(inspect) => {
                self.prepare_assist(&inspect.code, inspect.cursor_pos).await;
                self.inspect(request, inspect)
            }
            JupyterMessageContent::IsCompleteRequest(is_complete) => self.is_complete(request, is_complete),
            JupyterMessageContent::CommInfoRequest(_) => wire::comm_info_reply(request),
            JupyterMessageContent::CommOpen(CommOpen { comm_id, target_name, .. }) => {
                tracing::info!("no comm target {target_name:?}; closing comm {}", comm_id.0);
                self.iopub.send(wire::comm_close(request, &comm_id.0));
                return;
            }
            JupyterMessageContent::CommMsg(_) | JupyterMessageContent::CommClose(_) => return,
            JupyterMessageContent::InterruptRequest(_) => {
                self.current.interrupt();
                wire::interrupt_reply(request)
            }
            JupyterMessageContent::ShutdownRequest(shutdown) => {
                // Deprecated on shell since 5.4, still honoured.
                self.restart.store(shutdown.restart, Ordering::SeqCst);
                self.stop.cancel();
                wire::shutdown_reply(request, shutdown.restart)
            }
            other if other.message_type() == "history_request" => self.history(request),
            other => {
                let msg_type = other.message_type().to_owned();
                if !msg_type.ends_with("_request") {
                    tracing::warn!("ignored {msg_type} on shell");
                    return;
                }
                wire::unsupported_reply(request, &msg_type)
            }
        };
        self.iopub.flush().await;
        if let Err(error) = self.shell.send(reply).await {
            tracing::warn!("replying on shell: {error}");
        }
    }

    async fn execute(&mut self, request: &JupyterMessage, execute: &ExecuteRequest) -> JupyterMessage {
        let silent = execute.silent;
        let store_history = execute.store_history && !silent;
        if store_history {
            self.count += 1;
        }
        let count = self.count;
        if !silent {
            self.iopub.send(wire::execute_input(request, &execute.code, count));
        }
        let context =
            ExecuteContext { execution_count: count, silent, store_history, allow_stdin: execute.allow_stdin };
        let cancel = self.stop.child_token();
        self.current.set(Some(cancel.clone()));
        let mut output = Output::live(CellLink {
            parent: Arc::new(request.clone()),
            iopub: self.iopub.clone(),
            asks: self.asks.clone(),
            silent,
            allow_stdin: execute.allow_stdin,
            cancel: cancel.clone(),
            updates: HashMap::new(),
        });
        let outcome = run_cell(&mut self.interpreter, &execute.code, &mut output, cancel, &context).await;
        self.current.set(None);
        if let Some(link) = output.into_link() {
            link.finish();
        }

        let failure = match outcome {
            ExecuteOutcome::Ok { value, page } => {
                if let Some(value) = &value
                    && !silent
                {
                    self.iopub.send(wire::execute_result(request, count, value));
                }
                self.remember(store_history, count, &execute.code, value.as_ref().map(|v| v.text_plain().to_owned()));
                return wire::execute_reply_ok(request, count, page.as_ref());
            }
            ExecuteOutcome::Error(error) => error,
            ExecuteOutcome::Interrupted => ExecuteError {
                ename: "Interrupted".to_owned(),
                evalue: "the cell was interrupted; the kernel and its state are intact".to_owned(),
                traceback: vec![
                    "Interrupted: the cell was interrupted; the kernel and its state are intact".to_owned(),
                ],
            },
        };
        if !silent {
            self.iopub.send(wire::error_output(request, &failure));
        }
        self.remember(store_history, count, &execute.code, None);
        if execute.stop_on_error {
            self.abort_queued();
        }
        wire::execute_reply_error(request, count, &failure)
    }

    /// After a failed cell, execute requests already waiting are answered `aborted` instead of
    /// run (ipykernel's `stop_on_error`); other requests waiting are still answered normally.
    fn abort_queued(&mut self) {
        for (_, abort) in self.backlog.iter_mut() {
            *abort = true;
        }
        while let Ok(request) = self.queue.try_recv() {
            self.backlog.push_back((request, true));
        }
    }

    fn remember(&mut self, store_history: bool, count: u32, code: &str, output: Option<String>) {
        if store_history {
            self.history.push(HistoryItem {
                session: HISTORY_SESSION,
                line: count as usize,
                input: code.to_owned(),
                output,
            });
        }
    }

    /// Lets the interpreter fetch what completion needs, for at most [`ASSIST_BOUND`]; a panic there is a
    /// logged bug, and completion goes on with what is known.
    async fn prepare_assist(&mut self, code: &str, cursor_pos: usize) {
        use futures_util::FutureExt as _;
        let cursor = wire::codepoint_to_byte(code, cursor_pos);
        let prepare = AssertUnwindSafe(self.interpreter.prepare_assist(code, cursor)).catch_unwind();
        match tokio::time::timeout(ASSIST_BOUND, prepare).await {
            Ok(Ok(())) => {}
            Ok(Err(panic)) => tracing::error!("{}", bug("prepare_assist", &*panic).evalue),
            Err(_) => tracing::debug!("completion went on without the environment's answer"),
        }
    }

    fn complete(&self, request: &JupyterMessage, complete: &CompleteRequest) -> JupyterMessage {
        let cursor = wire::codepoint_to_byte(&complete.code, complete.cursor_pos);
        let completions = guard("complete", || self.interpreter.complete(&complete.code, cursor)).unwrap_or_default();
        wire::complete_reply(request, &complete.code, &completions)
    }

    fn inspect(&self, request: &JupyterMessage, inspect: &InspectRequest) -> JupyterMessage {
        let cursor = wire::codepoint_to_byte(&inspect.code, inspect.cursor_pos);
        let detail_level = u8::try_from(inspect.detail_level.unwrap_or(0)).unwrap_or(u8::MAX);
        let found = guard("inspect", || self.interpreter.inspect(&inspect.code, cursor, detail_level)).flatten();
        wire::inspect_reply(request, found.as_ref())
    }

    fn is_complete(&self, request: &JupyterMessage, is_complete: &IsCompleteRequest) -> JupyterMessage {
        let completeness = guard("is_complete", || self.interpreter.is_complete(&is_complete.code))
            .unwrap_or(crate::kernel::interpreter::Completeness::Unknown);
        wire::is_complete_reply(request, &completeness)
    }

    fn history(&self, request: &JupyterMessage) -> JupyterMessage {
        let query = wire::unknown_content(request).and_then(wire::parse_history_query);
        let Some(query) = query else {
            return wire::unsupported_reply(request, "history_request");
        };
        let (items, with_output) = select_history(&self.history, &query);
        wire::history_reply(request, &items, with_output)
    }
}

/// The history entries a query asks for, oldest first, and whether to include outputs.
fn select_history<'h>(history: &'h [HistoryItem], query: &HistoryQuery) -> (Vec<&'h HistoryItem>, bool) {
    let last = |items: Vec<&'h HistoryItem>, n: usize| items[items.len().saturating_sub(n)..].to_vec();
    match query {
        HistoryQuery::Tail { n, output } => (last(history.iter().collect(), *n), *output),
        HistoryQuery::Range { session, start, stop, output } => {
            let current = *session <= 0 || *session == HISTORY_SESSION as i64;
            let items = history
                .iter()
                .filter(|item| current && item.line >= *start && stop.is_none_or(|stop| item.line < stop))
                .collect();
            (items, *output)
        }
        HistoryQuery::Search { pattern, unique, n, output } => {
            let mut items: Vec<&HistoryItem> =
                history.iter().filter(|item| wire::glob_matches(pattern, &item.input)).collect();
            if *unique {
                // Keep the latest occurrence of each input, in order.
                let mut seen = std::collections::HashSet::new();
                let mut latest_first: Vec<&HistoryItem> =
                    items.into_iter().rev().filter(|item| seen.insert(item.input.as_str())).collect();
                latest_first.reverse();
                items = latest_first;
            }
            let items = match n {
                Some(n) => last(items, *n),
                None => items,
            };
            (items, *output)
        }
    }
}

/// Runs one cell with panics caught and interrupt enforced: a cell that ignores its token is
/// dropped [`INTERRUPT_GRACE`] after cancellation.
async fn run_cell<I: Interpreter>(
    interpreter: &mut I,
    code: &str,
    output: &mut Output,
    cancel: CancellationToken,
    context: &ExecuteContext,
) -> ExecuteOutcome {
    let cell = AssertUnwindSafe(interpreter.execute(code, output, cancel.clone(), context)).catch_unwind();
    tokio::pin!(cell);
    let finished = tokio::select! {
        biased;
        finished = &mut cell => finished,
        _ = cancel.cancelled() => match tokio::time::timeout(INTERRUPT_GRACE, &mut cell).await {
            Ok(finished) => finished,
            Err(_) => Ok(ExecuteOutcome::Interrupted),
        },
    };
    finished.unwrap_or_else(|panic| ExecuteOutcome::Error(bug("execute", &*panic)))
}

/// Runs a synchronous interpreter call, turning a panic into `None` (logged as our bug).
/// The longest completion and inspection wait for the interpreter to fetch from its environment.
const ASSIST_BOUND: std::time::Duration = std::time::Duration::from_secs(1);

fn guard<T>(what: &str, call: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(AssertUnwindSafe(call))
        .map_err(|panic| tracing::error!("{}", bug(what, &*panic).evalue))
        .ok()
}

fn bug(what: &str, panic: &(dyn std::any::Any + Send)) -> ExecuteError {
    let message = panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    let evalue = format!("HarmonyQL hit a bug in {what}: {message} (the kernel is still running; please report this)");
    ExecuteError { ename: "InternalError".to_owned(), traceback: vec![format!("InternalError: {evalue}")], evalue }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(inputs: &[&str]) -> Vec<HistoryItem> {
        inputs
            .iter()
            .enumerate()
            .map(|(idx, input)| HistoryItem {
                session: HISTORY_SESSION,
                line: idx + 1,
                input: (*input).to_owned(),
                output: None,
            })
            .collect()
    }

    fn check(query: HistoryQuery, expected_lines: &[usize]) {
        let history = items(&["print 1", "subset A", "print 1", "subset B", "help"]);
        let (found, _) = select_history(&history, &query);
        let lines: Vec<usize> = found.iter().map(|item| item.line).collect();
        assert_eq!(lines, expected_lines, "{query:?}");
    }

    #[test]
    fn history_queries_select_the_right_lines() {
        check(HistoryQuery::Tail { n: 2, output: false }, &[4, 5]);
        check(HistoryQuery::Tail { n: 99, output: false }, &[1, 2, 3, 4, 5]);
        check(HistoryQuery::Range { session: 0, start: 2, stop: Some(4), output: false }, &[2, 3]);
        check(HistoryQuery::Range { session: 1, start: 0, stop: None, output: false }, &[1, 2, 3, 4, 5]);
        check(HistoryQuery::Range { session: 7, start: 0, stop: None, output: false }, &[]);
        check(HistoryQuery::Search { pattern: "print*".into(), unique: false, n: None, output: false }, &[1, 3]);
        check(HistoryQuery::Search { pattern: "print*".into(), unique: true, n: None, output: false }, &[3]);
        check(HistoryQuery::Search { pattern: "*".into(), unique: false, n: Some(3), output: false }, &[3, 4, 5]);
    }

    fn link(silent: bool) -> (CellLink, mpsc::UnboundedReceiver<IopubItem>) {
        let (iopub, published) = mpsc::unbounded_channel();
        let (asks, _) = mpsc::unbounded_channel();
        let parent: JupyterMessage = ExecuteRequest::new("subset ATL03".into()).into();
        let link = CellLink {
            parent: Arc::new(parent),
            iopub: IopubSender(iopub),
            asks,
            silent,
            allow_stdin: false,
            cancel: CancellationToken::new(),
            updates: HashMap::new(),
        };
        (link, published)
    }

    /// (msg_type, text/plain) of everything queued for iopub so far.
    fn drain(published: &mut mpsc::UnboundedReceiver<IopubItem>) -> Vec<(String, String)> {
        let mut seen = Vec::new();
        while let Ok(IopubItem::Message(message)) = published.try_recv() {
            let content = serde_json::to_value(&message.content).expect("serialises");
            let text = content["data"]["text/plain"].as_str().unwrap_or_default().to_owned();
            seen.push((message.header.msg_type.clone(), text));
        }
        seen
    }

    fn pair(msg_type: &str, text: &str) -> (String, String) {
        (msg_type.to_owned(), text.to_owned())
    }

    #[test]
    fn display_updates_are_coalesced_to_ten_a_second_and_the_last_one_is_kept() {
        let (mut link, mut published) = link(false);
        let id = DisplayId::new_unique();
        link.publish(OutputEvent::Display { bundle: MimeBundle::text("0%"), display_id: Some(id.clone()) });
        for percent in [20, 40, 60, 80] {
            link.publish(OutputEvent::UpdateDisplay {
                display_id: id.clone(),
                bundle: MimeBundle::text(format!("{percent}%")),
            });
        }
        assert_eq!(drain(&mut published), [pair("display_data", "0%"), pair("update_display_data", "20%")]);

        std::thread::sleep(UPDATE_INTERVAL + Duration::from_millis(10));
        link.publish(OutputEvent::UpdateDisplay { display_id: id.clone(), bundle: MimeBundle::text("90%") });
        link.publish(OutputEvent::UpdateDisplay { display_id: id.clone(), bundle: MimeBundle::text("100%") });
        assert_eq!(drain(&mut published), [pair("update_display_data", "90%")]);
        link.finish();
        assert_eq!(drain(&mut published), [pair("update_display_data", "100%")], "the final state is sent at the end");
    }

    #[test]
    fn silent_cells_publish_nothing() {
        let (mut link, mut published) = link(true);
        link.publish(OutputEvent::Stream { stream: crate::kernel::interpreter::Stream::Stdout, text: "x".into() });
        link.publish(OutputEvent::Display { bundle: MimeBundle::text("d"), display_id: None });
        link.finish();
        assert_eq!(drain(&mut published), []);
    }

    #[tokio::test]
    async fn input_is_refused_when_the_client_cannot_answer() {
        let (mut link, _published) = link(false);
        assert_eq!(link.input("Password: ", true).await, Err(InputError::NotAllowed));
    }

    #[test]
    fn panics_become_internal_errors_naming_the_message() {
        let error = bug("execute", &"index out of bounds");
        assert_eq!(error.ename, "InternalError");
        assert!(error.evalue.contains("index out of bounds"), "{}", error.evalue);
        let owned: Box<dyn std::any::Any + Send> = Box::new(String::from("boom"));
        assert!(bug("inspect", &*owned).evalue.contains("boom"));
    }

    fn check_connection_file(text: &str, expected: std::result::Result<u16, &str>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("kernel.json");
        std::fs::write(&path, text).expect("write");
        match (read_connection_file(&path), expected) {
            (Ok(info), Ok(port)) => assert_eq!(info.shell_port, port),
            (Err(error), Err(needle)) => assert!(error.to_string().contains(needle), "{error}"),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn connection_files_are_read_and_checked() {
        let base = r#""transport":"tcp","ip":"127.0.0.1","shell_port":5001,"iopub_port":5002,"stdin_port":5003,"control_port":5004,"hb_port":5005,"key":"k""#;
        check_connection_file(
            &format!(r#"{{{base},"signature_scheme":"hmac-sha256","kernel_name":"hq","extra":1}}"#),
            Ok(5001),
        );
        check_connection_file(
            &format!(r#"{{{base},"signature_scheme":"hmac-md5"}}"#),
            Err("unsupported signature scheme"),
        );
        check_connection_file("{", Err("is not a Jupyter connection file"));
    }

    #[test]
    fn a_missing_connection_file_names_the_path() {
        let error = read_connection_file(Path::new("/nonexistent/kernel-1.json")).expect_err("missing");
        assert!(error.to_string().contains("/nonexistent/kernel-1.json"), "{error}");
    }
}
