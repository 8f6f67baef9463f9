//! AFL++ target `parser` (optional, coverage-guided; see docs/benchmarks.md): the input, when it
//! is UTF-8 (the parser only ever sees text frames), is one frame. Crashes on a panic or on any
//! broken invariant of `familiar_fuzz::parser::check`.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Ok(text) = std::str::from_utf8(data) {
            if let Err(what) = familiar_fuzz::parser::check(text) {
                panic!("{what}");
            }
        }
    });
}
