//! The fuzz targets' smoke runs for CI: a few thousand inputs each (a couple of seconds in a
//! debug build), every invariant held, and the outcomes spread over the kinds that matter. The
//! checks themselves are shown to catch what they look for. `bench/run.sh fuzz` runs the
//! million-input version.

use familiar_fuzz::frames::{agrees, reference, Seen};
use familiar_fuzz::report::table;
use familiar_fuzz::{frames, parser, session, Report};

fn assert_clean(report: &Report, min_kinds: usize) {
    assert!(
        report.is_clean() && report.kinds.len() >= min_kinds,
        "{}{}",
        table(std::slice::from_ref(report)),
        report.details()
    );
}

fn has(report: &Report, prefix: &str) -> bool {
    report.kinds.keys().any(|k| k.starts_with(prefix))
}

#[test]
fn frames_smoke_run_holds_every_invariant() {
    let report = frames::run(1_500, 7);
    assert_eq!(report.inputs, 1_500);
    assert_clean(&report, 10);
    for close in [
        "close:1002",
        "close:1007",
        "close:1009",
        "client_close",
        "end",
    ] {
        assert!(has(&report, close), "no {close} in\n{}", report.details());
    }
}

#[test]
fn parser_smoke_run_holds_every_invariant() {
    let report = parser::run(3_000, 7);
    assert_clean(&report, 20);
    for kind in [
        "ok:chat",
        "ok:webrtc_ice",
        "err:bad_json",
        "err:invalid_message",
        "ignored:unknown_type",
    ] {
        assert!(has(&report, kind), "no {kind} in\n{}", report.details());
    }
}

#[test]
fn session_smoke_run_holds_every_invariant() {
    let report = session::run(4_000, 7);
    assert!(report.inputs >= 4_000);
    assert_clean(&report, 25);
    for kind in [
        "entered",
        "recv:session_created",
        "recv:session_joined",
        "recv:chat",
        "recv:error:",
    ] {
        assert!(has(&report, kind), "no {kind} in\n{}", report.details());
    }
}

/// A masked frame, as a client sends it.
fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first, 0x80 | payload.len() as u8, 9, 8, 7, 6];
    out.extend(
        payload
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ [9, 8, 7, 6][i % 4]),
    );
    out
}

#[test]
fn the_reference_decoder_reads_rfc_6455() {
    let mut stream = frame(0x01, b"h\xc3");
    stream.extend(frame(0x89, b"p"));
    stream.extend(frame(0x80, b"\xa9"));
    stream.extend(frame(0x88, &[0x03, 0xe8]));
    assert_eq!(
        reference(&stream, 1024),
        vec![
            Seen::Ping(b"p".to_vec()),
            Seen::Text("hé".into()),
            Seen::Close(Some(1000))
        ]
    );
    // Unmasked, reserved bits, a lone continuation, an oversize header: each refused.
    assert_eq!(reference(&[0x81, 0x01, b'x'], 1024), vec![Seen::Fail(1002)]);
    assert_eq!(reference(&frame(0xc1, b"x"), 1024), vec![Seen::Fail(1002)]);
    assert_eq!(reference(&frame(0x80, b"x"), 1024), vec![Seen::Fail(1002)]);
    let huge = [0x81, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4];
    assert_eq!(reference(&huge, 1024), vec![Seen::Fail(1009)]);
    assert_eq!(
        reference(&frame(0x81, b"\xff"), 1024),
        vec![Seen::Fail(1007)]
    );
}

#[test]
fn agreement_allows_only_dropping_good_frames_before_a_real_error() {
    let text = Seen::Text("a".into());
    let expected = vec![text.clone(), Seen::Fail(1009)];
    assert!(agrees(&expected, &expected));
    assert!(agrees(&[Seen::Fail(1009)], &expected));
    assert!(
        !agrees(&[Seen::Fail(1002)], &expected),
        "a code naming no error"
    );
    assert!(
        !agrees(&[Seen::Text("b".into()), Seen::Fail(1009)], &expected),
        "an invented item"
    );
    assert!(
        !agrees(std::slice::from_ref(&text), &expected),
        "an error ignored"
    );
    assert!(
        !agrees(&[Seen::Gone], &expected),
        "a bad frame taken for a vanished peer"
    );
    assert!(
        !agrees(&[text.clone(), Seen::Fail(1002)], &[text]),
        "an error where there is none"
    );
}

#[test]
fn the_parser_check_refuses_what_breaks_an_invariant() {
    // A frame the parser accepts is checked against serde_json's reading: it must be JSON.
    assert!(parser::check(r#"{"type":"chat","message":"hi"}"#).is_ok());
    assert_eq!(parser::check("{").unwrap(), "err:bad_json");
    assert_eq!(
        parser::check(r#"{"type":"dance"}"#).unwrap(),
        "ignored:unknown_type"
    );
}

#[test]
fn what_afl_found_in_the_parser_stays_fixed() {
    // An array is not a message, whatever serde's tagged enum makes of it.
    assert_eq!(
        parser::check(r#"["create","us"]"#).unwrap(),
        "err:not_object"
    );
    assert_eq!(
        parser::check("[\n\"chat\",\"hi\"]").unwrap(),
        "err:not_object"
    );
    // The slow path keeps a long number's value (the fast path keeps its text).
    for frame in [
        r#"{"type":"webrtc_ice","candidate":{"n":[1111111111111111111111111.0, 1E2]}}"#,
        r#"{"type":"webrtc_ice","candidate":24427974462987862344296935555.587834555}"#,
        r#"{"type":"webrtc_ice","candidate":89295555555555555555555493583466278336337723365.82895}"#,
    ] {
        assert_eq!(
            parser::check(frame),
            Ok("ok:webrtc_ice".to_string()),
            "{frame}"
        );
    }
}
