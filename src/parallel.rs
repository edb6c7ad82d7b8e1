//! Spread independent work over the machine's cores: a batch of specs is built, archived and
//! written this way. Scoped threads over contiguous chunks keep the results in input order, so
//! the output of a batch does not depend on how it was scheduled.
//!
//! (A thread pool crate would add a dependency for what is, here, one fork and one join per
//! stage; the stages are coarse enough that a fixed split costs nothing measurable.)

/// `f` applied to every item, on up to `available_parallelism` threads, results in input order.
/// A panic in a worker is re-raised in the caller, as if `f` had run there.
pub fn map<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let workers: Vec<_> = items
            .chunks(per)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_input_order_and_covers_every_item() {
        let items: Vec<u32> = (0..1001).collect();
        let out = map(&items, |i| i * 2);
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert!(map(&[] as &[u32], |i| *i).is_empty());
    }

    #[test]
    fn a_worker_panic_reaches_the_caller() {
        let r = std::panic::catch_unwind(|| map(&[1, 2, 3, 4], |i| assert_ne!(*i, 3)));
        assert!(r.is_err());
    }
}
