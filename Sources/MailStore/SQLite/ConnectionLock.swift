#if canImport(Glibc)
import Glibc
#endif

/// A plain mutual-exclusion lock for a connection opened with `SQLITE_OPEN_NOMUTEX`.
///
/// `Synchronization.Mutex` wants its protected value and results to be `sending`, which a
/// non-Sendable SQLite connection and generic query results cannot promise; the lock only
/// has to order calls, so a pthread mutex does the job without unsafe casts at each call.
final class ConnectionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// The thread holding the lock, to turn a re-entrant call (a store method called from
    /// inside a transaction body) into a clear trap instead of a silent deadlock.
    private var owner: pthread_t?

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        if let owner, pthread_equal(owner, pthread_self()) != 0 {
            preconditionFailure("DirectoryStore used from inside one of its own transactions")
        }
        pthread_mutex_lock(mutex)
        owner = pthread_self()
        defer {
            owner = nil
            pthread_mutex_unlock(mutex)
        }
        return try body()
    }
}
