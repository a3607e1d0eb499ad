//! The kernel core over real loopback sockets, driven by a small Rust Jupyter client against the
//! test-only mock interpreter (`examples/mock_kernel/mock.rs`): heartbeat, kernel_info, execute
//! message order, errors, signatures, stop_on_error, interrupt, stdin, history, completion with
//! code-point cursors, inspection, is_complete, shutdown. Every receive has a timeout.

#[path = "../../examples/mock_kernel/mock.rs"]
mod mock;

use std::time::{Duration, Instant};

use harmonyql::kernel::{ServeOptions, serve};
use jupyter_protocol::{
    CommId, CommInfoRequest, CommOpen, CompleteRequest, ConnectionInfo, ExecuteRequest, HistoryEntry, HistoryRequest,
    InputReply, InspectRequest, InterruptRequest, IsCompleteReplyStatus, IsCompleteRequest, JupyterMessage,
    JupyterMessageContent, KernelInfoRequest, ReplyStatus, ShutdownRequest, Transport, UnknownMessage,
};
use jupyter_zmq_client::{
    ClientControlConnection, ClientHeartbeatConnection, ClientIoPubConnection, ClientShellConnection,
    ClientStdinConnection, Connection,
};
use tokio::task::JoinHandle;
use zeromq::{Socket as _, SocketSend as _};

/// Long enough for a debug build on a loaded 2-core machine, short enough to fail fast.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(10);

struct TestKernel {
    info: ConnectionInfo,
    shell: ClientShellConnection,
    iopub: ClientIoPubConnection,
    control: ClientControlConnection,
    stdin: ClientStdinConnection,
    heartbeat: ClientHeartbeatConnection,
    task: JoinHandle<harmonyql::kernel::Result<()>>,
}

/// What one request caused: its shell reply and its iopub messages from busy to idle inclusive.
struct Exchange {
    reply: JupyterMessage,
    iopub: Vec<JupyterMessage>,
}

impl Exchange {
    fn types(&self) -> Vec<&str> {
        self.iopub.iter().map(|message| message.header.msg_type.as_str()).collect()
    }

    fn streams(&self) -> Vec<String> {
        self.iopub
            .iter()
            .filter_map(|message| match &message.content {
                JupyterMessageContent::StreamContent(stream) => Some(stream.text.clone()),
                _ => None,
            })
            .collect()
    }

