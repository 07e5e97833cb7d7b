//! SO_REUSEPORT: every worker of a TCP server gets its own listening socket
//! for the same address, made by the primary, and the kernel spreads
//! connections over them. The primary keeps its copy of each socket so that
//! when a worker leaves it can take the connections still queued in that
//! socket's accept queue (which Linux would reset on close) and hand them to
//! the remaining workers. Only the bookkeeping and the sockets live here; the
//! engine sends the connections.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{accept4, getsockname, SockFlag, SockaddrStorage};

use super::WorkerId;
use crate::server::{self, Bound, Errno32, Query};

/// The sockets of one listen key, one per worker.
pub struct ReusePortGroup {
    query: Query,
    /// Where the first socket bound; later ones bind the same address (and
    /// port, which matters for `listen(0)`).
    addr: Option<SocketAddr>,
    sockets: HashMap<WorkerId, Bound>,
}

impl ReusePortGroup {
    pub fn new(query: Query) -> Self {
        ReusePortGroup {
            query,
            addr: None,
            sockets: HashMap::new(),
        }
    }

    /// Whether the policy applies to this query: TCP on an address. Unix
    /// sockets and `listen({ fd })` get a shared handle instead, and UDP
    /// always does.
    pub fn applies_to(query: &Query) -> bool {
        use crate::server::Kind;
        matches!(query.kind, Kind::Tcp4 | Kind::Tcp6) && query.fd.is_none()
    }

    /// A copy of `worker`'s socket to pass to it, made on first asking.
    pub fn socket_for(&mut self, worker: WorkerId) -> Result<OwnedFd, Errno32> {
        if let Some(bound) = self.sockets.get(&worker) {
            return bound.fd.try_clone().map_err(io_errno);
        }
        let bound = server::bind_reuseport(&self.query, self.addr)?;
        if self.addr.is_none() {
            self.addr = local_addr(&bound);
        }
        let copy = bound.fd.try_clone().map_err(io_errno)?;
        self.sockets.insert(worker, bound);
        Ok(copy)
    }

    /// The worker is done with its socket: take it out of the group. The
    /// caller drains it (`drain_accept_queue`) and drops it, which closes it.
    pub fn take(&mut self, worker: WorkerId) -> Option<Bound> {
        self.sockets.remove(&worker)
    }
}

/// Accept everything queued on a listening socket, without waiting.
pub fn drain_accept_queue(listener: &Bound) -> Vec<OwnedFd> {
    let mut out = Vec::new();
    loop {
        match accept4(listener.fd.as_raw_fd(), SockFlag::SOCK_CLOEXEC) {
            // SAFETY: accept4 just created `raw`; nothing else owns it.
            Ok(raw) => out.push(unsafe { OwnedFd::from_raw_fd(raw) }),
            // A client that gave up while queued: skip it.
            Err(Errno::ECONNABORTED | Errno::EINTR) => continue,
            // EAGAIN: the queue is empty (or the socket never listened).
            Err(_) => return out,
        }
    }
}

fn local_addr(bound: &Bound) -> Option<SocketAddr> {
    let addr: SockaddrStorage = getsockname(bound.fd.as_raw_fd()).ok()?;
    if let Some(v4) = addr.as_sockaddr_in() {
        return Some(SocketAddr::from((v4.ip(), v4.port())));
    }
    addr.as_sockaddr_in6()
        .map(|v6| SocketAddr::from((v6.ip(), v6.port())))
}

fn io_errno(e: std::io::Error) -> Errno32 {
    -e.raw_os_error().unwrap_or(nix::libc::EIO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{listen, Backlog};
    use std::net::TcpStream;

    fn query(port: i64) -> Query {
        crate::server::tcp_query(Some("127.0.0.1"), port)
    }

    #[test]
    fn every_worker_gets_its_own_socket_on_the_same_port() {
        let mut group = ReusePortGroup::new(query(0));
        let a = group.socket_for(1).expect("first socket");
        let b = group.socket_for(2).expect("second socket");
        let port = |fd: &OwnedFd| {
            let addr: SockaddrStorage = getsockname(fd.as_raw_fd()).expect("getsockname");
            addr.as_sockaddr_in().map(|v4| v4.port())
        };
        assert_ne!(port(&a), Some(0));
        assert_eq!(port(&a), port(&b));
        // Asking again gives the same socket, not a third one.
        let again = group.socket_for(1).expect("same socket");
        assert_eq!(port(&again), port(&a));
        assert_eq!(group.sockets.len(), 2);
    }

    #[test]
    fn listen_0_on_any_address_shares_one_port() {
        let mut q = query(0);
        q.address = None;
        let mut group = ReusePortGroup::new(q);
        let a = group.socket_for(1).expect("first socket");
        let b = group.socket_for(2).expect("second socket");
        let name = |fd: &OwnedFd| {
            let addr: SockaddrStorage = getsockname(fd.as_raw_fd()).expect("getsockname");
            addr.as_sockaddr_in6()
                .map(|v6| (v6.ip().to_string(), v6.port()))
                .or_else(|| {
                    addr.as_sockaddr_in()
                        .map(|v4| (v4.ip().to_string(), v4.port()))
                })
        };
        assert_eq!(name(&a), name(&b));
        assert_ne!(name(&a).map(|(_, port)| port), Some(0));
    }

    #[test]
    fn a_leaving_workers_queue_is_drained() {
        let mut group = ReusePortGroup::new(query(0));
        let fd = group.socket_for(1).expect("socket");
        listen(&fd, Backlog::new(16).expect("backlog")).expect("listen");
        let addr = {
            let a: SockaddrStorage = getsockname(fd.as_raw_fd()).expect("getsockname");
            let v4 = a.as_sockaddr_in().expect("ipv4");
            SocketAddr::from((v4.ip(), v4.port()))
        };
        // Nobody accepts: the kernel queues these.
        let clients: Vec<_> = (0..3)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        let bound = group.take(1).expect("taken");
        assert_eq!(drain_accept_queue(&bound).len(), clients.len());
        assert!(drain_accept_queue(&bound).is_empty());
        assert!(group.take(1).is_none());
    }
}
