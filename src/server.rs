//! Creating the sockets workers listen on, the way Node's primary does:
//! `net.Server#listen` for round robin (`round_robin_handle.js`),
//! `net._createServerHandle` / `dgram._createSocketHandle` for shared
//! handles (`shared_handle.js`). Failures are libuv errnos (negative).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::sys::socket::{
    bind, getpeername, getsockname, listen, setsockopt, socket, sockopt, AddressFamily, Backlog,
    SockFlag, SockType, SockaddrIn, SockaddrIn6, SockaddrStorage, UnixAddr,
};

use crate::channel::v8::Value;

/// libuv's `UV_TCP_IPV6ONLY` and `UV_UDP_IPV6ONLY`.
const IPV6ONLY_FLAG: u32 = 1;
/// libuv's `UV_UDP_REUSEADDR`.
const UDP_REUSEADDR_FLAG: u32 = 4;
const DEFAULT_BACKLOG: i32 = 511;

/// What kind of server a worker asked for (`addressType` in `queryServer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tcp4,
    Tcp6,
    Pipe,
    Udp4,
    Udp6,
}

/// The fields of a `queryServer` message that decide the socket.
#[derive(Debug, Clone)]
pub struct Query {
    pub address: Option<String>,
    pub port: i64,
    pub kind: Kind,
    pub fd: Option<i32>,
    pub flags: u32,
    pub backlog: Option<i32>,
    pub readable_all: bool,
    pub writable_all: bool,
}

impl Query {
    pub fn from_message(msg: &Value) -> Option<Query> {
        let num = |name: &str| msg.get(name).and_then(Value::as_f64);
        let fd = num("fd").filter(|fd| *fd >= 0.0).map(|fd| fd as i32);
        let kind = match msg.get("addressType") {
            Some(Value::Number(n)) if *n == 4.0 => Kind::Tcp4,
            Some(Value::Number(n)) if *n == 6.0 => Kind::Tcp6,
            Some(Value::Number(n)) if *n == -1.0 => Kind::Pipe,
            Some(Value::String(s)) if s == "udp4" => Kind::Udp4,
            Some(Value::String(s)) if s == "udp6" => Kind::Udp6,
            // listen({ fd }) asks with addressType null: the descriptor
            // tells, as net.Server#listen({ fd }) guesses it in Node's primary.
            _ => fd_kind(fd?)?,
        };
        Some(Query {
            address: msg
                .get("address")
                .and_then(Value::as_str)
                .map(str::to_owned),
            port: num("port").map(|p| p as i64).unwrap_or(0),
            kind,
            fd,
            flags: num("flags").map(|f| f as u32).unwrap_or(0),
            backlog: num("backlog").filter(|b| *b > 0.0).map(|b| b as i32),
            readable_all: msg
                .get("readableAll")
                .map(crate::protocol::truthy)
                .unwrap_or(false),
            writable_all: msg
                .get("writableAll")
                .map(crate::protocol::truthy)
                .unwrap_or(false),
        })
    }

    pub fn is_udp(&self) -> bool {
        matches!(self.kind, Kind::Udp4 | Kind::Udp6)
    }
}

/// The kind of stream socket an inherited descriptor is (`guessHandleType`:
/// TCP or PIPE); None for anything else, which Node's primary cannot listen on.
fn fd_kind(fd: i32) -> Option<Kind> {
    let ty = nix::sys::socket::getsockopt(
        // SAFETY: borrowed only for this getsockopt; a number that is not an
        // open descriptor makes it fail with EBADF and touches nothing.
        &unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) },
        sockopt::SockType,
    )
    .ok()?;
    if ty != SockType::Stream {
        return None;
    }
    let addr: SockaddrStorage = getsockname(fd).ok()?;
    match nix::sys::socket::SockaddrLike::family(&addr)? {
        AddressFamily::Unix => Some(Kind::Pipe),
        AddressFamily::Inet => Some(Kind::Tcp4),
        AddressFamily::Inet6 => Some(Kind::Tcp6),
        _ => None,
    }
}

/// A bound socket and, for Unix sockets, the path to unlink when it closes
/// (libuv unlinks a pipe server's path on close).
pub struct Bound {
    pub fd: OwnedFd,
    pub unlink: Option<PathBuf>,
}

