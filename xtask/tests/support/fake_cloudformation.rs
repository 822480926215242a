//! A scripted CloudFormation endpoint on 127.0.0.1: the AWS query protocol (form-encoded POST,
//! XML answers) for the few calls a deploy makes, with one stack whose create can be made to
//! fail. moto cannot fail a stack creation the way CloudFormation does (resource events, a
//! rollback, `ROLLBACK_COMPLETE`), so the failure paths are tested here.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{Arc, Mutex},
};

/// What executing a change set does.
#[derive(Debug, Clone)]
pub(crate) enum Execution {
    /// Every resource is created: `CREATE_COMPLETE`.
    Succeeds,
    /// Like `Succeeds`, but CloudFormation is slow to start: the first DescribeStacks after
    /// ExecuteChangeSet still gives the stack's previous status, with no new event.
    SucceedsLate,
    /// `logical_id` fails with `reason`, the other resources are cancelled: `ROLLBACK_COMPLETE`.
    FailsOn { logical_id: &'static str, reason: &'static str },
}

#[derive(Debug)]
struct State {
    /// The stack's name, as the client first gave it.
    name: String,
    /// `None`: the stack does not exist.
    status: Option<String>,
    /// Oldest first: (logical id, type, status, reason).
    events: Vec<(String, String, String, String)>,
    execution: Execution,
    /// DescribeStacks calls left before a late execution happens.
    late_polls: Option<u32>,
    /// Each call as `Action` (plus the change set type for CreateChangeSet).
    calls: Vec<String>,
}

/// The endpoint; it serves until the test process ends.
pub(crate) struct FakeCloudFormation {
    pub(crate) url: String,
    state: Arc<Mutex<State>>,
}

const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/fake/1";
const CHANGE_SET_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/xtask/1";
/// The resources of the one template the fake knows.
const RESOURCES: [(&str, &str); 2] = [("Topic", "AWS::SNS::Topic"), ("Reports", "AWS::S3::Bucket")];

