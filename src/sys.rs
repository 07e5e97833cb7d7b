//! The one unsafe corner of rust-cluster. Everything that trusts a raw
//! pointer or a raw descriptor is here, behind safe types:
//! - `Poll` and `Timer`: libuv handles on Node's own event loop, whose
//!   callbacks run Rust on the JS thread without entering V8;
//! - `JsFunction`: entering JavaScript from such a callback the way Node's
//!   own I/O callbacks do (`napi_make_callback`: the nextTick queue and the
//!   microtasks run when it returns, and a throw becomes an uncaught
//!   exception);
//! - descriptors: taking ownership of those the kernel just gave us, and
//!   copying one that JS names by number.
//!
//! libuv's functions are looked up in the host process (Node exports them for
//! addons) when first needed, as napi-sys looks up Node-API's: the unit tests
//! link and run without Node, they just cannot make a `Poll`.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;
use std::rc::Weak;
use std::sync::OnceLock;

use napi::sys;
use nix::errno::Errno;

type RawHandle = c_void;
type PollCb = unsafe extern "C" fn(*mut RawHandle, c_int, c_int);
type TimerCb = unsafe extern "C" fn(*mut RawHandle);
type CloseCb = unsafe extern "C" fn(*mut RawHandle);

/// libuv's `uv_handle_type` values for the handles we make.
const UV_CHECK: c_int = 2;
const UV_POLL: c_int = 8;
const UV_PREPARE: c_int = 9;
const UV_TIMER: c_int = 13;
const UV_READABLE: c_int = 1;
const UV_WRITABLE: c_int = 2;
/// The peer hung up (EPOLLRDHUP), asked for with every readable watch
/// where the host's libuv reads a hung-up stream to its end (below).
const UV_DISCONNECT: c_int = 4;

type HandleSizeFn = unsafe extern "C" fn(c_int) -> usize;
type InitFn = unsafe extern "C" fn(*mut sys::uv_loop_s, *mut RawHandle) -> c_int;
type PollInitFn = unsafe extern "C" fn(*mut sys::uv_loop_s, *mut RawHandle, c_int) -> c_int;
type PollStartFn = unsafe extern "C" fn(*mut RawHandle, c_int, PollCb) -> c_int;
type TimerStartFn = unsafe extern "C" fn(*mut RawHandle, TimerCb, u64, u64) -> c_int;
type HookStartFn = unsafe extern "C" fn(*mut RawHandle, TimerCb) -> c_int;
type StopFn = unsafe extern "C" fn(*mut RawHandle) -> c_int;
type CloseFn = unsafe extern "C" fn(*mut RawHandle, CloseCb);
type RefFn = unsafe extern "C" fn(*mut RawHandle);
type VersionFn = unsafe extern "C" fn() -> std::ffi::c_uint;
type SetDataFn = unsafe extern "C" fn(*mut RawHandle, *mut c_void);
type GetDataFn = unsafe extern "C" fn(*const RawHandle) -> *mut c_void;

/// The libuv functions we call, from the host process.
struct Uv {
    handle_size: HandleSizeFn,
    poll_init: PollInitFn,
    poll_start: PollStartFn,
    poll_stop: StopFn,
    timer_init: InitFn,
    timer_start: TimerStartFn,
    timer_stop: StopFn,
    prepare_init: InitFn,
    prepare_start: HookStartFn,
    check_init: InitFn,
    check_start: HookStartFn,
    close: CloseFn,
    handle_ref: RefFn,
    handle_unref: RefFn,
    set_data: SetDataFn,
    get_data: GetDataFn,
    /// Whether a stream that hung up after a short read is read to its end
    /// in the same turn of the loop: libuv up to 1.51 (Node 18-22) does, on
    /// POLLHUP; Node 24's 1.52 leaves the end for a later turn, after the
    /// exit of a worker that the same turn brings. Channels follow the host,
    /// so a worker's 'disconnect' and 'exit' come in node:cluster's order.
    hangup_ends_read: bool,
}

fn lookup(name: &CStr) -> Option<*mut c_void> {
    // SAFETY: dlsym with RTLD_DEFAULT only reads the loaded images' symbol
    // tables; `name` is a valid C string.
    let found = unsafe { nix::libc::dlsym(nix::libc::RTLD_DEFAULT, name.as_ptr()) };
    (!found.is_null()).then_some(found)
}

