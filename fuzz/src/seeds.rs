//! The seed corpus: client frames as real clients and the project's own tests send them, read
//! from the files at run time, so a new field or message type in any of them is fuzzed without
//! touching this crate.
//!
//! - `tests/golden/*.txt`: the recorded scripted session (`> who {frame}` lines), placeholders
//!   such as `{code:host}` or `{token:guest}` kept for the session target to fill in;
//! - `tests/*.rs`, `tests/common/*.rs`: every `json!({"type": …})` literal the integration
//!   tests send (variables become strings);
//! - the "Client → server" tables of `docs/protocol.md` and `../shared/PROTOCOL.md`: one frame
//!   per row, every field listed there given a plausible value;
//! - `CLIENT_TYPES`: each type bare, and `fuzz/seeds/frames.txt`, which is built in, so the
//!   corpus is never empty wherever the binary runs.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use familiar_actors::protocol::CLIENT_TYPES;
use serde_json::{json, Map, Value};

/// Frames that are always there, whatever files are found.
const BUILT_IN: &str = include_str!("../seeds/frames.txt");

/// The corpus and where it came from.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Client frame texts, placeholders included.
    pub frames: Vec<String>,
    /// (source, frames taken from it), for the command's header.
    pub sources: Vec<(String, usize)>,
}

/// The repository root (this crate's parent).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The corpus, read once per process.
pub fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| load(&repo_root()))
}

/// Reads every source under `root`; missing files add nothing.
pub fn load(root: &Path) -> Corpus {
    let mut corpus = Corpus {
        frames: Vec::new(),
        sources: Vec::new(),
    };
    let mut add = |source: String, frames: Vec<String>| {
        corpus.sources.push((source, frames.len()));
        corpus.frames.extend(frames);
    };
    for file in files_in(&root.join("tests/golden"), "txt") {
        let text = fs::read_to_string(&file).unwrap_or_default();
        add(shown(root, &file), golden_frames(&text));
    }
    let mut json_literals = Vec::new();
    for dir in ["tests", "tests/common"] {
        for file in files_in(&root.join(dir), "rs") {
            json_literals.extend(json_macro_frames(
                &fs::read_to_string(&file).unwrap_or_default(),
            ));
        }
    }
    add("tests/**/*.rs json! literals".into(), json_literals);
    for doc in [
        root.join("docs/protocol.md"),
        root.join("../shared/PROTOCOL.md"),
    ] {
        if let Ok(text) = fs::read_to_string(&doc) {
            add(shown(root, &doc), contract_frames(&text));
        }
    }
    add(
        "CLIENT_TYPES".into(),
        CLIENT_TYPES
            .iter()
            .map(|t| json!({ "type": t }).to_string())
            .collect(),
    );
    add("fuzz/seeds/frames.txt (built in)".into(), built_in());
    corpus
}

fn shown(root: &Path, file: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string()
}

fn files_in(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == ext))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Writes the corpus as AFL++ inputs under `dir`: `parser/` one frame per file, `frames/` each
/// frame as a masked text frame after a piece-size byte, `session/` a create, a join and the
/// frame. Returns how many files it wrote.
pub fn write_afl_seeds(dir: &Path) -> std::io::Result<usize> {
    let mut written = 0;
    for target in ["frames", "parser", "session"] {
        fs::create_dir_all(dir.join(target))?;
    }
    for (i, frame) in corpus().frames.iter().enumerate() {
        fs::write(dir.join(format!("parser/{i:04}")), frame)?;
        let mut stream = vec![16u8, 0x81];
        let len = frame.len();
        if len <= 125 {
            stream.push(0x80 | len as u8);
        } else {
            stream.push(0x80 | 126);
            stream.extend_from_slice(&(len.min(0xffff) as u16).to_be_bytes());
        }
        // A zero mask: the payload as it is.
        stream.extend_from_slice(&[0; 4]);
        stream.extend_from_slice(frame.as_bytes());
        fs::write(dir.join(format!("frames/{i:04}")), stream)?;
        let script = format!(
            "0{{\"type\":\"create\",\"capabilities\":[\"resume\"]}}\n1{{\"type\":\"join_guest\",\"code\":\"{{code:any}}\"}}\n1{frame}\n"
        );
        fs::write(dir.join(format!("session/{i:04}")), script)?;
        written += 3;
    }
    Ok(written)
}

/// The built-in frames: one per line, `#` lines are comments.
pub fn built_in() -> Vec<String> {
    BUILT_IN
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

/// The client frames of a golden transcript: `> who text` lines, binary frames left out.
pub fn golden_frames(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("> "))
        .filter_map(|rest| rest.split_once(' ').map(|(_, frame)| frame))
        .filter(|frame| !frame.starts_with("<binary"))
        .map(String::from)
        .collect()
}

/// Every `json!({ … "type" … })` literal in Rust source that reads as JSON once its variables
/// are strings and its Rust escapes JSON ones.
pub fn json_macro_frames(source: &str) -> Vec<String> {
    let mut frames = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find("json!(") {
        rest = &rest[start + "json!(".len()..];
        let Some(body) = balanced(rest) else { continue };
        if !body.contains("\"type\"") {
            continue;
        }
        if let Ok(value) = serde_json::from_str::<Value>(&rust_to_json(body)) {
            if value.get("type").is_some() {
                frames.push(value.to_string());
            }
        }
    }
    frames
}

/// The text of the `{…}` object `text` starts with, braces balanced outside strings.
fn balanced(text: &str) -> Option<&str> {
    let text = text.trim_start();
    if !text.starts_with('{') {
        return None;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, c) in text.char_indices() {
        match (in_string, c) {
            (true, '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (true, '"') if !escaped => in_string = false,
            (false, '"') => in_string = true,
            (false, '{' | '[') => depth += 1,
            (false, '}' | ']') => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[..=i]);
                }
            }
            _ => {}
        }
        escaped = false;
    }
    None
}