impl FakeCloudFormation {
    /// Starts the endpoint with the stack in `status` (`None`: no stack yet).
    pub(crate) fn start(status: Option<&str>, execution: Execution) -> FakeCloudFormation {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("binding 127.0.0.1");
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let state = Arc::new(Mutex::new(State {
            name: "fake".to_owned(),
            status: status.map(str::to_owned),
            events: Vec::new(),
            execution,
            late_polls: None,
            calls: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        FakeCloudFormation { url, state }
    }

    /// The calls made so far.
    pub(crate) fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut content_length = 0;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let params = parse_form(&String::from_utf8_lossy(&body));
        let (status, xml) = answer(&params, &mut state.lock().unwrap());
        let response = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{xml}",
            if status == 200 { "OK" } else { "Bad Request" },
            xml.len()
        );
        let mut stream = reader.get_ref();
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn answer(params: &BTreeMap<String, String>, state: &mut State) -> (u16, String) {
    let action = params.get("Action").cloned().unwrap_or_default();
    let stack_name = params.get("StackName").cloned().unwrap_or_default();
    if !stack_name.is_empty() && !stack_name.starts_with("arn:") {
        state.name = stack_name.clone();
    }
    let name = state.name.clone();
    match action.as_str() {
        "CreateChangeSet" => {
            state.calls.push(format!("CreateChangeSet {}", params.get("ChangeSetType").map_or("", String::as_str)));
        }
        _ => state.calls.push(action.clone()),
    }
    let result = match action.as_str() {
        "DescribeStacks" => {
            match state.late_polls {
                Some(0) => {
                    state.late_polls = None;
                    succeed(state, &name);
                }
                Some(n) => state.late_polls = Some(n - 1),
                None => {}
            }
            let status = match &state.status {
                Some(status) => status.clone(),
                // By id, CloudFormation still answers for a deleted stack.
                None if stack_name.starts_with("arn:") => "DELETE_COMPLETE".to_owned(),
                None => return error(&format!("Stack with id {stack_name} does not exist")),
            };
            format!(
                "<Stacks><member><StackName>{name}</StackName><StackId>{STACK_ID}</StackId>\
                 <StackStatus>{status}</StackStatus><CreationTime>2026-11-28T00:00:00.000Z</CreationTime>\
                 <Outputs><member><OutputKey>TopicArn</OutputKey><OutputValue>arn:aws:sns:us-east-1:123456789012:t</OutputValue></member></Outputs>\
                 </member></Stacks>"
            )
        }
        "CreateChangeSet" => {
            if state.status.is_none() {
                state.status = Some("REVIEW_IN_PROGRESS".to_owned());
                push(state, &name, "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS", "User Initiated");
            }
            format!("<Id>{CHANGE_SET_ID}</Id><StackId>{STACK_ID}</StackId>")
        }
        "DescribeChangeSet" => {
            let changes: String = RESOURCES
                .iter()
                .map(|(id, kind)| {
                    format!(
                        "<member><Type>Resource</Type><ResourceChange><Action>Add</Action>\
                         <LogicalResourceId>{id}</LogicalResourceId><ResourceType>{kind}</ResourceType></ResourceChange></member>"
                    )
                })
                .collect();
            format!(
                "<ChangeSetName>xtask</ChangeSetName><ChangeSetId>{CHANGE_SET_ID}</ChangeSetId><StackId>{STACK_ID}</StackId>\
                 <Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus><Changes>{changes}</Changes>"
            )
        }
        "ExecuteChangeSet" => {
            match state.execution.clone() {
                Execution::Succeeds => succeed(state, &name),
                Execution::SucceedsLate => state.late_polls = Some(1),
                Execution::FailsOn { logical_id, reason } => {
                    push(state, &name, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated");
                    for (id, kind) in RESOURCES {
                        push(state, id, kind, "CREATE_IN_PROGRESS", "");
                    }
                    let kind = RESOURCES.iter().find(|it| it.0 == logical_id).map_or("?", |it| it.1);
                    push(state, logical_id, kind, "CREATE_FAILED", reason);
                    for (id, kind) in RESOURCES.iter().filter(|it| it.0 != logical_id) {
                        push(state, id, kind, "CREATE_FAILED", "Resource creation cancelled");
                    }
                    let why = format!(
                        "The following resource(s) failed to create: [{logical_id}]. Rollback requested by user."
                    );
                    push(state, &name, "AWS::CloudFormation::Stack", "ROLLBACK_IN_PROGRESS", &why);
                    push(state, &name, "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE", "");
                    state.status = Some("ROLLBACK_COMPLETE".to_owned());
                }
            }
            String::new()
        }
        "DescribeStackEvents" => {
            let events: String = state
                .events
                .iter()
                .enumerate()
                .rev()
                .map(|(n, (id, kind, status, reason))| {
                    format!(
                        "<member><StackId>{STACK_ID}</StackId><EventId>e{n}</EventId><StackName>{name}</StackName>\
                         <LogicalResourceId>{id}</LogicalResourceId><ResourceType>{kind}</ResourceType>\
                         <Timestamp>2026-11-28T00:00:{:02}.000Z</Timestamp><ResourceStatus>{status}</ResourceStatus>\
                         <ResourceStatusReason>{reason}</ResourceStatusReason></member>",
                        n % 60
                    )
                })
                .collect();
            format!("<StackEvents>{events}</StackEvents>")
        }
        "DeleteStack" => {
            push(state, &name, "AWS::CloudFormation::Stack", "DELETE_COMPLETE", "");
            state.status = None;
            String::new()
        }
        "ListStackResources" => "<StackResourceSummaries></StackResourceSummaries>".to_owned(),
        "DeleteChangeSet" => String::new(),
        other => return error(&format!("the fake does not know {other}")),
    };
    let xml = format!(
        "<{action}Response xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
         <{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>\
         </{action}Response>"
    );
    (200, xml)
}

/// Every resource created, the stack complete.
fn succeed(state: &mut State, name: &str) {
    push(state, name, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated");
    for (id, kind) in RESOURCES {
        push(state, id, kind, "CREATE_IN_PROGRESS", "");
        push(state, id, kind, "CREATE_COMPLETE", "");
    }
    push(state, name, "AWS::CloudFormation::Stack", "CREATE_COMPLETE", "");
    state.status = Some("CREATE_COMPLETE".to_owned());
}

fn push(state: &mut State, id: &str, kind: &str, status: &str, reason: &str) {
    state.events.push((id.to_owned(), kind.to_owned(), status.to_owned(), reason.to_owned()));
}

fn error(message: &str) -> (u16, String) {
    let xml = format!(
        "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type>\
         <Code>ValidationError</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    );
    (400, xml)
}

/// `a=b&c=d%20e` into a map, `+` and `%XX` decoded.
fn parse_form(body: &str) -> BTreeMap<String, String> {
    body.split('&').filter_map(|pair| pair.split_once('=')).map(|(key, value)| (decode(key), decode(value))).collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