macro_rules! uv_fn {
    ($name:literal, $ty:ty) => {{
        let found = lookup($name)?;
        // SAFETY: the symbol is libuv's exported function of that name, whose
        // C signature is `$ty` (libuv's uv.h, stable across the libuv 1.x
        // versions Node 18-24 ship).
        unsafe { std::mem::transmute::<*mut c_void, $ty>(found) }
    }};
}

fn uv() -> io::Result<&'static Uv> {
    static UV: OnceLock<Option<Uv>> = OnceLock::new();
    UV.get_or_init(|| {
        let version = uv_fn!(c"uv_version", VersionFn);
        Some(Uv {
            handle_size: uv_fn!(c"uv_handle_size", HandleSizeFn),
            poll_init: uv_fn!(c"uv_poll_init", PollInitFn),
            poll_start: uv_fn!(c"uv_poll_start", PollStartFn),
            poll_stop: uv_fn!(c"uv_poll_stop", StopFn),
            timer_init: uv_fn!(c"uv_timer_init", InitFn),
            timer_start: uv_fn!(c"uv_timer_start", TimerStartFn),
            timer_stop: uv_fn!(c"uv_timer_stop", StopFn),
            prepare_init: uv_fn!(c"uv_prepare_init", InitFn),
            prepare_start: uv_fn!(c"uv_prepare_start", HookStartFn),
            check_init: uv_fn!(c"uv_check_init", InitFn),
            check_start: uv_fn!(c"uv_check_start", HookStartFn),
            close: uv_fn!(c"uv_close", CloseFn),
            handle_ref: uv_fn!(c"uv_ref", RefFn),
            handle_unref: uv_fn!(c"uv_unref", RefFn),
            set_data: uv_fn!(c"uv_handle_set_data", SetDataFn),
            get_data: uv_fn!(c"uv_handle_get_data", GetDataFn),
            // SAFETY: uv_version takes nothing and returns the version number.
            hangup_ends_read: unsafe { version() } < 0x01_34_00,
        })
    })
    .as_ref()
    .ok_or_else(|| io::Error::other("libuv is not in this process (not running in Node?)"))
}

/// Whether the host's libuv reads a stream that hung up to its end in the
/// turn of its last bytes (see `Uv::hangup_ends_read`); true outside Node.
pub(crate) fn hangup_ends_read() -> bool {
    uv().map_or(true, |uv| uv.hangup_ends_read)
}

/// CPUs this process may run on (its affinity, a cgroup's CPU quota); 1
/// when that cannot be known.
pub(crate) fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Node's libuv loop for the current environment. Only usable on the JS
/// thread, which every method of the N-API objects runs on.
#[derive(Clone, Copy)]
pub(crate) struct EventLoop(*mut sys::uv_loop_s);

impl EventLoop {
    pub(crate) fn of(env: &napi::Env) -> napi::Result<EventLoop> {
        env.get_uv_event_loop().map(EventLoop)
    }
}

/// What a poll handle saw.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ready {
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    /// The peer has closed its end: what is left to read ends in EOF.
    pub(crate) hangup: bool,
    /// libuv reported an error on the descriptor (a negative errno).
    pub(crate) error: Option<i32>,
}

enum Callback {
    Poll(Box<dyn FnMut(Ready)>),
    Timer(Box<dyn FnMut()>),
}

/// What a handle's `data` points to; freed in the close callback, never
/// before, so a callback may close its own handle.
struct HandleData {
    callback: Callback,
    layout: Layout,
}

/// A libuv handle we allocated; closing it (on drop) frees it once libuv is
/// done with it.
struct Handle {
    raw: *mut RawHandle,
    uv: &'static Uv,
}

impl Handle {
    fn new(
        kind: c_int,
        callback: Callback,
        init: impl FnOnce(&Uv, *mut RawHandle) -> c_int,
    ) -> io::Result<Handle> {
        let uv = uv()?;
        // SAFETY: uv_handle_size takes any handle type value.
        let size = unsafe { (uv.handle_size)(kind) };
        let layout = Layout::from_size_align(size.max(1), 16).map_err(io::Error::other)?;
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { alloc_zeroed(layout) } as *mut RawHandle;
        if raw.is_null() {
            return Err(io::ErrorKind::OutOfMemory.into());
        }
        let rc = init(uv, raw);
        if rc != 0 {
            // SAFETY: init failed, so libuv holds no reference to `raw`,
            // which we allocated with `layout` just above.
            unsafe { dealloc(raw as *mut u8, layout) };
            return Err(io::Error::from_raw_os_error(-rc));
        }
        let data = Box::into_raw(Box::new(HandleData { callback, layout }));
        // SAFETY: `raw` is an initialized handle; data is ours until on_close.
        unsafe { (uv.set_data)(raw, data as *mut c_void) };
        Ok(Handle { raw, uv })
    }

