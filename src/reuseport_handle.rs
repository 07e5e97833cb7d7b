//! `SCHED_REUSEPORT`: every worker of a TCP server gets its own
//! SO_REUSEPORT socket for the same address, made by the primary, and the
//! kernel spreads connections over them. Node has no such handle; this is
//! the group of sockets (lib/reuseport_handle.js is the JS side). The
//! primary keeps its copy of each socket so that when a worker leaves it can
//! take the connections still queued in that socket's accept queue (which
//! Linux would reset on close) and hand them to the remaining workers.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use socket2::{Domain, Socket, Type};

use crate::round_robin_handle::{accept_queued, Accepted};

/// Where a group binds, from the worker's `listen()` (`queryServer`).
pub(crate) struct Address {
    /// None: every address, `[::]` if the system has IPv6, else `0.0.0.0`.
    pub(crate) ip: Option<IpAddr>,
    pub(crate) port: u16,
    pub(crate) ipv6_only: bool,
}

/// The sockets of one server key, one per worker.
pub(crate) struct ReusePortGroup {
    address: Address,
    /// Where the first socket bound; later ones bind the same address (and
    /// port, which matters for `listen(0)`).
    bound: Option<SocketAddr>,
    sockets: HashMap<u32, OwnedFd>,
}

impl ReusePortGroup {
    pub(crate) fn new(address: Address) -> Self {
        ReusePortGroup {
            address,
            bound: None,
            sockets: HashMap::new(),
        }
    }

    /// `worker`'s socket (made on first asking, unless `inherited` gives
    /// one: an old worker's, which an upgrade's new primary takes over so
    /// that no socket leaves the group, as closing one resets what the
    /// kernel queued on it); the group keeps it, the caller sends a copy.
    pub(crate) fn socket_for(
        &mut self,
        worker: u32,
        inherited: Option<OwnedFd>,
    ) -> io::Result<RawFd> {
        if let Some(sock) = self.sockets.get(&worker) {
            return Ok(sock.as_raw_fd());
        }
        let sock = match (inherited, self.bound) {
            (Some(fd), _) => Socket::from(fd),
            (None, Some(addr)) => bind(addr, self.address.ipv6_only)?,
            (None, None) => self.bind_first()?,
        };
        if self.bound.is_none() {
            self.bound = sock.local_addr()?.as_socket();
        }
        let fd = OwnedFd::from(sock);
        let raw = fd.as_raw_fd();
        self.sockets.insert(worker, fd);
        Ok(raw)
    }

    fn bind_first(&self) -> io::Result<Socket> {
        let port = self.address.port;
        match self.address.ip {
            Some(ip) => bind(SocketAddr::new(ip, port), self.address.ipv6_only),
            // As Node's createServerHandle(null, ...): `[::]` first, then
            // `0.0.0.0` when that fails.
            None => bind(
                SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
                self.address.ipv6_only,
            )
            .or_else(|_| {
                bind(
                    SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
                    false,
                )
            }),
        }
    }

    /// The worker is done with its socket: take it out of the group and
    /// return the connections still queued on it, for the others. Dropping
    /// it closes our copy.
    pub(crate) fn release(&mut self, worker: u32) -> Vec<Accepted> {
        match self.sockets.remove(&worker) {
            Some(sock) => accept_queued(&sock, false, usize::MAX).0,
            None => Vec::new(),
        }
    }
}

/// A TCP socket bound as libuv binds a server (SO_REUSEADDR, IPV6_V6ONLY on
/// request), plus SO_REUSEPORT; the worker listens on it.
fn bind(addr: SocketAddr, ipv6_only: bool) -> io::Result<Socket> {
    // Close-on-exec, as socket2 makes every socket.
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    sock.set_nonblocking(true)?;
    sock.set_reuse_address(true)?;
    sock.set_reuse_port(true)?;
    if addr.is_ipv6() && ipv6_only {
        sock.set_only_v6(true)?;
    }
    sock.bind(&addr.into())?;
    Ok(sock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpStream;

    fn group(ip: Option<IpAddr>) -> ReusePortGroup {
        ReusePortGroup::new(Address {
            ip,
            port: 0,
            ipv6_only: false,
        })
    }

    fn name(fd: RawFd) -> SocketAddr {
        // SAFETY-free: getsockname through socket2 on a borrowed copy.
        let copy = crate::sys::duplicate_raw(fd).expect("dup");
        Socket::from(copy)
            .local_addr()
            .expect("local_addr")
            .as_socket()
            .expect("inet")
    }

    #[test]
    fn every_worker_gets_its_own_socket_on_the_same_port() {
        let mut g = group(Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        let a = name(g.socket_for(1, None).expect("first socket"));
        let b = name(g.socket_for(2, None).expect("second socket"));
        assert_ne!(a.port(), 0);
        assert_eq!(a, b);
        // Asking again gives the same socket, not a third one.
        assert_eq!(name(g.socket_for(1, None).expect("same socket")), a);
        assert_eq!(g.sockets.len(), 2);
    }

    #[test]
    fn listen_0_on_any_address_shares_one_port() {
        let mut g = group(None);
        let a = name(g.socket_for(1, None).expect("first socket"));
        let b = name(g.socket_for(2, None).expect("second socket"));
        assert_eq!(a, b);
        assert_ne!(a.port(), 0);
    }

    #[test]
    fn an_inherited_socket_is_the_workers_and_sets_the_port() {
        let mut old = group(Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        let addr = name(old.socket_for(1, None).expect("old socket"));
        let copy = crate::sys::duplicate_raw(old.sockets[&1].as_raw_fd()).expect("dup");
        let mut g = group(Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        let fd = g.socket_for(7, Some(copy)).expect("inherited");
        assert_eq!(name(fd), addr);
        // Later sockets bind the inherited one's port (the group's listen(0)).
        assert_eq!(name(g.socket_for(8, None).expect("new socket")), addr);
    }

    #[test]
    fn a_leaving_workers_queue_is_drained() {
        let mut g = group(Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        let fd = g.socket_for(1, None).expect("socket");
        let copy = Socket::from(crate::sys::duplicate_raw(fd).expect("dup"));
        copy.listen(16).expect("listen");
        let addr = name(fd);
        // Nobody accepts: the kernel queues these.
        let clients: Vec<_> = (0..3)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        assert_eq!(g.release(1).len(), clients.len());
        assert!(g.release(1).is_empty());
    }
}
