//! The few libc calls std does not wrap: ppoll (wait for stdin or the next deadline with
//! microsecond precision), ioctl SIOCGSTAMPNS (when the kernel received the last datagram),
//! getppid (exit when the agent is gone) and sched_setscheduler (optional real-time priority).
//! glibc is linked by std anyway.

use std::os::raw::{c_int, c_long, c_short, c_ulong, c_void};
use std::time::Duration;

#[repr(C)]
pub struct PollFd {
    pub fd: c_int,
    pub events: c_short,
    pub revents: c_short,
}

#[repr(C)]
struct Timespec {
    tv_sec: c_long,
    tv_nsec: c_long,
}

#[repr(C)]
struct SchedParam {
    sched_priority: c_int,
}

pub const POLLIN: c_short = 0x1;

extern "C" {
    fn ppoll(
        fds: *mut PollFd,
        nfds: c_ulong,
        tmo: *const Timespec,
        sigmask: *const c_void,
    ) -> c_int;
    fn getppid() -> c_int;
    fn ioctl(fd: c_int, request: c_ulong, ...) -> c_int;
    fn sched_setscheduler(pid: c_int, policy: c_int, param: *const SchedParam) -> c_int;
}

/// Waits until one of `fds` is readable or `timeout` passed; EINTR counts as a wake-up.
pub fn wait(fds: &mut [PollFd], timeout: Duration) {
    let ts =
        Timespec { tv_sec: timeout.as_secs() as c_long, tv_nsec: timeout.subsec_nanos() as c_long };
    // SAFETY: fds is a valid slice of pollfd-compatible structs for the duration of the call.
    unsafe {
        ppoll(fds.as_mut_ptr(), fds.len() as c_ulong, &ts, std::ptr::null());
    }
}

/// When the kernel received the last datagram read from `fd` (wall clock), if it can tell.
pub fn last_packet_time(fd: c_int) -> Option<Duration> {
    const SIOCGSTAMPNS: c_ulong = 0x8907;
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: SIOCGSTAMPNS writes one struct timespec (64-bit layout on x86_64/aarch64).
    if unsafe { ioctl(fd, SIOCGSTAMPNS, &mut ts as *mut Timespec) } != 0 || ts.tv_sec <= 0 {
        return None;
    }
    Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// The parent's PID (1 or a subreaper once the agent is gone).
pub fn parent_pid() -> i32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { getppid() }
}

/// Asks for SCHED_FIFO at `priority` (not inherited by children such as `ip`: reset on fork);
/// returns the OS error when not permitted.
pub fn set_realtime(priority: i32) -> Result<(), std::io::Error> {
    const SCHED_FIFO: c_int = 1;
    const SCHED_RESET_ON_FORK: c_int = 0x4000_0000;
    let p = SchedParam { sched_priority: priority };
    // SAFETY: p lives across the call; pid 0 is this process.
    if unsafe { sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &p) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