    fn set_ref(&self, on: bool) {
        // SAFETY: `raw` is a live handle (closed only in drop).
        unsafe {
            if on {
                (self.uv.handle_ref)(self.raw)
            } else {
                (self.uv.handle_unref)(self.raw)
            }
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: `raw` is live and not yet closing; libuv stops it now and
        // calls on_close later, which frees it.
        unsafe { (self.uv.close)(self.raw, on_close) };
    }
}

unsafe extern "C" fn on_close(raw: *mut RawHandle) {
    let Ok(uv) = uv() else { return };
    // SAFETY: `data` was set by Handle::new from Box::into_raw and is taken
    // back exactly once, here, after which libuv never touches `raw` again.
    unsafe {
        let data = Box::from_raw((uv.get_data)(raw) as *mut HandleData);
        let layout = data.layout;
        drop(data);
        dealloc(raw as *mut u8, layout);
    }
}

/// Runs a handle's callback. A panic there is a bug of ours; it must not
/// unwind into libuv, so it is reported and swallowed (the callbacks that can
/// leave state half-done guard themselves, see channel/mod.rs).
unsafe fn run_callback(raw: *mut RawHandle, run: impl FnOnce(&mut Callback)) {
    let Ok(uv) = uv() else { return };
    // SAFETY: `data` stays valid until on_close, which libuv runs only
    // after the last callback; callbacks never nest.
    let data = unsafe { &mut *((uv.get_data)(raw) as *mut HandleData) };
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&mut data.callback)));
    if let Err(payload) = ran {
        eprintln!(
            "rust-cluster: internal error in an event callback: {}",
            panic_message(&*payload)
        );
    }
}

unsafe extern "C" fn on_poll(raw: *mut RawHandle, status: c_int, events: c_int) {
    let ready = Ready {
        readable: events & UV_READABLE != 0,
        writable: events & UV_WRITABLE != 0,
        hangup: events & UV_DISCONNECT != 0,
        error: (status < 0).then_some(status),
    };
    // SAFETY: called by libuv for a live poll handle made by Poll::new.
    unsafe {
        run_callback(raw, |cb| {
            if let Callback::Poll(f) = cb {
                f(ready)
            }
        })
    };
}

unsafe extern "C" fn on_timer(raw: *mut RawHandle) {
    // SAFETY: called by libuv for a live timer handle made by Timer::new.
    unsafe {
        run_callback(raw, |cb| {
            if let Callback::Timer(f) = cb {
                f()
            }
        })
    };
}

pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "panic"
    }
}

/// A descriptor watched by Node's event loop. The callback runs on the JS
/// thread when the descriptor is ready for what `watch` asked. Close the
/// descriptor only after dropping the poll.
pub(crate) struct Poll {
    handle: Handle,
    events: Cell<c_int>,
}

impl Poll {
    pub(crate) fn new(
        event_loop: EventLoop,
        fd: BorrowedFd<'_>,
        on_ready: impl FnMut(Ready) + 'static,
    ) -> io::Result<Poll> {
        let fd = fd.as_raw_fd();
        let handle = Handle::new(UV_POLL, Callback::Poll(Box::new(on_ready)), |uv, raw| {
            // SAFETY: `raw` is zeroed memory of uv_poll_t's size; the loop is
            // Node's, alive as long as the environment.
            unsafe { (uv.poll_init)(event_loop.0, raw, fd) }
        })?;
        Ok(Poll {
            handle,
            events: Cell::new(0),
        })
    }

