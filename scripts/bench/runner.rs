//! Runs one command and reports its wall time and peak memory, for scripts/bench.py.
//!
//! Why not Python's own `wait4`: a child forked from the Python interpreter starts with the
//! interpreter's resident pages, and Linux keeps that high-water mark in the child's `ru_maxrss`
//! across `exec` — every command would seem to need at least Python's ~16 MiB. Spawned from this
//! small program, the inherited part is this program's ~1-2 MiB, for both sides alike.
//!
//! Usage: runner COMMAND [ARGS...]; prints `<wall seconds> <max RSS KiB> <exit code>` on stderr's
//! last line, the command's own stdout and stderr going to /dev/null and to stderr.
//! Built by bench.py with the machine's rustc (std only, no crates).

use std::process::{Command, Stdio};
use std::time::Instant;

/// `struct rusage` of Linux on 64-bit targets: two timevals, then 14 longs (ru_maxrss first).
#[repr(C)]
struct Rusage {
    utime: [i64; 2],
    stime: [i64; 2],
    maxrss: i64,
    rest: [i64; 13],
}

unsafe extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, usage: *mut Rusage) -> i32;
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((program, rest)) = args.split_first() else {
        eprintln!("usage: runner COMMAND [ARGS...]");
        std::process::exit(2);
    };
    let start = Instant::now();
    let child = match Command::new(program)
        .args(rest)
        .stdout(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("runner: cannot run {program}: {e}");
            std::process::exit(2);
        }
    };
    let mut status = 0;
    let mut usage = Rusage {
        utime: [0; 2],
        stime: [0; 2],
        maxrss: 0,
        rest: [0; 13],
    };
    // SAFETY: a valid pid of our child and valid pointers to owned memory.
    let r = unsafe { wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = start.elapsed().as_secs_f64();
    if r < 0 {
        eprintln!("runner: wait4 failed: {}", std::io::Error::last_os_error());
        std::process::exit(2);
    }
    let code = if status & 0x7f == 0 { (status >> 8) & 0xff } else { 128 + (status & 0x7f) };
    eprintln!("{wall:.6} {} {code}", usage.maxrss);
}
