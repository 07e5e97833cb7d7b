//! The one unsafe corner of the channel: `sendmsg`/`recvmsg` with
//! SCM_RIGHTS ancillary data, the way libuv passes handles over an IPC pipe.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// Most descriptors accepted in one read. libuv sends one per message; more
/// than this in a single read is a misbehaving peer, and the extra ones are
/// closed by the kernel (MSG_CTRUNC) rather than by us.
pub const MAX_FDS_PER_READ: usize = 8;

/// Watch `inner` (a non-blocking socket) for readability with tokio's
/// reactor. Only readability: a stream socket registered for writability
/// too wakes the I/O thread every time the peer reads what we wrote, which
/// is once per message on a busy channel. Writers that find the socket full
/// wait with `wait_writable` instead.
pub fn register<T: AsRawFd>(inner: T) -> std::io::Result<AsyncFd<T>> {
    // SAFETY: `inner` owns its descriptor (an OwnedFd or a type wrapping one)
    // and keeps it open and unreplaced until the AsyncFd, which owns `inner`,
    // is dropped and deregisters it.
    unsafe { AsyncFd::register_with_interest(inner, Interest::READABLE) }.map_err(|e| e.into())
}

/// Wait until `sock` has room for more data: the watch exists only while a
/// write is blocked. It is on a duplicate of the descriptor, as epoll keys a
/// watch by descriptor and `sock` is already watched for readability;
/// registering reports a socket that became writable meanwhile at once.
pub async fn wait_writable(sock: BorrowedFd<'_>) -> std::io::Result<()> {
    let copy = sock.try_clone_to_owned()?;
    // SAFETY: as in `register`: the AsyncFd owns `copy`, which stays open
    // until the AsyncFd is dropped at the end of this function.
    let watch = unsafe { AsyncFd::register_with_interest(copy, Interest::WRITABLE) }
        .map_err(std::io::Error::from)?;
    let _ready = watch.writable().await?;
    Ok(())
}

/// Our own close-on-exec copy of a descriptor someone names by number (JS
/// passing a handle's fd, a worker asking to listen on `{ fd }`).
pub fn duplicate_raw(fd: RawFd) -> Result<OwnedFd, Errno> {
    // SAFETY: F_GETFD only reads the descriptor's flags; on a number that is
    // not an open descriptor it fails with EBADF and touches nothing.
    if unsafe { nix::libc::fcntl(fd, nix::libc::F_GETFD) } == -1 {
        return Err(Errno::last());
    }
    // SAFETY: the descriptor is open (checked above) and is borrowed only for
    // the F_DUPFD_CLOEXEC that follows, which makes our own copy.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    borrowed
        .try_clone_to_owned()
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(0)))
}

/// Write `data` to the stream socket `sock`, attaching `pass` (if any) as
/// SCM_RIGHTS. Returns how many bytes the kernel took; the descriptor travels
/// with the first byte, so a partial write is finished with plain writes.
pub fn send_with_fd(
    sock: BorrowedFd<'_>,
    data: &[u8],
    pass: Option<BorrowedFd<'_>>,
) -> Result<usize, Errno> {
    let iov = [IoSlice::new(data)];
    let fds: [RawFd; 1];
    let cmsg;
    let cmsgs: &[ControlMessage<'_>] = match pass {
        Some(fd) => {
            fds = [fd.as_raw_fd()];
            cmsg = [ControlMessage::ScmRights(&fds)];
            &cmsg
        }
        None => &[],
    };
    sendmsg::<()>(
        sock.as_raw_fd(),
        &iov,
        cmsgs,
        MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT,
        None,
    )
}

/// One read from the stream socket `sock`. Received descriptors are appended
/// to `fds` (close-on-exec, so no child inherits them by accident). Returns
/// the byte count (0 at end of stream) and whether ancillary data was
/// truncated, meaning the peer sent descriptors we could not take.
pub fn recv_with_fds(
    sock: BorrowedFd<'_>,
    buf: &mut [u8],
    fds: &mut Vec<OwnedFd>,
) -> Result<(usize, bool), Errno> {
    let mut cmsg_space = nix::cmsg_space!([RawFd; MAX_FDS_PER_READ]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg_space),
        MsgFlags::MSG_CMSG_CLOEXEC | MsgFlags::MSG_DONTWAIT,
    )?;
    let truncated = msg.flags.contains(MsgFlags::MSG_CTRUNC);
    let bytes = msg.bytes;
    if let Ok(cmsgs) = msg.cmsgs() {
        for cmsg in cmsgs {
            if let ControlMessageOwned::ScmRights(received) = cmsg {
                for raw in received {
                    // SAFETY: the kernel has just installed `raw` in this
                    // process's descriptor table for this recvmsg call;
                    // nothing else knows of it, so taking ownership is sound.
                    fds.push(unsafe { OwnedFd::from_raw_fd(raw) });
                }
            }
        }
    }
    Ok((bytes, truncated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    use std::os::fd::AsFd;

    fn pair() -> (OwnedFd, OwnedFd) {
        socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .expect("socketpair")
    }

    #[test]
    fn descriptor_travels_with_its_bytes() {
        let (a, b) = pair();
        let (passed, _keep) = pair();
        let n = send_with_fd(a.as_fd(), b"hello", Some(passed.as_fd())).expect("send");
        assert_eq!(n, 5);
        let mut buf = [0u8; 16];
        let mut fds = Vec::new();
        let (got, truncated) = recv_with_fds(b.as_fd(), &mut buf, &mut fds).expect("recv");
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
    fn plain_bytes_carry_no_descriptor() {
        let (a, b) = pair();
        send_with_fd(a.as_fd(), b"x", None).expect("send");
        let mut buf = [0u8; 4];
        let mut fds = Vec::new();
        let (got, _) = recv_with_fds(b.as_fd(), &mut buf, &mut fds).expect("recv");
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
            recv_with_fds(b.as_fd(), &mut buf, &mut fds)
                .expect("recv")
                .0,
            0
        );
    }
}
