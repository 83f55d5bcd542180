//! Work on every core for the parts of a build that are independent per item (reading 100,000 endpoints,
//! deriving 100,000 lines): the items are cut into one chunk per core, each chunk is worked on by a scoped
//! thread, and the results come back in the items' order, so the outcome is the one a single thread gives.
//! Small inputs stay on the calling thread.

use std::num::NonZeroUsize;

/// Fewer items than this are not worth a thread.
const MIN_PARALLEL: usize = 4096;

/// Off switch for tests that compare the parallel result with the one-thread one.
#[cfg(test)]
pub(crate) static SEQUENTIAL: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// `work` on consecutive chunks of `items` (one per core, or one chunk when there are few items), the
/// results in the chunks' order. A panic in `work` is raised again on the calling thread.
pub(crate) fn map_chunks<T, R, F>(items: &[T], work: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&[T]) -> R + Sync,
{
    let threads = std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(8);
    #[cfg(test)]
    let threads = if SEQUENTIAL.load(std::sync::atomic::Ordering::Relaxed) {
        1
    } else {
        threads
    };
    if threads < 2 || items.len() < MIN_PARALLEL {
        return vec![work(items)];
    }
    let size = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = items
            .chunks(size)
            .map(|chunk| scope.spawn(move || work(chunk)))
            .collect();
        handles
            .into_iter()
            .map(|handle| match handle.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// `first` on a thread of its own while `second` runs on the calling thread (or both on the calling
/// thread, one after the other, on one core); both results. A panic in either is raised again here.
pub(crate) fn beside<A, B>(first: impl FnOnce() -> A + Send, second: impl FnOnce() -> B) -> (A, B)
where
    A: Send,
{
    let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    #[cfg(test)]
    let threads = if SEQUENTIAL.load(std::sync::atomic::Ordering::Relaxed) {
        1
    } else {
        threads
    };
    if threads < 2 {
        return (first(), second());
    }
    std::thread::scope(|scope| {
        let handle = scope.spawn(first);
        let b = second();
        match handle.join() {
            Ok(a) => (a, b),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_whatever_the_size() {
        for len in [
            0,
            1,
            10,
            MIN_PARALLEL - 1,
            MIN_PARALLEL,
            3 * MIN_PARALLEL + 7,
        ] {
            let items: Vec<usize> = (0..len).collect();
            let parts = map_chunks(&items, |chunk| chunk.to_vec());
            let joined: Vec<usize> = parts.into_iter().flatten().collect();
            assert_eq!(joined, items, "{len}");
        }
    }

    #[test]
    fn beside_gives_both_results_and_raises_a_panic_of_either() {
        let items = [1, 2, 3];
        let mut seen = Vec::new();
        let (sum, len) = beside(
            || items.iter().sum::<i32>(),
            || {
                seen.extend(items);
                seen.len()
            },
        );
        assert_eq!((sum, len), (6, 3));
        let first = std::panic::catch_unwind(|| beside(|| panic!("first"), || 1));
        assert!(first.is_err());
        let second = std::panic::catch_unwind(|| beside(|| 1, || panic!("second")));
        assert!(second.is_err());
    }
}
