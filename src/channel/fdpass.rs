//! `sendmsg`/`recvmsg` with SCM_RIGHTS ancillary data, the way libuv passes
//! handles over an IPC pipe, for both of our channels: a worker's IPC
//! channel (one descriptor per message) and the connection channel to a
//! worker that loads rust-cluster (a batch of descriptors per message).

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

use crate::sys::adopt_new_fd;

/// A connected pair of Unix stream sockets, close-on-exec: ours
/// non-blocking (served on the event loop), theirs blocking (for a child,
/// as libuv leaves a child's channel until the child opens it).
pub(crate) fn socket_pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let (ours, theirs) = socket2::Socket::pair(socket2::Domain::UNIX, socket2::Type::STREAM, None)?;
    ours.set_nonblocking(true)?;
    Ok((ours.into(), theirs.into()))
}

/// What each end of a worker's IPC channel asks the kernel to buffer
/// (Linux doubles it, up to twice `net.core.wmem_max`). With the default
/// (212,992 bytes) a 64 KiB message is a third of a socket: a writer found
/// it full every few messages and waited for it to be three quarters free,
/// and Node's worker, answering json 64 KiB messages, woke and slept around
/// its partial writes. Plain workers, json 64 KiB echo, 64 in flight, 4
/// interleaved rounds: 6.6-7.4k round trips/s against 5.0-5.2k with the
/// default (node:cluster 5.3-5.4k), the worker's CPU per round trip 134-151
/// µs against 162-171. The memory is the kernel's, taken only while a side
/// does not read.
pub(crate) const CHANNEL_BUFFER_BYTES: usize = 1024 * 1024;

/// A worker's IPC channel: `socket_pair` with `CHANNEL_BUFFER_BYTES` of
/// send buffer at both ends, as far as the system allows (a refusal leaves
/// its default: the size is for speed only).
pub(crate) fn channel_pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let (ours, theirs) = socket_pair()?;
    for end in [&ours, &theirs] {
        let _ = socket2::SockRef::from(end).set_send_buffer_size(CHANNEL_BUFFER_BYTES);
    }
    Ok((ours, theirs))
}

/// Linux says at once that sending must not raise SIGPIPE; elsewhere Node
/// ignores SIGPIPE in every process anyway.
#[cfg(target_os = "linux")]
const SEND_FLAGS: MsgFlags = MsgFlags::MSG_NOSIGNAL.union(MsgFlags::MSG_DONTWAIT);
#[cfg(not(target_os = "linux"))]
const SEND_FLAGS: MsgFlags = MsgFlags::MSG_DONTWAIT;

/// Linux makes received descriptors close-on-exec as they arrive; elsewhere
/// `recv_with_fds` sets the flag right after.
#[cfg(target_os = "linux")]
const RECV_FLAGS: MsgFlags = MsgFlags::MSG_CMSG_CLOEXEC.union(MsgFlags::MSG_DONTWAIT);
#[cfg(not(target_os = "linux"))]
const RECV_FLAGS: MsgFlags = MsgFlags::MSG_DONTWAIT;