    fn results(&self) -> Vec<String> {
        self.iopub
            .iter()
            .filter(|message| message.header.msg_type == "execute_result")
            .map(|message| content(message)["data"]["text/plain"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

fn content(message: &JupyterMessage) -> serde_json::Value {
    serde_json::to_value(&message.content).expect("content serialises")
}

async fn recv<S: zeromq::SocketRecv>(connection: &mut Connection<S>, what: &str) -> JupyterMessage {
    tokio::time::timeout(RECEIVE_TIMEOUT, connection.read())
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
        .unwrap_or_else(|error| panic!("reading {what}: {error}"))
}

fn execute(code: &str) -> ExecuteRequest {
    ExecuteRequest { code: code.to_owned(), allow_stdin: false, ..ExecuteRequest::default() }
}

impl TestKernel {
    async fn start() -> Self {
        let ip = "127.0.0.1".parse().expect("loopback");
        let ports = jupyter_zmq_client::peek_ports(ip, 5).await.expect("free ports");
        let info = ConnectionInfo {
            ip: "127.0.0.1".to_owned(),
            transport: Transport::TCP,
            shell_port: ports[0],
            iopub_port: ports[1],
            stdin_port: ports[2],
            control_port: ports[3],
            hb_port: ports[4],
            key: uuid::Uuid::new_v4().to_string(),
            signature_scheme: "hmac-sha256".to_owned(),
            kernel_name: Some("harmonyql-mock".to_owned()),
        };
        let kernel_info = info.clone();
        let task = tokio::spawn(async move {
            serve(&kernel_info, mock::MockInterpreter::default(), ServeOptions::default()).await
        });
        let session = uuid::Uuid::new_v4().to_string();
        let identity = jupyter_zmq_client::peer_identity_for_session(&session).expect("identity");
        // The kernel binds in its own task; retry connecting until it listens.
        let deadline = Instant::now() + RECEIVE_TIMEOUT;
        let shell = loop {
            match jupyter_zmq_client::create_client_shell_connection_with_identity(&info, &session, identity.clone())
                .await
            {
                Ok(shell) => break shell,
                Err(error) if Instant::now() < deadline => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(error) => panic!("connecting shell: {error}"),
            }
        };
        let stdin = jupyter_zmq_client::create_client_stdin_connection_with_identity(&info, &session, identity)
            .await
            .expect("stdin");
        let iopub = jupyter_zmq_client::create_client_iopub_connection(&info, "", &session).await.expect("iopub");
        let control = jupyter_zmq_client::create_client_control_connection(&info, &session).await.expect("control");
        let heartbeat = jupyter_zmq_client::create_client_heartbeat_connection(&info).await.expect("heartbeat");
        let mut kernel = Self { info, shell, iopub, control, stdin, heartbeat, task };
        kernel.wait_until_ready().await;
        kernel
    }

    /// Like jupyter_client's `wait_for_ready`: kernel_info until the iopub subscription is live
    /// (PUB drops messages sent before a subscriber has joined).
    async fn wait_until_ready(&mut self) {
        for _ in 0..50 {
            let request: JupyterMessage = KernelInfoRequest {}.into();
            self.shell.send(request).await.expect("send kernel_info_request");
            recv(&mut self.shell, "kernel_info_reply").await;
            if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(200), self.iopub.read()).await {
                self.drain_iopub().await;
                return;
            }
        }
        panic!("the kernel never published on iopub");
    }

    async fn drain_iopub(&mut self) {
        while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(200), self.iopub.read()).await {}
    }

    async fn send_shell(&mut self, request: impl Into<JupyterMessage>) -> JupyterMessage {
        let request = request.into();
        self.shell.send(request.clone()).await.expect("send on shell");
        request
    }

    /// Sends a shell request and collects its reply and iopub traffic up to its idle status.
    async fn request(&mut self, request: impl Into<JupyterMessage>) -> Exchange {
        let request = self.send_shell(request).await;
        self.exchange(&request).await
    }

    async fn exchange(&mut self, request: &JupyterMessage) -> Exchange {
        let reply = self.reply_to(request).await;
        let iopub = self.iopub_of(request).await;
        Exchange { reply, iopub }
    }

    async fn reply_to(&mut self, request: &JupyterMessage) -> JupyterMessage {
        loop {
            let reply = recv(&mut self.shell, "a shell reply").await;
            if is_child_of(&reply, request) {
                return reply;
            }
        }
    }

    async fn iopub_of(&mut self, request: &JupyterMessage) -> Vec<JupyterMessage> {
        let mut messages = Vec::new();
        loop {
            let message = recv(&mut self.iopub, "iopub").await;
            if !is_child_of(&message, request) {
                continue;
            }
            let idle = matches!(&message.content, JupyterMessageContent::Status(status) if status.execution_state == jupyter_protocol::ExecutionState::Idle);
            messages.push(message);
            if idle {
                return messages;
            }
        }
    }

    async fn control(&mut self, request: impl Into<JupyterMessage>) -> JupyterMessage {
        let request = request.into();
        self.control.send(request.clone()).await.expect("send on control");
        loop {
            let reply = recv(&mut self.control, "a control reply").await;
            if is_child_of(&reply, &request) {
                return reply;
            }
        }
    }
}

fn is_child_of(message: &JupyterMessage, request: &JupyterMessage) -> bool {
    message.parent_header.as_ref().is_some_and(|parent| parent.msg_id == request.header.msg_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_answers_and_kernel_info_comes_on_shell_and_control() {
    let mut kernel = TestKernel::start().await;
    tokio::time::timeout(RECEIVE_TIMEOUT, kernel.heartbeat.single_heartbeat())
        .await
        .expect("heartbeat in time")
        .expect("heartbeat");

    let on_shell = kernel.request(KernelInfoRequest {}).await;
    assert_eq!(on_shell.types(), ["status", "status"], "busy then idle around kernel_info");
    let on_control = kernel.control(KernelInfoRequest {}).await;
    for reply in [&on_shell.reply, &on_control] {
        let reply = content(reply);
        assert_eq!(reply["protocol_version"], "5.3");
        assert_eq!(reply["language_info"]["name"], "harmonyql");
        assert_eq!(reply["language_info"]["file_extension"], ".hq");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_publishes_outputs_in_order_between_busy_and_idle() {
    let mut kernel = TestKernel::start().await;
    let code = "print \"hi\"\nsubset ATL03 bbox(1, 2, 3, 4)\n42";
    let exchange = kernel.request(execute(code)).await;
    let types = exchange.types();
    assert_eq!(types[..5], ["status", "execute_input", "stream", "display_data", "update_display_data"]);
    assert_eq!(types[types.len() - 2..], ["execute_result", "status"]);
    assert!(types.iter().filter(|t| **t == "update_display_data").count() <= 2, "updates coalesced: {types:?}");
    assert_eq!(content(&exchange.iopub[0])["execution_state"], "busy");
    assert_eq!(content(&exchange.iopub[1]), serde_json::json!({ "code": code, "execution_count": 1 }));

    let display = content(&exchange.iopub[3]);
    let id = display["transient"]["display_id"].as_str().expect("display id").to_owned();
    let last_update =
        exchange.iopub.iter().rev().find(|message| message.header.msg_type == "update_display_data").expect("update");
    assert_eq!(content(last_update)["transient"]["display_id"], id.as_str());
    assert_eq!(content(last_update)["data"]["text/plain"], "ATL03: 100%");

    assert_eq!(exchange.results(), ["42"]);
    let reply = content(&exchange.reply);
    assert_eq!(reply["status"], "ok");
    assert_eq!(reply["execution_count"], 1);
    assert_eq!(reply["user_expressions"], serde_json::json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execution_count_starts_at_one_and_skips_cells_outside_history() {
    let mut kernel = TestKernel::start().await;
    let counts = [
        kernel.request(execute("1")).await,
        kernel.request(ExecuteRequest { store_history: false, ..execute("2") }).await,
        kernel.request(execute("3")).await,
    ]
    .map(|exchange| content(&exchange.reply)["execution_count"].clone());
    assert_eq!(counts, [1, 1, 2].map(serde_json::Value::from));

    let silent = kernel.request(ExecuteRequest { silent: true, store_history: false, ..execute("print \"x\"") }).await;
    assert_eq!(silent.types(), ["status", "status"], "silent cells publish nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_syntax_error_is_one_error_output_and_an_error_reply_with_the_caret() {
    let mut kernel = TestKernel::start().await;
    let exchange = kernel.request(execute("subset ATL03 bbox(1,2")).await;
    assert_eq!(exchange.types(), ["status", "execute_input", "error", "status"]);
    let reply = content(&exchange.reply);
    assert_eq!(reply["status"], "error");
    assert_eq!(reply["ename"], "ParseError");
    assert_eq!(reply["traceback"], content(&exchange.iopub[2])["traceback"]);
    assert_eq!(reply["traceback"][1], "subset ATL03 bbox(1,2");
    assert_eq!(reply["traceback"][2], format!("{}^", " ".repeat(21)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_cell_becomes_an_error_and_the_state_survives() {
    let mut kernel = TestKernel::start().await;
    kernel.request(execute("set collection ATL03")).await;
    let panicked = kernel.request(execute("panic")).await;
    assert_eq!(content(&panicked.reply)["ename"], "InternalError");
    assert_eq!(panicked.types().iter().filter(|t| **t == "error").count(), 1);
    let after = kernel.request(execute("get collection")).await;
    assert_eq!(after.results(), ["ATL03"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_with_a_bad_or_missing_signature_are_dropped() {
    let mut kernel = TestKernel::start().await;
    let mut intruder = zeromq::DealerSocket::new();
    intruder.connect(&kernel.info.shell_url()).await.expect("connect intruder");
    for (msg_id, signature) in [("forged-bad-signature", "00ff"), ("forged-no-signature", "")] {
        let header = serde_json::json!({
            "msg_id": msg_id, "session": "intruder", "username": "intruder",
            "date": "2026-11-27T00:00:00Z", "msg_type": "execute_request", "version": "5.3",
        });
        let content = serde_json::json!({
            "code": "print \"forged\"", "silent": false, "store_history": true,
            "user_expressions": {}, "allow_stdin": false, "stop_on_error": true,
        });
        let mut frames = zeromq::ZmqMessage::from("<IDS|MSG>".to_owned());
        for frame in [signature.to_owned(), header.to_string(), "{}".to_owned(), "{}".to_owned(), content.to_string()] {
            frames.push_back(frame.into_bytes().into());
        }
        intruder.send(frames).await.expect("send forged");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let genuine = kernel.request(execute("print \"genuine\"")).await;
    assert_eq!(genuine.streams(), ["genuine\n"]);
    assert_eq!(content(&genuine.reply)["execution_count"], 1, "forged cells must not run or count");
    while let Ok(Ok(message)) = tokio::time::timeout(Duration::from_millis(300), kernel.iopub.read()).await {
        let parent = message.parent_header.map(|parent| parent.msg_id).unwrap_or_default();
        assert!(!parent.starts_with("forged"), "the kernel reacted to {parent}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_on_error_aborts_the_cells_queued_behind_a_failure() {
    let mut kernel = TestKernel::start().await;
    let failing = kernel.send_shell(execute("wait 300\nget missing")).await;
    let queued = kernel.send_shell(execute("print \"should not run\"")).await;
    let failed = kernel.exchange(&failing).await;
    assert_eq!(content(&failed.reply)["status"], "error");
    let aborted = kernel.exchange(&queued).await;
    assert_eq!(content(&aborted.reply)["status"], "aborted");
    assert_eq!(aborted.types(), ["status", "status"], "an aborted cell publishes nothing but busy/idle");

    let tolerant = kernel.send_shell(ExecuteRequest { stop_on_error: false, ..execute("wait 300\nget missing") }).await;
    let runs = kernel.send_shell(execute("print \"runs\"")).await;
    kernel.exchange(&tolerant).await;
    assert_eq!(kernel.exchange(&runs).await.streams(), ["runs\n"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_stops_a_running_cell_within_a_second_and_keeps_the_kernel() {
    let mut kernel = TestKernel::start().await;
    kernel.request(execute("set region colorado")).await;
    for code in ["wait 30000", "ignore-interrupt 30000"] {
        let running = kernel.send_shell(execute(code)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        let reply = kernel.control(InterruptRequest {}).await;
        assert_eq!(content(&reply)["status"], "ok");
        let stopped = kernel.exchange(&running).await;
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(1), "{code}: interrupt took {elapsed:?}");
        assert_eq!(content(&stopped.reply)["ename"], "Interrupted", "{code}");
    }
    assert_eq!(kernel.request(execute("get region")).await.results(), ["colorado"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_input_goes_through_stdin_and_is_not_echoed() {
    let mut kernel = TestKernel::start().await;
    let login = kernel.send_shell(ExecuteRequest { allow_stdin: true, ..execute("login") }).await;
    let prompt = recv(&mut kernel.stdin, "input_request").await;
    assert!(is_child_of(&prompt, &login), "input_request must carry the execute request as parent");
    assert_eq!(content(&prompt), serde_json::json!({ "prompt": "Earthdata password: ", "password": true }));
    let answer = InputReply { value: "hunter2!".to_owned(), status: ReplyStatus::Ok, error: None }.as_child_of(&prompt);
    kernel.stdin.send(answer).await.expect("send input_reply");
    let exchange = kernel.exchange(&login).await;
    assert_eq!(content(&exchange.reply)["status"], "ok");
    assert_eq!(exchange.streams(), ["logged in (password of 8 characters)\n"]);
    assert!(exchange.iopub.iter().all(|message| !content(message).to_string().contains("hunter2")));

    let refused = kernel.request(ExecuteRequest { allow_stdin: false, ..execute("login") }).await;
    assert!(content(&refused.reply)["evalue"].as_str().is_some_and(|evalue| evalue.contains("allow_stdin")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_returns_stored_cells_by_tail_range_and_search() {
    let mut kernel = TestKernel::start().await;
    for code in ["42", "print \"x\"", "43"] {
        kernel.request(execute(code)).await;
    }
    kernel.request(ExecuteRequest { store_history: false, ..execute("44") }).await;

    let history = |exchange: &Exchange| match &exchange.reply.content {
        JupyterMessageContent::HistoryReply(reply) => reply.history.clone(),
        other => panic!("expected history_reply, got {other:?}"),
    };
    let tail = kernel.request(HistoryRequest::Tail { n: 2, output: true, raw: true }).await;
    let tail = history(&tail);
    assert!(
        matches!(&tail[..], [HistoryEntry::InputOutput(1, 2, (input2, out2)), HistoryEntry::InputOutput(1, 3, (input3, out3))]
            if input2 == "print \"x\"" && out2.is_empty() && input3 == "43" && out3 == "43"),
        "{tail:?}"
    );
    let range =
        kernel.request(HistoryRequest::Range { session: Some(0), start: 1, stop: 2, output: false, raw: true }).await;
    assert!(matches!(&history(&range)[..], [HistoryEntry::Input(1, 1, input)] if input == "42"));
    let search = kernel
        .request(HistoryRequest::Search { pattern: "4*".into(), unique: true, output: false, raw: true, n: 10 })
        .await;
    let inputs: Vec<String> = history(&search)
        .into_iter()
        .map(|entry| match entry {
            HistoryEntry::Input(_, _, input) => input,
            HistoryEntry::InputOutput(_, _, (input, _)) => input,
        })
        .collect();
    assert_eq!(inputs, ["42", "43"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_inspection_and_is_complete_use_code_point_cursors() {
    let mut kernel = TestKernel::start().await;
    let code = "print \"🌍 été\"\nsubset ATL0";
    let cursor = code.chars().count();
    let completion = kernel.request(CompleteRequest { code: code.to_owned(), cursor_pos: cursor }).await;
    let reply = content(&completion.reply);
    assert_eq!(reply["matches"], serde_json::json!(["ATL03", "ATL06"]));
    assert_eq!(reply["cursor_start"], cursor - 4, "code points, not the {} bytes", code.len());
    assert_eq!(reply["cursor_end"], cursor);
    assert_eq!(completion.types(), ["status", "status"]);

    // Cursor on the second letter of `subset`, after a two-byte character.
    let inspection = kernel
        .request(InspectRequest { code: "é subset ATL03".to_owned(), cursor_pos: 3, detail_level: Some(0) })
        .await;
    let reply = content(&inspection.reply);
    assert_eq!(reply["found"], true);
    assert!(reply["data"]["text/plain"].as_str().is_some_and(|text| text.starts_with("subset COLLECTION")));
    let nothing = kernel.request(InspectRequest { code: "é".to_owned(), cursor_pos: 1, detail_level: None }).await;
    assert_eq!(content(&nothing.reply)["found"], false);

    for (code, expected) in [
        ("subset ATL03 bbox(1, 2, 3, 4)", IsCompleteReplyStatus::Complete),
        ("subset ATL03 bbox(1, 2", IsCompleteReplyStatus::Incomplete),
        ("subset ATL03 )", IsCompleteReplyStatus::Invalid),
    ] {
        let exchange = kernel.request(IsCompleteRequest { code: code.to_owned() }).await;
        match &exchange.reply.content {
            JupyterMessageContent::IsCompleteReply(reply) => assert_eq!(reply.status, expected, "{code}"),
            other => panic!("expected is_complete_reply, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_replies_then_stops_the_kernel() {
    let mut kernel = TestKernel::start().await;
    let reply = kernel.control(ShutdownRequest { restart: false }).await;
    assert_eq!(content(&reply), serde_json::json!({ "status": "ok", "restart": false }));
    let finished = tokio::time::timeout(RECEIVE_TIMEOUT, &mut kernel.task).await.expect("kernel stops in time");
    assert!(matches!(finished, Ok(Ok(()))), "{finished:?}");
}

/// Runs the built `hq` with `args` and returns (success, stdout, stderr).
fn hq(args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hq")).args(args).output().expect("run hq");
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (output.status.success(), text(output.stdout), text(output.stderr))
}

#[test]
fn hq_kernel_install_writes_a_kernelspec_that_runs_this_hq_and_uninstall_removes_it() {
    let prefix = tempfile::tempdir().expect("temp dir");
    let prefix_arg = prefix.path().to_str().expect("utf-8 temp path");
    let spec_dir = prefix.path().join("share/jupyter/kernels/harmonyql");

    let (ok, stdout, _) = hq(&["kernel", "install", "--prefix", prefix_arg]);
    assert!(ok, "{stdout}");
    assert_eq!(stdout, format!("installed kernelspec harmonyql in {}\n", spec_dir.display()));
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(spec_dir.join("kernel.json")).expect("kernel.json"))
            .expect("json");
    assert_eq!(
        spec["argv"],
        serde_json::json!([env!("CARGO_BIN_EXE_hq"), "kernel", "--connection-file", "{connection_file}"])
    );
    assert_eq!(spec["interrupt_mode"], "message");
    for logo in ["logo-32x32.png", "logo-64x64.png", "logo-svg.svg"] {
        assert!(spec_dir.join(logo).is_file(), "{logo} missing");
    }

    let (ok, _, stderr) = hq(&["kernel", "install", "--prefix", prefix_arg]);
    assert!(!ok);
    assert!(stderr.contains("pass --force"), "{stderr}");
    assert!(hq(&["kernel", "install", "--prefix", prefix_arg, "--force"]).0);

    let (ok, stdout, _) = hq(&["kernel", "uninstall", "--prefix", prefix_arg]);
    assert!(ok);
    assert_eq!(stdout, format!("removed kernelspec harmonyql from {}\n", spec_dir.display()));
    assert!(!spec_dir.exists());
}

#[test]
fn hq_kernel_explains_a_missing_connection_file_or_arguments() {
    let (ok, _, stderr) = hq(&["kernel", "-f", "/nonexistent/kernel-1.json"]);
    assert!(!ok);
    assert!(stderr.contains("/nonexistent/kernel-1.json"), "{stderr}");
    let (ok, _, stderr) = hq(&["kernel"]);
    assert!(!ok);
    assert!(stderr.contains("--connection-file"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_while_waiting_for_a_password_stops_the_cell() {
    let mut kernel = TestKernel::start().await;
    let login = kernel.send_shell(ExecuteRequest { allow_stdin: true, ..execute("login") }).await;
    recv(&mut kernel.stdin, "input_request").await;
    let started = Instant::now();
    kernel.control(InterruptRequest {}).await;
    let stopped = kernel.exchange(&login).await;
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    assert_eq!(content(&stopped.reply)["ename"], "Interrupted");
    assert_eq!(kernel.request(execute("42")).await.results(), ["42"], "usable after the abandoned prompt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comms_are_declined_and_unknown_requests_get_an_error_reply() {
    let mut kernel = TestKernel::start().await;
    let info = kernel.request(CommInfoRequest { target_name: None }).await;
    assert_eq!(content(&info.reply), serde_json::json!({ "status": "ok", "comms": {} }));

    let open = CommOpen {
        comm_id: CommId("c-1".to_owned()),
        target_name: "jupyter.widget".to_owned(),
        data: serde_json::Map::new(),
        target_module: None,
    };
    let open: JupyterMessage = open.into();
    kernel.shell.send(open.clone()).await.expect("send comm_open");
    let published = kernel.iopub_of(&open).await;
    let types: Vec<&str> = published.iter().map(|message| message.header.msg_type.as_str()).collect();
    assert_eq!(types, ["status", "comm_close", "status"]);
    assert_eq!(content(&published[1])["comm_id"], "c-1");

    let odd = UnknownMessage { msg_type: "frobnicate_request".to_owned(), content: serde_json::json!({}) };
    let exchange = kernel.request(odd).await;
    assert_eq!(exchange.reply.header.msg_type, "frobnicate_reply");
    assert_eq!(content(&exchange.reply)["ename"], "UnsupportedRequest");

    // Correctly signed, but `code` is not a string and `silent` is missing.
    let malformed =
        UnknownMessage { msg_type: "execute_request".to_owned(), content: serde_json::json!({ "code": 5 }) };
    let exchange = kernel.request(malformed).await;
    assert_eq!(exchange.reply.header.msg_type, "execute_reply");
    assert_eq!(content(&exchange.reply)["ename"], "MalformedRequest");
    assert_eq!(exchange.types(), ["status", "status"]);
    assert_eq!(kernel.request(execute("42")).await.results(), ["42"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requested_user_expressions_are_answered_not_ignored() {
    let mut kernel = TestKernel::start().await;
    let request = ExecuteRequest {
        user_expressions: Some([("n".to_owned(), "1".to_owned())].into_iter().collect()),
        ..execute("42")
    };
    let exchange = kernel.request(request).await;
    assert_eq!(content(&exchange.reply)["user_expressions"]["n"]["status"], "error");
}

/// Signs frames as a client holding the connection key would (HMAC-SHA256 over header, parent, metadata
/// and content, in hex).
fn signed_frames(key: &str, header: &serde_json::Value, content: &serde_json::Value) -> zeromq::ZmqMessage {
    let parts = [header.to_string(), "{}".to_owned(), "{}".to_owned(), content.to_string()];
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    let mut context = ring::hmac::Context::with_key(&key);
    for part in &parts {
        context.update(part.as_bytes());
    }
    let signature: String = context.sign().as_ref().iter().map(|byte| format!("{byte:02x}")).collect();
    let mut frames = zeromq::ZmqMessage::from("<IDS|MSG>".to_owned());
    frames.push_back(signature.into_bytes().into());
    for part in parts {
        frames.push_back(part.into_bytes().into());
    }
    frames
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_frames_unknown_types_and_a_twenty_megabyte_cell_never_stop_the_kernel() {
    let mut kernel = TestKernel::start().await;
    let mut intruder = zeromq::DealerSocket::new();
    intruder.connect(&kernel.info.shell_url()).await.expect("connect intruder");
    // Truncated multipart messages: the delimiter alone, a signature without the rest, half a header,
    // no delimiter at all, and binary junk.
    let truncated: [&[&[u8]]; 5] = [
        &[b"<IDS|MSG>"],
        &[b"<IDS|MSG>", b"00ff"],
        &[b"<IDS|MSG>", b"", b"{\"msg_id\": \"trunc", b"{}"],
        &[b"{}", b"{}", b"{}", b"{}"],
        &[b"\xff\x00\xfe<IDS|MSG>\x00", b"\x00\x01\x02"],
    ];
    for parts in truncated {
        let mut frames = zeromq::ZmqMessage::from(parts[0].to_vec());
        for part in &parts[1..] {
            frames.push_back(part.to_vec().into());
        }
        intruder.send(frames).await.expect("send truncated");
    }
    // Correctly signed messages of types the kernel does not know: a request gets an error reply, anything
    // else is ignored.
    for (msg_id, msg_type) in [("unknown-request", "frobnicate_request"), ("unknown-other", "frobnicate")] {
        let header = serde_json::json!({
            "msg_id": msg_id, "session": "intruder", "username": "intruder",
            "date": "2026-12-07T00:00:00Z", "msg_type": msg_type, "version": "5.3",
        });
        intruder.send(signed_frames(&kernel.info.key, &header, &serde_json::json!({"x": 1}))).await.expect("send");
    }
    let reply = tokio::time::timeout(RECEIVE_TIMEOUT, zeromq::SocketRecv::recv(&mut intruder))
        .await
        .expect("the unknown request is answered")
        .expect("a reply");
    let frames: Vec<String> = reply.iter().map(|frame| String::from_utf8_lossy(frame).into_owned()).collect();
    let header: serde_json::Value = serde_json::from_str(&frames[2]).expect("a reply header");
    assert_eq!(header["msg_type"], "frobnicate_reply");
    let content: serde_json::Value = serde_json::from_str(&frames[5]).expect("reply content");
    assert_eq!(content["ename"], "UnsupportedRequest");

    // A 20 MB cell is received and answered like any other.
    let big = format!("print \"{}\"", "x".repeat(20 * 1024 * 1024));
    let exchange = kernel.request(execute(&big)).await;
    assert_eq!(content_of_reply(&exchange), "ok");
    assert_eq!(exchange.streams().concat().len(), 20 * 1024 * 1024 + 1);

    let after = kernel.request(execute("print \"still here\"")).await;
    assert_eq!(after.streams(), ["still here\n"]);
    tokio::time::timeout(RECEIVE_TIMEOUT, kernel.heartbeat.single_heartbeat())
        .await
        .expect("heartbeat in time")
        .expect("heartbeat");
}

fn content_of_reply(exchange: &Exchange) -> String {
    content(&exchange.reply)["status"].as_str().unwrap_or_default().to_owned()
}