/// A `json!` body as JSON: bare identifiers and expressions in value position become strings,
/// `\u{7}` becomes `\u0007`, `86_400` becomes `86400`.
fn rust_to_json(body: &str) -> String {
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    let mut in_string = false;
    let mut after_colon = false;
    while let Some(c) = chars.next() {
        if in_string {
            if c == '\\' && chars.peek() == Some(&'u') {
                chars.next();
                if chars.peek() == Some(&'{') {
                    chars.next();
                    let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    let code = u32::from_str_radix(&hex, 16).unwrap_or(0x3f);
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str("\\u");
                }
                continue;
            }
            out.push(c);
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                after_colon = false;
                out.push(c);
            }
            ':' => {
                after_colon = true;
                out.push(c);
            }
            c if after_colon && (c.is_alphabetic() || c == '_' || c == '&') => {
                // A Rust expression where a value goes: up to the next `,` or closing brace.
                let mut expr = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n == ',' || n == '}' || n == ']' {
                        break;
                    }
                    expr.push(n);
                    chars.next();
                }
                let expr = expr.trim();
                if matches!(expr, "true" | "false" | "null") {
                    out.push_str(expr);
                } else {
                    out.push_str("\"x\"");
                }
                after_colon = false;
            }
            '_' => {}
            c => {
                if !c.is_whitespace() {
                    after_colon = false;
                }
                out.push(c);
            }
        }
    }
    out
}

/// One frame per row of each "Client → server" table: the `type`s of the first column, the
/// fields named in the second, each given a value its name suggests.
pub fn contract_frames(doc: &str) -> Vec<String> {
    let mut frames = Vec::new();
    let mut in_section = false;
    for line in doc.lines() {
        if line.starts_with('#') {
            in_section = line.contains("Client → server") || line.contains("Client -> server");
            continue;
        }
        if !in_section || !line.starts_with("| `") {
            continue;
        }
        let columns: Vec<&str> = line.split('|').collect();
        let (Some(types), Some(fields)) = (columns.get(1), columns.get(2)) else {
            continue;
        };
        // `track_meta?` `{title?, …}` names sub-fields too; only top-level names count.
        let fields: Vec<String> = ticked(fields)
            .into_iter()
            .filter(|f| !f.starts_with('{'))
            .map(|f| f.trim_end_matches('?').to_string())
            .filter(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .collect();
        for kind in ticked(types) {
            let mut frame = Map::new();
            frame.insert("type".into(), Value::String(kind));
            for field in &fields {
                frame.insert(field.clone(), value_for(field));
            }
            frames.push(Value::Object(frame).to_string());
        }
    }
    frames
}

/// The `backticked` words of a table cell.
fn ticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

/// A plausible value for a field of this name; a name nobody knows yet gets a string.
pub fn value_for(field: &str) -> Value {
    match field {
        "code" => json!("{code:any}"),
        "token" => json!("{token:any}"),
        "target_user_id" => json!("{id:any}"),
        "last_seq" => json!("{seq:any}"),
        "familiar" => json!({"variant": "prism", "color": "#AABBCC", "accent": "orbit", "seed": 7}),
        "capabilities" => json!(["resume"]),
        "track_meta" => json!({"title": "Song", "artist": "Band", "album": "LP", "bpm": 120}),
        "up_next" => json!([{"track_id": "t-2", "title": "Next", "artist": "B"}]),
        "is_playing" | "connected" => json!(true),
        "position_ms" => json!(1500.5),
        "sdp" => json!({"type": "offer", "sdp": "v=0\r\n"}),
        "candidate" => {
            json!({"candidate": "candidate:1 1 udp 1 10.0.0.2 5000 typ host", "sdpMid": "0"})
        }
        "kind" => json!("cheer"),
        "path" => json!("direct"),
        "password" => json!("pw"),
        _ => json!("x"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_gives_frames_from_every_source() {
        let corpus = corpus();
        for (source, n) in &corpus.sources {
            assert!(*n > 0, "no frames from {source}");
        }
        assert!(corpus.sources.iter().any(|(s, _)| s.contains("golden")));
        assert!(corpus
            .sources
            .iter()
            .any(|(s, _)| s.contains("protocol.md")));
    }

    #[test]
    fn json_literals_become_json() {
        let src = r#"c.send(json!({"type": "join", "code": code, "n": 86_400, "m": "a\u{7}b", "ok": true})).await;"#;
        let frames = json_macro_frames(src);
        assert_eq!(frames.len(), 1);
        let v: Value = serde_json::from_str(&frames[0]).unwrap();
        assert_eq!(v["code"], "x");
        assert_eq!(v["n"], 86400);
        assert_eq!(v["m"], "a\u{7}b");
        assert_eq!(v["ok"], true);
    }

    #[test]
    fn contract_rows_become_frames() {
        let doc = "## Client → server\n| `join` / `join_guest` | `code`; `password?`; **(new)** `capabilities?` | x |\n| `playback` | `track_meta?` `{title?, bpm?}` | host |\n## Errors\n| `chat` | `message` |";
        let frames = contract_frames(doc);
        assert_eq!(frames.len(), 3);
        let v: Value = serde_json::from_str(&frames[1]).unwrap();
        assert_eq!(v["type"], "join_guest");
        assert_eq!(v["capabilities"], json!(["resume"]));
        let p: Value = serde_json::from_str(&frames[2]).unwrap();
        assert!(p.get("title").is_none() && p.get("track_meta").is_some());
    }
}
