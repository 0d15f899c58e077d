<?php
/**
 * A DataStore that can lock one entry for the length of a request, as PHP's own files handler
 * locks a session: SessionHandler takes the lock of the session's payload before it reads it and
 * releases it when the session closes, so concurrent requests of one session take turns and
 * none of their writes is lost. The lock waits a bounded time (SessionHandler's `lockTimeout`).
 * FileDataStore implements it with flock(); a store over Redis or PDO can use SET NX with an
 * expiry or SELECT ... FOR UPDATE.
 *
 * Example:
 *     if (!$store->lock('s:abc', 10.0)) { throw new Sessionkit\SessionLocked('...'); }
 *     try { $store->write('s:abc', $payload, $expiresAt); } finally { $store->unlock('s:abc'); }
 */
declare(strict_types=1);

namespace Sessionkit;

interface LockingDataStore extends DataStore
{
    /**
     * Takes the exclusive lock of $key, waiting at most $timeout seconds; false when another
     * holder kept it that long. Taking a lock this store already holds succeeds at once.
     */
    public function lock(string $key, float $timeout): bool;

    /** Releases the lock of $key (nothing happens when it is not held). */
    public function unlock(string $key): void;
}
