//! Kubernetes and OCI naming rules, paths and cron schedules, as plain predicates.
//! Each returns `Err(reason)` phrased for the user. Quantities are in units.rs.

/// DNS-1123 label: chart names, port names' base rule, cron suffixes.
pub fn dns_label(s: &str, max: usize) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > max {
        return Err(format!(
            "must be at most {max} characters (it has {})",
            s.len()
        ));
    }
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ends_ok = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !ok_chars || !ends_ok(s.bytes().next()) || !ends_ok(s.bytes().last()) {
        return Err(
            "must consist of lowercase letters, digits and '-', and start and end with a letter or digit"
                .into(),
        );
    }
    Ok(())
}

/// DNS-1123 subdomain: hosts, secret names, storage and ingress classes.
pub fn dns_subdomain(s: &str) -> Result<(), String> {
    if s.len() > 253 {
        return Err("must be at most 253 characters".into());
    }
    for part in s.split('.') {
        dns_label(part, 63).map_err(|e| format!("each dot-separated part {e}"))?;
    }
    Ok(())
}

/// An Ingress host: a DNS subdomain, optionally with a leading `*.` wildcard; never an IP.
pub fn ingress_host(s: &str) -> Result<(), String> {
    let bare = s.strip_prefix("*.").unwrap_or(s);
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return Err("an Ingress host cannot be an IP address".into());
    }
    dns_subdomain(bare)
}

/// Port names (IANA_SVC_NAME): at most 15 characters, at least one letter, no `--`.
pub fn port_name(s: &str) -> Result<(), String> {
    dns_label(s, 15)?;
    if !s.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err("must contain at least one letter".into());
    }
    if s.contains("--") {
        return Err("must not contain '--'".into());
    }
    Ok(())
}

/// Label and annotation keys: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters.
pub fn qualified_name(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        dns_subdomain(p).map_err(|e| format!("its prefix (before '/') {e}"))?;
    }
    label_value(name).map_err(|e| format!("its name {e}"))?;
    if name.is_empty() {
        return Err("its name must not be empty".into());
    }
    Ok(())
}

/// Label values: at most 63 characters of `[A-Za-z0-9_.-]`, alphanumeric at both ends; may be empty.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.len() > 63 {
        return Err(format!(
            "must be at most 63 characters (it has {})",
            s.len()
        ));
    }
    if s.is_empty() {
        return Ok(());
    }
    let ok = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let ends = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    if !ok || !ends(s.bytes().next()) || !ends(s.bytes().last()) {
        return Err(
            "must consist of letters, digits, '-', '_' or '.', and start and end with a letter or digit"
                .into(),
        );
    }
    Ok(())
}

/// Environment variable names as every supported Kubernetes version accepts them.
pub fn env_name(s: &str) -> Result<(), String> {
    let mut bytes = s.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'-' | b'.' | b'_'));
    if !first_ok || !bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')) {
        return Err(
            "must consist of letters, digits, '_', '-' or '.', and must not start with a digit"
                .into(),
        );
    }
    Ok(())
}

/// Image repository: `[registry[:port]/]path`, lowercase path components.
pub fn image_repository(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 255 {
        return Err("must be 1 to 255 characters".into());
    }
    let mut parts = s.split('/').peekable();
    let mut first = true;
    while let Some(part) = parts.next() {
        let is_registry =
            first && parts.peek().is_some() && (part.contains(['.', ':']) || part == "localhost");
        first = false;
        let ok = if is_registry {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
        } else {
            let edge =
                |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            edge(part.bytes().next())
                && edge(part.bytes().last())
                && part.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
        };
        if !ok {
            return Err(format!(
                "`{}` is not a valid image name component (lowercase letters, digits, '.', '_', '-')",
                crate::diag::printable(part)
            ));
        }
    }
    Ok(())
}

pub fn image_tag(s: &str) -> Result<(), String> {
    let mut bytes = s.bytes();
    let first = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !first
        || s.len() > 128
        || !bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err("must be 1 to 128 characters of letters, digits, '_', '.' or '-', not starting with '.' or '-'".into());
    }
    Ok(())
}

pub fn image_digest(s: &str) -> Result<(), String> {
    match s.strip_prefix("sha256:") {
        Some(hex)
            if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
        {
            Ok(())
        }
        _ => Err("must be `sha256:` followed by 64 lowercase hex digits".into()),
    }
}

/// A URL path for an Ingress rule. Characters that mean something in ingress-nginx's regex paths
/// are refused, because non-root paths become `<path>(/|$)(.*)`.
pub fn url_path(s: &str) -> Result<(), String> {
    if !s.starts_with('/') {
        return Err("must start with '/'".into());
    }
    if s.len() > 1024 {
        return Err("must be at most 1024 characters".into());
    }
    if s.contains("//") {
        return Err("must not contain '//'".into());
    }
    // Proxies normalise these away (or refuse them), so the route would not be the one written;
    // the chart's values.schema.json refuses them too.
    if s.split('/').any(|seg| seg == "." || seg == "..") {
        return Err("must not contain `.` or `..` segments".into());
    }
    if s.to_ascii_lowercase().contains("%2f") {
        return Err("must not contain an encoded slash (`%2F`)".into());
    }
    if let Some(c) = s.chars().find(|c| {
        !(c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | '~' | '%' | '@' | ':'))
    }) {
        return Err(format!(
            "contains `{}`; a public_uri path may use letters, digits and - _ . ~ % @ : /",
            crate::diag::printable(&c.to_string())
        ));
    }
    Ok(())
}

