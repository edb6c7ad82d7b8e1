//! Cron jobs' `time_zone`: the API server refuses a CronJob whose `timeZone` its Go runtime cannot
//! load (`time.LoadLocation`), so a misspelt name (`Europe/Berlim`) would pass packaging and fail
//! at install. The names are those of the IANA database as chrono-tz ships it (canonical names and
//! the backward links Go also loads: `Etc/UTC`, `UTC`, `US/Pacific`); Kubernetes also refuses
//! `Local`, which is no name at all but "wherever the controller runs".

use chrono_tz::TZ_VARIANTS;

/// `Ok` for a name the API server accepts, else the reason, with the closest valid name.
pub fn check(tz: &str) -> Result<(), String> {
    if tz.eq_ignore_ascii_case("local") {
        return Err("`Local` is the controller's own zone, which Kubernetes refuses; name the zone, e.g. Etc/UTC or Europe/Paris".into());
    }
    if TZ_VARIANTS.iter().any(|z| z.name() == tz) {
        return Ok(());
    }
    let shown = crate::diag::printable(tz);
    Err(match closest(tz) {
        Some(near) => format!("`{shown}` is not an IANA time zone name: did you mean {near}?"),
        None => format!(
            "`{shown}` is not an IANA time zone name such as Europe/Paris or Etc/UTC (the list: https://en.wikipedia.org/wiki/List_of_tz_database_time_zones)"
        ),
    })
}

/// The valid name nearest to `tz` (letter case ignored), if one is near enough to be meant.
fn closest(tz: &str) -> Option<&'static str> {
    let lower = tz.to_ascii_lowercase();
    TZ_VARIANTS
        .iter()
        .map(|z| {
            let name = z.name();
            (
                strsim::damerau_levenshtein(&lower, &name.to_ascii_lowercase()),
                name,
            )
        })
        .filter(|(dist, name)| *dist <= (name.len() / 4).max(2))
        .min_by_key(|(dist, _)| *dist)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_names_pass_and_misspellings_get_the_nearest_name() {
        for ok in [
            "Europe/Berlin",
            "Etc/UTC",
            "UTC",
            "America/Argentina/Buenos_Aires",
            "US/Pacific",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        let e = check("Europe/Berlim").unwrap_err();
        assert!(e.contains("did you mean Europe/Berlin?"), "{e}");
        let e = check("europe/paris").unwrap_err();
        assert!(e.contains("did you mean Europe/Paris?"), "{e}");
        assert!(check("Local").unwrap_err().contains("Kubernetes refuses"));
        let e = check("Mars/Olympus Mons").unwrap_err();
        assert!(e.contains("not an IANA time zone name such as"), "{e}");
    }
}
