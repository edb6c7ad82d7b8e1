//! Spread independent work over the machine's cores: a batch of specs is built, archived and
//! written this way, and `repo index` reads its archives so. Workers take the next item as they
//! finish one (one shared counter), so a slow spec or archive does not leave the other cores
//! idle behind a fixed split; the results are put back in input order, so the output of a batch
//! does not depend on how it was scheduled.
//!
//! (A thread pool crate would add a dependency for what is, here, one fork and one join per
//! stage; a shared counter is all the scheduling these coarse items need.)

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` applied to every item, on up to `available_parallelism` threads, results in input order.
/// A panic in a worker is re-raised in the caller, as if `f` had run there.
pub fn map<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    map_on(items, cores(), f)
}

/// [`map`] for work that also waits on the disk (each item ends in an fsync): twice as many
/// threads as cores, so a core whose thread waits for its file to reach the disk builds the
/// next item meanwhile.
pub fn map_waiting<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    map_on(items, cores() * 2, f)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn map_on<T, R, F>(items: &[T], threads: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let (f, next) = (&f, &next);
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break mine };
                        mine.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
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
    fn uneven_items_keep_input_order_on_more_threads_than_items_take() {
        // Early items are slow, so later ones finish first on the other threads.
        let items: Vec<u64> = (0..64).collect();
        let slow = |i: &u64| {
            if *i < 4 {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            i + 1
        };
        assert_eq!(map_waiting(&items, slow), (1..=64).collect::<Vec<_>>());
        assert_eq!(map_on(&items, 7, slow), (1..=64).collect::<Vec<_>>());
    }

    #[test]
    fn a_worker_panic_reaches_the_caller() {
        let r = std::panic::catch_unwind(|| map(&[1, 2, 3, 4], |i| assert_ne!(*i, 3)));
        assert!(r.is_err());
    }
}