/// Text Helm keeps as written in Chart.yaml: Helm strips what Go does not count as printable
/// (controls, line and paragraph separators, format characters such as the BOM and bidi
/// overrides, private-use and non-characters), so those are refused rather than silently lost.
pub fn printable_text(s: &str) -> Result<(), String> {
    let bad = s.chars().find(|&c| {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{e000}'..='\u{f8ff}' | '\u{fff0}'..='\u{ffff}')
            || (c as u32) >= 0xf0000
    });
    match bad {
        Some(c) => Err(format!(
            "contains the non-printable character {}",
            c.escape_unicode()
        )),
        None => Ok(()),
    }
}

/// An HTTP probe path: anything printable without spaces, starting with '/'.
pub fn probe_path(s: &str) -> Result<(), String> {
    if !s.starts_with('/') {
        return Err("must start with '/'".into());
    }
    if s.len() > 2048 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be at most 2048 characters without spaces or control characters".into());
    }
    Ok(())
}

/// Mount points the container runtime owns; nothing of the spec may be mounted there.
pub const SYSTEM_DIRS: &[&str] = &["/proc", "/sys", "/dev"];

/// `a` is `b` or lies inside it, or the other way round (both absolute, normalised paths).
pub fn nested(a: &str, b: &str) -> bool {
    let inside = |x: &str, dir: &str| x == dir || x.starts_with(&format!("{dir}/"));
    inside(a, b) || inside(b, a)
}

/// A CIDR such as `10.0.0.0/8` or `fd00::/8`, returned in canonical form. The address must be
/// the network address (no host bits set), so the rule means what it says.
pub fn cidr(s: &str) -> Result<String, String> {
    use std::net::IpAddr;
    let Some((addr, prefix)) = s.split_once('/') else {
        return match s.parse::<IpAddr>() {
            Ok(IpAddr::V4(_)) => Err(format!("is an address, not a CIDR: write `{s}/32`")),
            Ok(IpAddr::V6(_)) => Err(format!("is an address, not a CIDR: write `{s}/128`")),
            Err(_) => Err("is neither a namespace name nor a CIDR such as `10.0.0.0/8`".into()),
        };
    };
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| format!("is not a CIDR: `{addr}` is not an IPv4 or IPv6 address"))?;
    let bits: u32 = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = digits(prefix)
        .filter(|p| *p <= u64::from(bits) && (prefix == "0" || !prefix.starts_with('0')))
        .ok_or_else(|| format!("is not a CIDR: the prefix length must be 0 to {bits}"))?
        as u32;
    let (value, mask) = match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), u128::from(u32::MAX)),
        IpAddr::V6(a) => (u128::from(a), u128::MAX),
    };
    let host_bits = if prefix == bits { 0 } else { mask >> prefix };
    let network = match ip {
        IpAddr::V4(_) => IpAddr::from(std::net::Ipv4Addr::from((value & !host_bits) as u32)),
        IpAddr::V6(_) => IpAddr::from(std::net::Ipv6Addr::from(value & !host_bits)),
    };
    let canonical = format!("{network}/{prefix}");
    if value & host_bits != 0 {
        return Err(format!("has host bits set: the network is `{canonical}`"));
    }
    Ok(canonical)
}

pub(super) fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A standard five-field cron schedule or a `@macro`, as the CronJob controller accepts it.
pub fn cron_schedule(s: &str) -> Result<(), String> {
    const MACROS: &[&str] = &[
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    let s = s.trim();
    if s.starts_with('@') {
        return if MACROS.contains(&s) {
            Ok(())
        } else {
            Err(format!("unknown macro; use one of {}", MACROS.join(", ")))
        };
    }
    if s.contains("TZ=") {
        return Err("set the time zone with `time_zone`, not inside the schedule".into());
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "must have 5 fields (minute hour day-of-month month day-of-week), found {}",
            fields.len()
        ));
    }
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let specs: [(&str, u32, u32, &[&str]); 5] = [
        ("minute", 0, 59, &[]),
        ("hour", 0, 23, &[]),
        ("day of month", 1, 31, &[]),
        ("month", 1, 12, MONTHS),
        ("day of week", 0, 7, DAYS),
    ];
    for (field, (what, lo, hi, names)) in fields.iter().zip(specs) {
        cron_field(field, lo, hi, names).map_err(|e| format!("{what} `{field}`: {e}"))?;
    }
    Ok(())
}