    /// A poll whose callback goes to `owner` while it lives. A panic in
    /// `on_ready` ends the owner (`on_panic`) instead of leaving it
    /// half-updated for the next callback.
    pub(crate) fn for_owner<T: 'static>(
        event_loop: EventLoop,
        fd: BorrowedFd<'_>,
        owner: Weak<T>,
        on_ready: fn(&T, Ready),
        on_panic: fn(&T),
    ) -> io::Result<Poll> {
        Poll::new(event_loop, fd, move |ready| {
            if let Some(owner) = owner.upgrade() {
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    on_ready(&owner, ready)
                }));
                if ran.is_err() {
                    on_panic(&owner);
                }
            }
        })
    }

    /// Be called when the descriptor is readable and/or writable; neither
    /// stops watching.
    pub(crate) fn watch(&self, readable: bool, writable: bool) {
        let hangup = if self.handle.uv.hangup_ends_read {
            UV_DISCONNECT
        } else {
            0
        };
        let events = if readable { UV_READABLE | hangup } else { 0 }
            | if writable { UV_WRITABLE } else { 0 };
        if events == self.events.get() {
            return;
        }
        self.events.set(events);
        let uv = self.handle.uv;
        // SAFETY: the handle is live; on_poll matches uv_poll_cb.
        let rc = unsafe {
            if events == 0 {
                (uv.poll_stop)(self.handle.raw)
            } else {
                (uv.poll_start)(self.handle.raw, events, on_poll)
            }
        };
        if rc != 0 {
            eprintln!(
                "rust-cluster: cannot watch a descriptor: {}",
                io::Error::from_raw_os_error(-rc)
            );
        }
    }

    /// Whether this handle keeps Node's event loop alive (it does by default,
    /// while watching).
    pub(crate) fn set_ref(&self, on: bool) {
        self.handle.set_ref(on);
    }
}

/// A libuv timer on Node's event loop; it never keeps the loop alive.
pub(crate) struct Timer {
    handle: Handle,
}

impl Timer {
    pub(crate) fn new(event_loop: EventLoop, on_fire: impl FnMut() + 'static) -> io::Result<Timer> {
        let handle = Handle::new(UV_TIMER, Callback::Timer(Box::new(on_fire)), |uv, raw| {
            // SAFETY: as in Poll::new.
            unsafe { (uv.timer_init)(event_loop.0, raw) }
        })?;
        handle.set_ref(false);
        Ok(Timer { handle })
    }

    /// Fire after `millis`, then every `repeat` ms (0: once).
    pub(crate) fn start(&self, millis: u64, repeat: u64) {
        // SAFETY: the handle is live; on_timer matches uv_timer_cb.
        unsafe { (self.handle.uv.timer_start)(self.handle.raw, on_timer, millis, repeat) };
    }

    pub(crate) fn stop(&self) {
        // SAFETY: the handle is live.
        unsafe { (self.handle.uv.timer_stop)(self.handle.raw) };
    }
}

/// When a `Hook` runs in each turn of the event loop.
#[derive(Clone, Copy)]
pub(crate) enum Phase {
    /// Right before the loop polls for I/O (and may sleep).
    BeforePoll,
    /// Right after the poll phase's callbacks.
    AfterPoll,
}

/// A libuv prepare or check handle: `on_turn` runs in every turn of Node's
/// event loop, at `phase`, until dropped. It never keeps the loop alive.
pub(crate) struct Hook {
    _handle: Handle,
}

impl Hook {
    pub(crate) fn new(
        event_loop: EventLoop,
        phase: Phase,
        on_turn: impl FnMut() + 'static,
    ) -> io::Result<Hook> {
        let kind = match phase {
            Phase::BeforePoll => UV_PREPARE,
            Phase::AfterPoll => UV_CHECK,
        };
        let handle = Handle::new(kind, Callback::Timer(Box::new(on_turn)), |uv, raw| {
            let init = match phase {
                Phase::BeforePoll => uv.prepare_init,
                Phase::AfterPoll => uv.check_init,
            };
            // SAFETY: as in Poll::new.
            unsafe { init(event_loop.0, raw) }
        })?;
        let uv = handle.uv;
        let start = match phase {
            Phase::BeforePoll => uv.prepare_start,
            Phase::AfterPoll => uv.check_start,
        };
        // SAFETY: the handle is live; on_timer matches uv_prepare_cb and
        // uv_check_cb (both take the handle only) and runs Callback::Timer.
        let rc = unsafe { start(handle.raw, on_timer) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(-rc));
        }
        handle.set_ref(false);
        Ok(Hook { _handle: handle })
    }
}