impl AsRawFd for Bound {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

impl Drop for Bound {
    fn drop(&mut self) {
        if let Some(path) = &self.unlink {
            let _ = std::fs::remove_file(path);
        }
    }
}

pub type Errno32 = i32;

fn uv(e: Errno) -> Errno32 {
    -(e as i32)
}

/// The listening socket of a round-robin handle: what
/// `net.createServer().listen({ port, host, ipv6Only, backlog })` or
/// `listen({ path, backlog, readableAll, writableAll })` make in Node's primary.
pub fn listen_round_robin(q: &Query, path: Option<PathBuf>) -> Result<Bound, Errno32> {
    let backlog = q.backlog.unwrap_or(DEFAULT_BACKLOG);
    let bound = match (q.fd, q.kind) {
        (Some(fd), _) => adopt_fd(fd)?,
        (None, Kind::Pipe) => bind_unix(path.unwrap_or_default(), SockType::Stream)?,
        (None, _) => {
            let ipv6_only = q.flags & IPV6ONLY_FLAG != 0;
            match &q.address {
                None => bind_tcp_any(q.port, ipv6_only, false)?,
                Some(host) => bind_tcp(resolve(host, q.port)?, ipv6_only, false)?,
            }
        }
    };
    listen(&bound.fd, Backlog::new(backlog).unwrap_or(Backlog::MAXCONN)).map_err(uv)?;
    if q.kind == Kind::Pipe && (q.readable_all || q.writable_all) {
        chmod_pipe(&bound, q.readable_all, q.writable_all)?;
    }
    Ok(bound)
}

/// A shared handle: bound but not listening; every worker listens on its
/// own copy (`net._createServerHandle`, `dgram._createSocketHandle`).
pub fn bind_shared(q: &Query, path: Option<PathBuf>) -> Result<Bound, Errno32> {
    if let Some(fd) = q.fd {
        return adopt_fd(fd);
    }
    match q.kind {
        Kind::Pipe => bind_unix(path.unwrap_or_default(), SockType::Stream),
        Kind::Tcp4 | Kind::Tcp6 => bind_tcp_server(q, false),
        Kind::Udp4 | Kind::Udp6 => bind_udp(q),
    }
}

/// A TCP server socket for `q` as Node's primary creates one to share.
fn bind_tcp_server(q: &Query, reuse_port: bool) -> Result<Bound, Errno32> {
    let ipv6_only = q.flags & IPV6ONLY_FLAG != 0;
    match &q.address {
        None => bind_tcp_any(q.port, ipv6_only, reuse_port),
        Some(host) if q.kind == Kind::Tcp6 => {
            bind_tcp(resolve(host, q.port)?, ipv6_only, reuse_port)
        }
        // Node's handle.bind() for IPv4 takes no flags.
        Some(host) => bind_tcp(resolve(host, q.port)?, false, reuse_port),
    }
}

/// One of the SO_REUSEPORT sockets of a TCP server (`SCHED_REUSEPORT`):
/// bound as `bind_shared` would, with SO_REUSEPORT, at `addr` once the first
/// socket of the group has picked it.
pub fn bind_reuseport(q: &Query, addr: Option<SocketAddr>) -> Result<Bound, Errno32> {
    match addr {
        Some(addr) => {
            let ipv6_only = q.flags & IPV6ONLY_FLAG != 0 && addr.is_ipv6();
            bind_tcp(addr, ipv6_only, true)
        }
        None => bind_tcp_server(q, true),
    }
}

/// `createServerHandle(null, ...)`: try `[::]` first, fall back to
/// `0.0.0.0` when that fails.
fn bind_tcp_any(port: i64, ipv6_only: bool, reuse_port: bool) -> Result<Bound, Errno32> {
    let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port as u16);
    match bind_tcp(v6, ipv6_only, reuse_port) {
        Ok(b) => Ok(b),
        Err(_) => bind_tcp(
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port as u16),
            false,
            reuse_port,
        ),
    }
}

fn resolve(host: &str, port: i64) -> Result<SocketAddr, Errno32> {
    if !(0..=65535).contains(&port) {
        return Err(uv(Errno::EINVAL));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port as u16));
    }
    (host, port as u16)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or(uv(Errno::EADDRNOTAVAIL))
}

fn new_socket(family: AddressFamily, ty: SockType) -> Result<OwnedFd, Errno32> {
    socket(
        family,
        ty,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )
    .map_err(uv)
}

