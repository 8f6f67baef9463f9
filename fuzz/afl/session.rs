//! AFL++ target `session` (optional, coverage-guided; see docs/benchmarks.md): the input is a
//! script, one step per line (`<slot 0-3><frame>`, or the slot alone to drop its socket), run
//! against the real registry and session actors. Crashes on a panic, a bad frame sent to a
//! member, or anything left live once everyone is gone (`familiar_fuzz::session::run_script`).

fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Err(what) = familiar_fuzz::session::run_script(&String::from_utf8_lossy(data)) {
            panic!("{what}");
        }
    });
}