/// Memory shared with another process: a memfd's pages, mapped. The other
/// side may write any part of it at any time, so nothing here hands out a
/// reference into it: words are read and written atomically, bytes are
/// copied in and out, always within bounds.
pub(crate) struct SharedMemory {
    base: ptr::NonNull<c_void>,
    len: usize,
}

impl SharedMemory {
    /// A new zeroed region of `len` bytes, and the memfd to give the other
    /// side.
    #[cfg(target_os = "linux")]
    pub(crate) fn create(len: usize) -> io::Result<(SharedMemory, OwnedFd)> {
        let fd = nix::sys::memfd::memfd_create(
            c"rust-cluster-ring",
            nix::sys::memfd::MFdFlags::MFD_CLOEXEC,
        )?;
        nix::unistd::ftruncate(&fd, len as nix::libc::off_t)?;
        let map = SharedMemory::map(&fd, len)?;
        Ok((map, fd))
    }

    /// Without memfds, no shared channel: workers keep the socket.
    #[cfg(not(target_os = "linux"))]
    pub(crate) fn create(_len: usize) -> io::Result<(SharedMemory, OwnedFd)> {
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Map `len` bytes of the memfd `fd`, which must be exactly that long.
    pub(crate) fn map(fd: &OwnedFd, len: usize) -> io::Result<SharedMemory> {
        let size = nix::sys::stat::fstat(fd)?.st_size;
        let wanted = std::num::NonZeroUsize::new(len).ok_or(io::ErrorKind::InvalidInput)?;
        if usize::try_from(size).ok() != Some(len) {
            return Err(io::ErrorKind::InvalidInput.into());
        }
        use nix::sys::mman::{MapFlags, ProtFlags};
        // SAFETY: a fresh shared mapping of the whole file, placed by the
        // kernel (no address hint), so it aliases none of our memory; the
        // file is exactly `len` bytes, so every page is backed.
        let base = unsafe {
            nix::sys::mman::mmap(
                None,
                wanted,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                fd,
                0,
            )
        }?;
        Ok(SharedMemory { base, len })
    }

    /// The 8-byte word at `offset` (a multiple of 8, within the region).
    pub(crate) fn word(&self, offset: usize) -> &std::sync::atomic::AtomicU64 {
        assert!(
            offset.is_multiple_of(8) && offset + 8 <= self.len,
            "word out of bounds"
        );
        // SAFETY: in bounds and 8-aligned (the mapping is page-aligned);
        // AtomicU64 has u64's layout, and every access through it is atomic,
        // so the other process writing the word concurrently is no data race.
        unsafe {
            &*(self.base.as_ptr().cast::<u8>().add(offset) as *const std::sync::atomic::AtomicU64)
        }
    }

    /// Copy `data` in at `offset`.
    pub(crate) fn write(&self, offset: usize, data: &[u8]) {
        assert!(
            offset <= self.len && data.len() <= self.len - offset,
            "write out of bounds"
        );
        // SAFETY: the range is within the mapping, which `data` (our own
        // memory) cannot overlap; the ring's protocol keeps the other side
        // off these bytes until we publish them.
        unsafe {
            ptr::copy_nonoverlapping(
                data.as_ptr(),
                self.base.as_ptr().cast::<u8>().add(offset),
                data.len(),
            )
        };
    }

    /// Copy `out.len()` bytes out from `offset`.
    pub(crate) fn read(&self, offset: usize, out: &mut [u8]) {
        assert!(
            offset <= self.len && out.len() <= self.len - offset,
            "read out of bounds"
        );
        // SAFETY: as in `write`; a misbehaving other side can at worst
        // change the bytes we copy, which the decoder then checks.
        unsafe {
            ptr::copy_nonoverlapping(
                self.base.as_ptr().cast::<u8>().add(offset),
                out.as_mut_ptr(),
                out.len(),
            )
        };
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`, unmapped once; no reference
        // into it outlives `self` (`word` borrows `self`).
        let _ = unsafe { nix::sys::mman::munmap(self.base, self.len) };
    }
}

/// A JS function that Rust calls from libuv callbacks, as Node calls its own
/// I/O callbacks: through `napi_make_callback` with an async context, so the
/// nextTick queue and the microtasks run after it and a throw is reported as
/// an uncaught exception.
pub(crate) struct JsFunction {
    env: sys::napi_env,
    func: sys::napi_ref,
    context: sys::napi_async_context,
}

/// Builds arguments inside a handle scope.
pub(crate) struct Scope {
    env: sys::napi_env,
}

/// A JS value, valid inside its `Scope`.
#[derive(Clone, Copy)]
pub(crate) struct Value(sys::napi_value);

fn check(status: sys::napi_status) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::new(
            napi::Status::from(status),
            "N-API call failed",
        ))
    }
}

impl JsFunction {
    pub(crate) fn new(
        env: &napi::Env,
        func: sys::napi_value,
        name: &str,
    ) -> napi::Result<JsFunction> {
        let env = env.raw();
        let mut func_ref = ptr::null_mut();
        let mut resource = ptr::null_mut();
        let mut context = ptr::null_mut();
        // SAFETY: `env` is the live environment of the calling N-API method
        // and `func` a value of its current scope.
        unsafe {
            check(sys::napi_create_reference(env, func, 1, &mut func_ref))?;
            check(sys::napi_create_string_utf8(
                env,
                name.as_ptr() as *const c_char,
                name.len() as isize,
                &mut resource,
            ))?;
            check(sys::napi_async_init(
                env,
                ptr::null_mut(),
                resource,
                &mut context,
            ))?;
        }
        Ok(JsFunction {
            env,
            func: func_ref,
            context,
        })
    }

    /// Call the function with the arguments `args` builds, and read its
    /// result with `read`. Call only from a libuv callback (the top of the JS
    /// thread's stack), never while Rust state is borrowed: the JS may call
    /// back into the engine. `None` when the call threw (the exception has
    /// gone to `uncaughtException`) or failed.
    pub(crate) fn call<R>(
        &self,
        args: impl FnOnce(&Scope) -> napi::Result<Vec<Value>>,
        read: impl FnOnce(&Scope, Value) -> R,
    ) -> Option<R> {
        let env = self.env;
        let mut scope = ptr::null_mut();
        // SAFETY: `env` is the environment this function was made in; we are
        // on its JS thread (libuv callbacks run there).
        if unsafe { sys::napi_open_handle_scope(env, &mut scope) } != sys::Status::napi_ok {
            return None;
        }
        let s = Scope { env };
        let result = (|| {
            let argv: Vec<sys::napi_value> = args(&s).ok()?.into_iter().map(|v| v.0).collect();
            let mut func = ptr::null_mut();
            let mut recv = ptr::null_mut();
            let mut result = ptr::null_mut();
            // SAFETY: the reference is alive (deleted only in drop); argv
            // holds values of the open scope.
            let status = unsafe {
                sys::napi_get_reference_value(env, self.func, &mut func);
                sys::napi_get_global(env, &mut recv);
                sys::napi_make_callback(
                    env,
                    self.context,
                    recv,
                    func,
                    argv.len(),
                    argv.as_ptr(),
                    &mut result,
                )
            };
            if status == sys::Status::napi_ok {
                return Some(read(&s, Value(result)));
            }
            let mut pending = false;
            // SAFETY: as above; the exception value belongs to the scope.
            unsafe {
                sys::napi_is_exception_pending(env, &mut pending);
                if pending {
                    let mut error = ptr::null_mut();
                    sys::napi_get_and_clear_last_exception(env, &mut error);
                    sys::napi_fatal_exception(env, error);
                }
            }
            None
        })();
        // SAFETY: closes the scope opened above.
        unsafe { sys::napi_close_handle_scope(env, scope) };
        result
    }
}

/// A Buffer JS made for the engine to hand it the bytes of reads: a read
/// that fits is copied into it instead of into a new Buffer, each of which
/// costs V8 an ArrayBuffer to track and free after every young-generation
/// collection (a task on a helper thread, so a wake-up of the primary's).
pub(crate) struct SharedBuffer {
    env: sys::napi_env,
    buffer: sys::napi_ref,
}

impl SharedBuffer {
    /// None when `value` is not a Buffer.
    pub(crate) fn new(
        env: &napi::Env,
        value: sys::napi_value,
    ) -> napi::Result<Option<SharedBuffer>> {
        let env = env.raw();
        let mut is_buffer = false;
        let mut buffer = ptr::null_mut();
        // SAFETY: `env` is the live environment of the calling N-API method
        // and `value` a value of its current scope.
        unsafe {
            check(sys::napi_is_buffer(env, value, &mut is_buffer))?;
            if !is_buffer {
                return Ok(None);
            }
            check(sys::napi_create_reference(env, value, 1, &mut buffer))?;
        }
        Ok(Some(SharedBuffer { env, buffer }))
    }
}

impl Drop for SharedBuffer {
    fn drop(&mut self) {
        // SAFETY: as JsFunction's drop.
        unsafe { sys::napi_delete_reference(self.env, self.buffer) };
    }
}

impl Drop for JsFunction {
    fn drop(&mut self) {
        // SAFETY: dropped on the JS thread with its environment (the owning
        // N-API object's finalizer), so both handles are still valid.
        unsafe {
            sys::napi_delete_reference(self.env, self.func);
            sys::napi_async_destroy(self.env, self.context);
        }
    }
}

impl Scope {
    fn make(
        &self,
        f: impl FnOnce(*mut sys::napi_value) -> sys::napi_status,
    ) -> napi::Result<Value> {
        let mut value = ptr::null_mut();
        check(f(&mut value))?;
        Ok(Value(value))
    }

    pub(crate) fn undefined(&self) -> napi::Result<Value> {
        // SAFETY: the scope's env is live on this thread.
        self.make(|out| unsafe { sys::napi_get_undefined(self.env, out) })
    }

    pub(crate) fn int(&self, n: i32) -> napi::Result<Value> {
        // SAFETY: as above.
        self.make(|out| unsafe { sys::napi_create_int32(self.env, n, out) })
    }

    /// A string from UTF-8 bytes; invalid sequences become U+FFFD, as
    /// Node's channel decodes them.
    pub(crate) fn utf8(&self, bytes: &[u8]) -> napi::Result<Value> {
        // SAFETY: as above; the pointer and length describe `bytes`.
        self.make(|out| unsafe {
            sys::napi_create_string_utf8(
                self.env,
                bytes.as_ptr() as *const c_char,
                bytes.len() as isize,
                out,
            )
        })
    }

    /// A Buffer holding a copy of `bytes`.
    pub(crate) fn buffer(&self, bytes: &[u8]) -> napi::Result<Value> {
        let mut data = ptr::null_mut();
        // SAFETY: as above; napi copies `bytes`.
        self.make(|out| unsafe {
            sys::napi_create_buffer_copy(
                self.env,
                bytes.len(),
                bytes.as_ptr() as *const c_void,
                &mut data,
                out,
            )
        })
    }

    /// `bytes` copied to the start of `shared`, and their length as a
    /// number; None when they do not fit.
    pub(crate) fn fill(&self, shared: &SharedBuffer, bytes: &[u8]) -> napi::Result<Option<Value>> {
        let Ok(length) = i32::try_from(bytes.len()) else {
            return Ok(None);
        };
        let mut buffer = ptr::null_mut();
        let mut data = ptr::null_mut();
        let mut size = 0;
        // SAFETY: the reference is alive (deleted only in drop) and made in
        // this environment; napi_get_buffer_info fails (and touches
        // nothing) unless the value is a Buffer.
        unsafe {
            check(sys::napi_get_reference_value(
                self.env,
                shared.buffer,
                &mut buffer,
            ))?;
            check(sys::napi_get_buffer_info(
                self.env, buffer, &mut data, &mut size,
            ))?;
        }
        if bytes.len() > size {
            return Ok(None);
        }
        if !bytes.is_empty() {
            // SAFETY: napi says `data` holds `size` >= `bytes.len()` bytes,
            // owned by the Buffer the reference keeps alive; no JS runs
            // while we copy, and `bytes` is Rust's own memory.
            unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), data as *mut u8, bytes.len()) };
        }
        self.int(length).map(Some)
    }

    /// An array of `values`.
    pub(crate) fn array(&self, values: &[Value]) -> napi::Result<Value> {
        // SAFETY: as above.
        let array = self.make(|out| unsafe {
            sys::napi_create_array_with_length(self.env, values.len(), out)
        })?;
        for (i, value) in values.iter().enumerate() {
            // SAFETY: as above; both values belong to this scope.
            check(unsafe { sys::napi_set_element(self.env, array.0, i as u32, value.0) })?;
        }
        Ok(array)
    }

    /// An Int32Array holding a copy of `numbers`.
    pub(crate) fn int32_array(&self, numbers: &[i32]) -> napi::Result<Value> {
        let bytes = std::mem::size_of_val(numbers);
        let mut data: *mut c_void = ptr::null_mut();
        // SAFETY: as above; the new ArrayBuffer has `bytes` bytes at `data`,
        // which we fill before anything else can see it.
        let buffer = self
            .make(|out| unsafe { sys::napi_create_arraybuffer(self.env, bytes, &mut data, out) })?;
        if bytes > 0 {
            // SAFETY: `data` points to `bytes` writable bytes.
            unsafe {
                ptr::copy_nonoverlapping(numbers.as_ptr() as *const u8, data as *mut u8, bytes)
            };
        }
        // SAFETY: as above.
        self.make(|out| unsafe {
            sys::napi_create_typedarray(
                self.env,
                sys::TypedarrayType::int32_array,
                numbers.len(),
                buffer.0,
                0,
                out,
            )
        })
    }

    /// The bytes of a typed array or Buffer `value`, if it is one.
    pub(crate) fn bytes_of(&self, value: Value) -> Option<Vec<u8>> {
        let mut is_typed = false;
        // SAFETY: as above; `value` belongs to this scope.
        unsafe { sys::napi_is_typedarray(self.env, value.0, &mut is_typed) };
        if !is_typed {
            return None;
        }
        let mut kind = 0;
        let mut length = 0;
        let mut data = ptr::null_mut();
        let mut buffer = ptr::null_mut();
        let mut offset = 0;
        // SAFETY: as above.
        let status = unsafe {
            sys::napi_get_typedarray_info(
                self.env,
                value.0,
                &mut kind,
                &mut length,
                &mut data,
                &mut buffer,
                &mut offset,
            )
        };
        if status != sys::Status::napi_ok || kind != sys::TypedarrayType::uint8_array {
            return None;
        }
        if length == 0 {
            return Some(Vec::new());
        }
        // SAFETY: napi says `data` holds `length` bytes, alive in this scope.
        Some(unsafe { std::slice::from_raw_parts(data as *const u8, length) }.to_vec())
    }
}

/// The first `length` bytes of the Buffer (or other Uint8Array) `value`, for
/// `f`, without copying; None when `value` is not one or is shorter. Valid
/// only during the N-API call that received `value`, which `f` runs in.
pub(crate) fn with_buffer<R>(
    env: &napi::Env,
    value: sys::napi_value,
    length: usize,
    f: impl FnOnce(&[u8]) -> R,
) -> Option<R> {
    let mut data = ptr::null_mut();
    let mut size = 0;
    // SAFETY: `env` and `value` belong to the N-API call in progress;
    // napi_get_buffer_info fails (and touches nothing) unless `value` is a
    // Buffer or Uint8Array.
    let status = unsafe { sys::napi_get_buffer_info(env.raw(), value, &mut data, &mut size) };
    if status != sys::Status::napi_ok || length > size {
        return None;
    }
    if length == 0 {
        return Some(f(&[]));
    }
    // SAFETY: napi says `data` holds `size` >= `length` bytes, owned by
    // `value`, which stays alive (and JS cannot run) until this call returns.
    Some(f(unsafe {
        std::slice::from_raw_parts(data as *const u8, length)
    }))
}

/// Take ownership of a descriptor the kernel has just installed for us
/// (accept, recvmsg with SCM_RIGHTS, socketpair). Only for those: the caller
/// guarantees nothing else owns `raw`.
pub(crate) fn adopt_new_fd(raw: RawFd) -> OwnedFd {
    // SAFETY: per the contract above, `raw` is a fresh descriptor that no
    // other owner knows of.
    unsafe { OwnedFd::from_raw_fd(raw) }
}

/// Write `data` to a descriptor JS names by number and owns (a worker's IPC
/// channel, which Node keeps open while connected), without copying it.
pub(crate) fn write_to_raw(fd: RawFd, data: &[u8]) -> Result<usize, Errno> {
    // SAFETY: `data` is a valid buffer of `data.len()` bytes; write(2) on a
    // number that is not (or no longer) the channel fails with EBADF or
    // writes to that descriptor, which touches none of our memory.
    let n = unsafe { nix::libc::write(fd, data.as_ptr().cast(), data.len()) };
    if n < 0 {
        Err(Errno::last())
    } else {
        Ok(n as usize)
    }
}

/// Our own close-on-exec copy of a descriptor someone names by number (JS
/// passing a handle's fd).
pub(crate) fn duplicate_raw(fd: RawFd) -> Result<OwnedFd, Errno> {
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
