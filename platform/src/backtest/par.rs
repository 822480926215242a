//! Work spread over the machine's cores: funds of one backtest, pairs of a sweep. Results keep
//! the order of the input, so every sum over them is the same as one thread's.

/// `f` of each item, in order, on up to as many threads as the machine has cores (one when it
/// has one, or when there are too few items to be worth a thread).
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |it| it.get()).min(items.len() / 4).max(1);
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> =
            items.chunks(chunk).map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Vec<R>>())).collect();
        workers.into_iter().flat_map(|it| it.join().expect("a backtest worker panicked")).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_input_order_whatever_the_threads() {
        for len in [0, 1, 3, 4, 9, 100, 1001] {
            let items: Vec<usize> = (0..len).collect();
            assert_eq!(map(&items, |it| it * 2), items.iter().map(|it| it * 2).collect::<Vec<_>>(), "{len}");
        }
    }
}