/// libuv's `uv__tcp_bind`: SO_REUSEADDR always, IPV6_V6ONLY on request;
/// and SO_REUSEPORT for `SCHED_REUSEPORT`.
fn bind_tcp(addr: SocketAddr, ipv6_only: bool, reuse_port: bool) -> Result<Bound, Errno32> {
    let family = if addr.is_ipv6() {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    let fd = new_socket(family, SockType::Stream)?;
    setsockopt(&fd, sockopt::ReuseAddr, &true).map_err(uv)?;
    if reuse_port {
        setsockopt(&fd, sockopt::ReusePort, &true).map_err(uv)?;
    }
    bind_inet(&fd, addr, ipv6_only)?;
    Ok(Bound { fd, unlink: None })
}

fn bind_inet(fd: &OwnedFd, addr: SocketAddr, ipv6_only: bool) -> Result<(), Errno32> {
    match addr {
        SocketAddr::V4(v4) => bind(fd.as_raw_fd(), &SockaddrIn::from(v4)).map_err(uv),
        SocketAddr::V6(v6) => {
            if ipv6_only {
                setsockopt(fd, sockopt::Ipv6V6Only, &true).map_err(uv)?;
            }
            bind(fd.as_raw_fd(), &SockaddrIn6::from(v6)).map_err(uv)
        }
    }
}

fn bind_udp(q: &Query) -> Result<Bound, Errno32> {
    let default = if q.kind == Kind::Udp6 {
        "::"
    } else {
        "0.0.0.0"
    };
    let addr = resolve(q.address.as_deref().unwrap_or(default), q.port)?;
    let family = if addr.is_ipv6() {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    let fd = new_socket(family, SockType::Datagram)?;
    if q.flags & UDP_REUSEADDR_FLAG != 0 {
        setsockopt(&fd, sockopt::ReuseAddr, &true).map_err(uv)?;
    }
    bind_inet(&fd, addr, q.flags & IPV6ONLY_FLAG != 0)?;
    Ok(Bound { fd, unlink: None })
}

fn bind_unix(path: PathBuf, ty: SockType) -> Result<Bound, Errno32> {
    let fd = new_socket(AddressFamily::Unix, ty)?;
    let addr = UnixAddr::new(&path).map_err(uv)?;
    // libuv reports a missing directory as EACCES (uv_pipe_bind).
    bind(fd.as_raw_fd(), &addr).map_err(|e| {
        if e == Errno::ENOENT {
            uv(Errno::EACCES)
        } else {
            uv(e)
        }
    })?;
    Ok(Bound {
        fd,
        unlink: Some(path),
    })
}

/// `listen({ fd })`: a descriptor already open in the primary.
fn adopt_fd(fd: i32) -> Result<Bound, Errno32> {
    let fd = crate::channel::fdpass::duplicate_raw(fd).map_err(uv)?;
    Ok(Bound { fd, unlink: None })
}

/// Whether `readableAll` / `writableAll` set a socket file's mode to just
/// the bits asked for, as libuv 1.51 and later do (the Node 22 and 24 tested
/// here), rather than add them to the mode bind left, as older libuv does
/// (Node 18, 20).
/// Set from JS after the libuv of the Node that loaded us.
static PIPE_CHMOD_EXACT: AtomicBool = AtomicBool::new(false);

pub fn set_pipe_chmod_exact(exact: bool) {
    PIPE_CHMOD_EXACT.store(exact, Ordering::Relaxed);
}

/// libuv's `uv_pipe_chmod`, of the Node that loaded us.
fn chmod_pipe(bound: &Bound, readable: bool, writable: bool) -> Result<(), Errno32> {
    chmod_pipe_as(
        bound,
        readable,
        writable,
        PIPE_CHMOD_EXACT.load(Ordering::Relaxed),
    )
}

fn chmod_pipe_as(
    bound: &Bound,
    readable: bool,
    writable: bool,
    exact: bool,
) -> Result<(), Errno32> {
    let Some(path) = &bound.unlink else {
        return Ok(());
    };
    use std::os::unix::fs::PermissionsExt;
    let os_err = |e: std::io::Error| -e.raw_os_error().unwrap_or(nix::libc::EIO);
    let mut desired = 0;
    if readable {
        desired |= 0o444;
    }
    if writable {
        desired |= 0o222;
    }
    let mode = if exact {
        desired
    } else {
        let mode = std::fs::metadata(path)
            .map_err(os_err)?
            .permissions()
            .mode()
            & 0o7777;
        if mode & desired == desired {
            return Ok(());
        }
        mode | desired
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(os_err)
}

/// The address of a connected socket's peer, if it has an IP address.
pub fn peer_ip(fd: &OwnedFd) -> Option<IpAddr> {
    let addr: SockaddrStorage = getpeername(fd.as_raw_fd()).ok()?;
    if let Some(v4) = addr.as_sockaddr_in() {
        return Some(IpAddr::V4(v4.ip()));
    }
    addr.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
}

/// `handle.getsockname()` as Node reports it: `{ address, family, port }`.
pub fn sockname(fd: &OwnedFd) -> Option<Value> {
    let addr: SockaddrStorage = getsockname(fd.as_fd().as_raw_fd()).ok()?;
    let (ip, port, family) = if let Some(v4) = addr.as_sockaddr_in() {
        (IpAddr::V4(v4.ip()), v4.port(), "IPv4")
    } else if let Some(v6) = addr.as_sockaddr_in6() {
        (IpAddr::V6(v6.ip()), v6.port(), "IPv6")
    } else {
        return None;
    };
    Some(Value::Object(vec![
        ("address".into(), Value::String(ip.to_string())),
        ("family".into(), Value::String(family.into())),
        ("port".into(), Value::Number(f64::from(port))),
    ]))
}

/// A TCP4 `queryServer` with defaults, for tests here and in the schedulers.
#[cfg(test)]
pub(crate) fn tcp_query(address: Option<&str>, port: i64) -> Query {
    Query {
        address: address.map(str::to_owned),
        port,
        kind: Kind::Tcp4,
        fd: None,
        flags: 0,
        backlog: None,
        readable_all: false,
        writable_all: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_listen_reports_sockname() {
        let bound = listen_round_robin(&tcp_query(Some("127.0.0.1"), 0), None).expect("listen");
        let name = sockname(&bound.fd).expect("sockname");
        assert_eq!(
            name.get("address").and_then(Value::as_str),
            Some("127.0.0.1")
        );
        assert_eq!(name.get("family").and_then(Value::as_str), Some("IPv4"));
        assert!(name.get("port").and_then(Value::as_f64).unwrap_or(0.0) > 0.0);
    }

    #[test]
    fn address_in_use_is_a_negative_errno() {
        let first = listen_round_robin(&tcp_query(Some("127.0.0.1"), 0), None).expect("listen");
        let port = sockname(&first.fd)
            .and_then(|n| n.get("port").and_then(Value::as_f64))
            .unwrap_or(0.0);
        let err = listen_round_robin(&tcp_query(Some("127.0.0.1"), port as i64), None).err();
        assert_eq!(err, Some(-(Errno::EADDRINUSE as i32)));
    }

    #[test]
    fn unix_socket_path_is_unlinked_on_drop() {
        let path = std::env::temp_dir().join(format!("rc-test-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut q = tcp_query(None, -1);
        q.kind = Kind::Pipe;
        let bound = listen_round_robin(&q, Some(path.clone())).expect("listen");
        assert!(path.exists());
        drop(bound);
        assert!(!path.exists());
    }

    #[test]
    fn pipe_chmod_follows_libuv() {
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::temp_dir().join(format!("rc-test-chmod-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let bound = bind_unix(path.clone(), SockType::Stream).expect("bind");
        let mode = |p: &PathBuf| {
            std::fs::metadata(p)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0)
        };
        let set = |m: u32| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(m));
        // libuv before 1.51 adds the bits to the mode.
        set(0o700).expect("chmod");
        chmod_pipe_as(&bound, true, false, false).expect("readable");
        assert_eq!(mode(&path), 0o744);
        set(0o755).expect("chmod");
        chmod_pipe_as(&bound, true, true, false).expect("both");
        assert_eq!(mode(&path), 0o777);
        set(0o700).expect("chmod");
        chmod_pipe_as(&bound, false, true, false).expect("writable");
        assert_eq!(mode(&path), 0o722);
        // libuv 1.51 and later sets just the bits asked for.
        set(0o755).expect("chmod");
        chmod_pipe_as(&bound, true, true, true).expect("both");
        assert_eq!(mode(&path), 0o666);
        chmod_pipe_as(&bound, true, false, true).expect("readable");
        assert_eq!(mode(&path), 0o444);
    }
}
