//! What the engine does for rust-cluster's worker agent (lib/agent/): its
//! connection counts, its connection channel, and the serialization its
//! sender needs. The rest of its messages (heartbeat answers) go to JS.

use std::rc::Rc;

use super::{Engine, State};
use crate::channel::framing::Mode;
use crate::channel::v8::Value;
use crate::channel::writer::Outgoing;
use crate::conn_channel::ConnChannel;
use crate::contract::{
    AGENT_CONNS, AGENT_CONN_CHANNEL, AGENT_CONN_SERVER, AGENT_HELLO, AGENT_WELCOME,
};
use crate::protocol;

impl Engine {
    /// A message from a worker's agent; true when Rust handled it.
    pub(super) fn agent(&self, worker: u32, msg: &Value) -> bool {
        match msg.get("act").and_then(Value::as_str) {
            Some(AGENT_CONNS) => {
                let closed = msg.get("closed").and_then(Value::as_f64);
                if let Some(closed) = closed.filter(|c| *c >= 0.0 && c.is_finite()) {
                    if let Some(w) = self.state.borrow().workers.get(&worker) {
                        w.report_closed(closed as u64);
                    }
                }
                true
            }
            Some(AGENT_CONN_SERVER) => {
                let key = msg.get("key").and_then(Value::as_str);
                let id = msg.get("id").and_then(Value::as_f64);
                if let (Some(key), Some(id)) = (key, id) {
                    if id >= 0.0 && id <= f64::from(u32::MAX) {
                        self.conn_server(worker, key, id as u32);
                    }
                }
                true
            }
            // The agent writes its channel itself once it knows how
            // messages are encoded on it (lib/agent/sender.js). Not past
            // `fast_path_workers` (why: `FAST_PATH_WORKERS_PER_CPU`);
            // unanswered, the agent leaves the writes to Node.
            Some(AGENT_HELLO) => {
                let st = self.state.borrow();
                if st.workers.len() > st.fast_path_workers {
                    return true;
                }
                if let Some(w) = st.workers.get(&worker) {
                    let mode = match w.channel.mode() {
                        Mode::Json => "json",
                        Mode::Advanced => "advanced",
                    };
                    let fields = vec![("serialization".to_string(), protocol::string(mode))];
                    let bytes = protocol::encode(
                        w.channel.mode(),
                        &protocol::agent_message(AGENT_WELCOME, fields),
                    );
                    w.channel.send(Outgoing::internal(bytes, None));
                }
                true
            }
            // The supervisor's (lib/supervisor/): heartbeat answers.
            _ => false,
        }
    }

    /// The worker registered a server (its name `id` for the handle `key`)
    /// whose connections it takes over a connection channel; the channel is
    /// made and sent on first asking.
    fn conn_server(&self, worker: u32, key: &str, id: u32) {
        let mut st = self.state.borrow_mut();
        let State {
            handles, workers, ..
        } = &mut *st;
        let (Some(h), Some(w)) = (handles.get_mut(key), workers.get_mut(&worker)) else {
            return;
        };
        if !h.sched.workers().contains(&worker) {
            return;
        }
        if !w.conns.as_ref().is_some_and(|c| c.is_open()) {
            let pair = crate::channel::fdpass::socket_pair();
            let Ok((ours, theirs)) = pair else {
                return;
            };
            let Ok(conns) = ConnChannel::open(self.event_loop, worker, ours, self.conn_events())
            else {
                return;
            };
            let msg = protocol::handle_message(
                "net.Native",
                protocol::agent_message(AGENT_CONN_CHANNEL, Vec::new()),
            );
            let bytes = protocol::encode(w.channel.mode(), &msg);
            w.channel
                .send(Outgoing::internal(bytes, Some(Rc::new(theirs))));
            w.conns = Some(conns);
        }
        h.conn_servers.insert(worker, id);
        let key: Rc<str> = key.into();
        w.remember_server(id, key.clone());
        st.share(&key);
    }
}