fn cron_field(field: &str, lo: u32, hi: u32, names: &[&str]) -> Result<(), String> {
    let value = |v: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
            return Ok(i as u32 + if lo == 1 { 1 } else { 0 });
        }
        let n: u32 = digits(v)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("`{v}` is not a number"))?;
        if n < lo || n > hi {
            return Err(format!("{n} is outside {lo}-{hi}"));
        }
        Ok(n)
    };
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if let Some(step) = step {
            match digits(step) {
                Some(n) if n >= 1 && n <= u64::from(hi) + 1 => {}
                _ => {
                    return Err(format!(
                        "step `{step}` must be a number from 1 to {}",
                        hi + 1
                    ));
                }
            }
        }
        if range == "*" || range == "?" {
            continue;
        }
        match range.split_once('-') {
            Some((a, b)) => {
                if value(a)? > value(b)? {
                    return Err(format!("range `{range}` runs backwards"));
                }
            }
            None => {
                value(range)?;
            }
        }
    }
    Ok(())
}

/// A ConfigMap or Secret key: letters, digits, `-`, `_`, `.`; not `.`, `..` or `..x`.
pub fn config_map_key(k: &str) -> Result<(), String> {
    if k.is_empty()
        || k.len() > 253
        || !k
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("must be 1 to 253 letters, digits, '-', '_' or '.'".into());
    }
    if k == "." || k.starts_with("..") {
        return Err("must not be `.` or start with `..`".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(dns_label("api-v2", 63).is_ok());
        assert!(dns_label("Api", 63).is_err());
        assert!(dns_label("-a", 63).is_err());
        assert!(dns_label(&"a".repeat(54), 53).is_err());
        assert!(port_name("main").is_ok());
        assert!(port_name("1234").is_err());
        assert!(port_name("a-very-long-port-name").is_err());
        assert!(qualified_name("example.com/team").is_ok());
        assert!(qualified_name("team").is_ok());
        assert!(qualified_name("bad key").is_err());
        assert!(qualified_name("a/").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("x".repeat(64).as_str()).is_err());
        assert!(env_name("DATABASE_URL").is_ok());
        assert!(env_name("1X").is_err());
        assert!(env_name("A=B").is_err());
        assert!(ingress_host("*.example.com").is_ok());
        assert!(ingress_host("10.0.0.1").is_err());
        assert!(ingress_host("Example.com").is_err());
    }

    #[test]
    fn images() {
        assert!(image_repository("nginx").is_ok());
        assert!(image_repository("ghcr.io/acme/api").is_ok());
        assert!(image_repository("localhost:5000/x").is_ok());
        assert!(image_repository("Nginx").is_err());
        assert!(image_repository("a b").is_err());
        assert!(image_tag("1.25.3-alpine").is_ok());
        assert!(image_tag("-x").is_err());
        assert!(image_digest(&format!("sha256:{}", "a".repeat(64))).is_ok());
        assert!(image_digest("sha256:xyz").is_err());
    }

    #[test]
    fn cidrs_are_canonical_networks() {
        assert_eq!(cidr("10.0.0.0/8"), Ok("10.0.0.0/8".into()));
        assert_eq!(cidr("0.0.0.0/0"), Ok("0.0.0.0/0".into()));
        assert_eq!(cidr("192.168.1.7/32"), Ok("192.168.1.7/32".into()));
        assert_eq!(cidr("fd00:0::/8"), Ok("fd00::/8".into()));
        assert!(cidr("10.1.2.3/8").unwrap_err().contains("`10.0.0.0/8`"));
        assert!(cidr("10.0.0.1").unwrap_err().contains("10.0.0.1/32"));
        assert!(cidr("10.0.0.0/33").is_err());
        assert!(cidr("10.0.0.0/08").is_err());
        assert!(cidr("10.0.0.0/").is_err());
        assert!(cidr("010.0.0.0/8").is_err());
        assert!(cidr("fd00::/129").is_err());
        assert!(cidr("x/8").is_err());
    }

    #[test]
    fn schedules() {
        for ok in [
            "*/5 * * * *",
            "0 3 * * mon-fri",
            "@daily",
            "15,45 0-6/2 1 JAN *",
            "0 0 * * 7",
        ] {
            assert!(cron_schedule(ok).is_ok(), "{ok}");
        }
        for bad in [
            "* * * *",
            "61 * * * *",
            "@sometimes",
            "* * * * * *",
            "a * * * *",
            "5-1 * * * *",
            "*/0 * * * *",
            "TZ=UTC 0 * * * *",
        ] {
            assert!(cron_schedule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ingress_paths_refuse_regex_characters() {
        assert!(url_path("/api/v1").is_ok());
        assert!(url_path("/a(b)").is_err());
        assert!(url_path("/a+b").is_err());
        assert!(url_path("api").is_err());
        assert!(url_path("/a/../b").is_err());
        assert!(url_path("/a/./b").is_err());
        assert!(url_path("/a%2Fb").is_err());
        assert!(url_path("/v1.2/x").is_ok());
    }
}