/// Write `data` to the stream socket `sock`, attaching `pass` (if any) as
/// SCM_RIGHTS. Returns how many bytes the kernel took; the descriptors
/// travel with the first byte, so a partial write is finished with plain
/// writes.
pub(crate) fn send_with_fds(
    sock: BorrowedFd<'_>,
    data: &[u8],
    pass: &[BorrowedFd<'_>],
) -> Result<usize, Errno> {
    let iov = [IoSlice::new(data)];
    let fds: Vec<RawFd> = pass.iter().map(AsRawFd::as_raw_fd).collect();
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let cmsgs: &[ControlMessage<'_>] = if fds.is_empty() { &[] } else { &cmsg };
    sendmsg::<()>(sock.as_raw_fd(), &iov, cmsgs, SEND_FLAGS, None)
}

/// One read from the stream socket `sock`, taking at most `max_fds`
/// descriptors (close-on-exec, so no child inherits them by accident), which
/// are appended to `fds`. Returns the byte count (0 at end of stream) and
/// whether ancillary data was truncated, meaning the peer sent more
/// descriptors than we take (the kernel closes the rest).
pub(crate) fn recv_with_fds(
    sock: BorrowedFd<'_>,
    buf: &mut [u8],
    fds: &mut Vec<OwnedFd>,
    max_fds: usize,
) -> Result<(usize, bool), Errno> {
    // Room for the largest batch either channel carries; a peer that sends
    // more has the rest closed by the kernel (MSG_CTRUNC).
    let mut cmsg_space = nix::cmsg_space!([RawFd; 64]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg_space),
        RECV_FLAGS,
    )?;
    let mut truncated = msg.flags.contains(MsgFlags::MSG_CTRUNC);
    let bytes = msg.bytes;
    let before = fds.len();
    if let Ok(cmsgs) = msg.cmsgs() {
        for cmsg in cmsgs {
            if let ControlMessageOwned::ScmRights(received) = cmsg {
                // The kernel has just installed these for this call.
                fds.extend(received.into_iter().map(adopt_new_fd));
                #[cfg(not(target_os = "linux"))]
                for fd in &fds[before..] {
                    let flag = nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC);
                    let _ = nix::fcntl::fcntl(fd, flag);
                }
            }
        }
    }
    if fds.len() - before > max_fds {
        // More than this channel ever carries: a broken peer. Close them.
        truncated = true;
        fds.truncate(before + max_fds);
    }
    Ok((bytes, truncated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    use std::os::fd::AsFd;

    #[test]
    fn a_workers_channel_buffers_more_than_a_plain_pair() {
        let send_buffer = |fd: &OwnedFd| socket2::SockRef::from(fd).send_buffer_size().unwrap();
        let (plain, _) = socket_pair().unwrap();
        let (ours, theirs) = channel_pair().unwrap();
        assert!(send_buffer(&ours) > send_buffer(&plain));
        assert!(send_buffer(&theirs) > send_buffer(&plain));
    }

    fn pair() -> (OwnedFd, OwnedFd) {
        socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::empty(),
        )
        .expect("socketpair")
    }

    #[test]
    fn descriptor_travels_with_its_bytes() {
        let (a, b) = pair();
        let (passed, _keep) = pair();
        let n = send_with_fds(a.as_fd(), b"hello", &[passed.as_fd()]).expect("send");
        assert_eq!(n, 5);
        let mut buf = [0u8; 16];
        let mut fds = Vec::new();
        let (got, truncated) = recv_with_fds(b.as_fd(), &mut buf, &mut fds, 8).expect("recv");
        assert_eq!(&buf[..got], b"hello");
        assert!(!truncated);
        assert_eq!(fds.len(), 1);
        let flags = nix::fcntl::fcntl(&fds[0], nix::fcntl::FcntlArg::F_GETFD).expect("getfd");
        assert_ne!(
            flags & nix::libc::FD_CLOEXEC,
            0,
            "received fds are close-on-exec"
        );
    }

    #[test]
    fn a_batch_of_descriptors_travels_in_one_message() {
        let (a, b) = pair();
        let passed: Vec<(OwnedFd, OwnedFd)> = (0..20).map(|_| pair()).collect();
        let borrowed: Vec<BorrowedFd<'_>> = passed.iter().map(|(p, _)| p.as_fd()).collect();
        send_with_fds(a.as_fd(), b"batch", &borrowed).expect("send");
        let mut buf = [0u8; 16];
        let mut fds = Vec::new();
        let (got, truncated) = recv_with_fds(b.as_fd(), &mut buf, &mut fds, 64).expect("recv");
        assert_eq!((got, truncated, fds.len()), (5, false, 20));
    }

    #[test]
    fn more_descriptors_than_wanted_are_reported_truncated() {
        let (a, b) = pair();
        let passed: Vec<(OwnedFd, OwnedFd)> = (0..12).map(|_| pair()).collect();
        let borrowed: Vec<BorrowedFd<'_>> = passed.iter().map(|(p, _)| p.as_fd()).collect();
        send_with_fds(a.as_fd(), b"x", &borrowed).expect("send");
        let mut buf = [0u8; 4];
        let mut fds = Vec::new();
        let (_, truncated) = recv_with_fds(b.as_fd(), &mut buf, &mut fds, 8).expect("recv");
        assert!(truncated);
        assert!(fds.len() <= 8);
    }

    #[test]
    fn plain_bytes_carry_no_descriptor() {
        let (a, b) = pair();
        send_with_fds(a.as_fd(), b"x", &[]).expect("send");
        let mut buf = [0u8; 4];
        let mut fds = Vec::new();
        let (got, _) = recv_with_fds(b.as_fd(), &mut buf, &mut fds, 8).expect("recv");
        assert_eq!(got, 1);
        assert!(fds.is_empty());
    }

    #[test]
    fn end_of_stream_reads_zero() {
        let (a, b) = pair();
        drop(a);
        let mut buf = [0u8; 4];
        let mut fds = Vec::new();
        assert_eq!(
            recv_with_fds(b.as_fd(), &mut buf, &mut fds, 8)
                .expect("recv")
                .0,
            0
        );
    }
}
