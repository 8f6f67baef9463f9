//! AFL++ target `frames` (optional, coverage-guided; see docs/benchmarks.md): the input is a
//! client's byte stream, its first byte the size of the pieces it arrives in. Crashes on a panic
//! or on any disagreement with the reference decoder (`familiar_fuzz::frames::check`).

use familiar_fuzz::frames::{check, upgrade_request, SMALL_LIMIT};

fn main() {
    // The request is only read; a panic is the finding, so nothing is reused after one.
    let req = std::panic::AssertUnwindSafe(upgrade_request());
    let req = &req;
    afl::fuzz!(|data: &[u8]| {
        let Some((&piece, stream)) = data.split_first() else {
            return;
        };
        let chunks = stream
            .chunks(usize::from(piece).max(1))
            .map(bytes::Bytes::copy_from_slice)
            .collect();
        if let Err(what) = check(req, stream, chunks, SMALL_LIMIT) {
            panic!("{what}");
        }
    });
}
