//! The in-memory archive reader against the streaming one it replaced: the same verdict, to
//! the byte, on good, multi-member, corrupt, truncated, oversized and ISIZE-lying archives, and
//! the in-memory reader really taking the archives it should.

use super::chart_archive::{MAX_FILE, read, read_in_memory, read_streaming};
use std::io::Write;

const CHART: &[u8] = b"apiVersion: v2\nname: demo\nversion: 1.2.3\n";

fn tar(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
    let mut t = tar::Builder::new(Vec::new());
    for (path, kind, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        // append_data writes a GNU long-name entry first for paths over 100 bytes.
        t.append_data(&mut h, path, *data).unwrap();
    }
    t.into_inner().unwrap()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn chart_tar() -> Vec<u8> {
    let long = format!("demo/templates/{}.yaml", "x".repeat(120));
    let values: Vec<u8> = (0..2000)
        .flat_map(|i| format!("# comment {i}\nkey{i}: {i}\n").into_bytes())
        .collect();
    tar(&[
        ("demo/templates/", tar::EntryType::Directory, b""),
        ("demo/Chart.yaml", tar::EntryType::Regular, CHART),
        ("demo/values.yaml", tar::EntryType::Regular, &values),
        (&long, tar::EntryType::Regular, b"kind: ConfigMap\n"),
        ("demo/README.md", tar::EntryType::Regular, &[b'r'; 3000]),
    ])
}

/// The verdicts of `read` and of the streaming reader, which must be the same.
fn agree(bytes: &[u8]) -> Result<(String, String), String> {
    let show = |r: Result<super::chart_archive::ArchiveInfo, String>| {
        r.map(|i| (format!("{:?}", i.metadata), i.digest))
    };
    let new = show(read(bytes));
    assert_eq!(new, show(read_streaming(bytes)));
    new
}

fn in_memory(bytes: &[u8]) -> bool {
    read_in_memory(bytes).is_some()
}

#[test]
fn good_and_multi_member_archives_are_read_in_memory_with_the_same_result() {
    let t = chart_tar();
    let one = gz(&t);
    assert!(agree(&one).is_ok());
    assert!(in_memory(&one));
    // Three members, split inside a header and inside a file; the last one tiny, so its ISIZE
    // is a short hint and the buffer grows.
    let mut three = gz(&t[..700]);
    three.extend(gz(&t[700..t.len() - 10]));
    three.extend(gz(&t[t.len() - 10..]));
    assert_eq!(agree(&three).unwrap().0, agree(&one).unwrap().0);
    assert!(in_memory(&three));
    // A symlink named values.yaml loads as an empty (loadable) file.
    let link = gz(&tar(&[
        ("demo/Chart.yaml", tar::EntryType::Regular, CHART),
        ("demo/values.yaml", tar::EntryType::Symlink, b""),
    ]));
    assert!(agree(&link).is_ok());
    assert!(in_memory(&link));
}

#[test]
fn corrupt_truncated_and_lying_archives_get_the_streaming_verdict() {
    let t = chart_tar();
    let good = gz(&t);
    let n = good.len();
    // Every cut and a spread of flipped bytes, header to trailer.
    for cut in (0..n).step_by(97).chain(n - 9..n) {
        let _ = agree(&good[..cut]);
        assert!(!in_memory(&good[..cut]), "cut at {cut}");
    }
    for at in (0..n).step_by(61).chain(n - 8..n) {
        let mut bad = good.clone();
        bad[at] ^= 0x55;
        let _ = agree(&bad);
    }
    // A lying ISIZE (or CRC) in the trailer: the streaming reader never reads past tar's end
    // marker, so it accepts; the in-memory reader is not sure, and the verdict stays.
    for at in [n - 1, n - 6] {
        let mut lie = good.clone();
        lie[at] ^= 1;
        assert!(agree(&lie).is_ok());
        assert!(!in_memory(&lie));
    }
    // Trailing bytes after the last member, and a tar cut inside a file in a sound gzip.
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"\0\0junk");
    let _ = agree(&trailing);
    let cut_tar = gz(&t[..t.len() / 2]);
    assert!(agree(&cut_tar).is_err());
    assert!(!in_memory(&cut_tar));
}

#[test]
fn oversized_files_and_refused_paths_keep_their_words() {
    let big = vec![b'a'; (MAX_FILE + 1) as usize];
    let over = gz(&tar(&[
        ("demo/Chart.yaml", tar::EntryType::Regular, CHART),
        ("demo/big", tar::EntryType::Regular, &big),
    ]));
    assert!(agree(&over).unwrap_err().contains("maximum file size"));
    let parent = gz(&tar(&[("demo/Chart.yaml", tar::EntryType::Regular, CHART)]));
    let mut escaping = tar(&[("demo/x", tar::EntryType::Regular, b"x")]);
    // set_path refuses `..`; write the raw name the way a hostile archive would.
    escaping[..100].fill(0);
    escaping[..13].copy_from_slice(b"demo/../../ev");
    let mut h = tar::Header::from_byte_slice(&escaping[..512]).clone();
    h.set_cksum();
    escaping[..512].copy_from_slice(h.as_bytes());
    assert!(agree(&gz(&escaping)).unwrap_err().contains("parent"));
    assert!(agree(&parent).is_ok());
    // Bad YAML gets the same words from either walk.
    let bad_values = gz(&tar(&[
        ("demo/Chart.yaml", tar::EntryType::Regular, CHART),
        ("demo/values.yaml", tar::EntryType::Regular, b"a: [1\n"),
        ("demo/latin1.txt", tar::EntryType::Regular, b"\xe9"),
    ]));
    assert!(agree(&bad_values).unwrap_err().contains("values.yaml"));
    let latin1_values = gz(&tar(&[
        ("demo/Chart.yaml", tar::EntryType::Regular, CHART),
        ("demo/values.yaml", tar::EntryType::Regular, b"a: \xe9\n"),
    ]));
    let _ = agree(&latin1_values);
    assert!(in_memory(&latin1_values));
}

#[test]
fn an_archive_inflating_past_the_bound_goes_to_the_streaming_reader() {
    // A sound chart followed, inside the same member, by more zeros than the in-memory
    // reader inflates: it gives up at its bound; the streaming reader stops at tar's end
    // marker and accepts, as before.
    let mut t = tar(&[("demo/Chart.yaml", tar::EntryType::Regular, CHART)]);
    t.resize(super::gunzip::MAX_OUT + 1024, 0);
    let bomb = gz(&t);
    drop(t);
    assert!(agree(&bomb).is_ok());
    assert!(!in_memory(&bomb));
}
