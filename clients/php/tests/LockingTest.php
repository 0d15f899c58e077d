<?php
/**
 * Sessionkit\SessionHandler locks a session's payload from session_start() to its close, as PHP's
 * own files handler does (issue 17). The concurrent end-to-end check (php -S with four workers and
 * parallel curl requests) is test/clients/php-sessions.test.ts; these tests pin the lock's edges.
 */
declare(strict_types=1);

use Sessionkit\DataStore;
use Sessionkit\FileDataStore;
use Sessionkit\SessionHandler;
use Sessionkit\SessionLocked;

/** A DataStore in memory with no lock: what a custom store written before issue 17 looks like. */
final class UnlockedMemoryStore implements DataStore
{
    private array $entries = [];
    public function read(string $key): ?string { return $this->entries[$key] ?? null; }
    public function write(string $key, string $payload, int $expiresAt): bool { $this->entries[$key] = $payload; return true; }
    public function delete(string $key): void { unset($this->entries[$key]); }
    public function gc(int $now): int { return 0; }
}

return [
    'a request waits for the session lock a bounded time, then session_start throws SessionLocked' => function (): void {
        $dir = temp_dir();
        $store = new FileDataStore($dir);
        $sid = php_request(null, $store, function (): void { $_SESSION['n'] = 1; });
        $otherRequest = new FileDataStore($dir);
        assert_true($otherRequest->lock('a:' . $sid, 1.0), 'another request holds the session');
        $e = assert_throws(SessionLocked::class, fn () => php_request($sid, $store, function (): void {
            throw new LogicException('the session must not start while another request holds it');
        }, null, ['lockTimeout' => 0.2]));
        assert_same('session_locked', $e->errorCode);
        assert_same(PHP_SESSION_NONE, session_status());
        $otherRequest->unlock('a:' . $sid);
        php_request($sid, $store, function (): void { assert_same(1, $_SESSION['n']); }, null, ['lockTimeout' => 0.2]);
    },
    'the lock is held while the session is open and released when it closes' => function (): void {
        $dir = temp_dir();
        $store = new FileDataStore($dir);
        $otherRequest = new FileDataStore($dir);
        $sid = php_request(null, $store, function () use ($otherRequest): void {
            assert_same(false, $otherRequest->lock('a:' . session_id(), 0.05), 'locked during the request');
        });
        assert_true($otherRequest->lock('a:' . $sid, 0.05), 'free after session_write_close()');
        $otherRequest->unlock('a:' . $sid);
        php_request($sid, $store, function () use ($otherRequest, $sid): void {
            session_abort();
            assert_true($otherRequest->lock('a:' . $sid, 0.05), 'free after session_abort()');
            $otherRequest->unlock('a:' . $sid);
        });
    },
    'a logged-in session is locked under its service session id, also across session_regenerate_id' => function (): void {
        $dir = temp_dir();
        $store = new FileDataStore($dir);
        $sid = php_request(null, $store, function (): void {});
        $session = null;
        $sid = php_request($sid, $store, function (SessionHandler $h) use (&$session): void { $session = $h->login(new_user()); });
        $otherRequest = new FileDataStore($dir);
        php_request($sid, $store, function () use ($otherRequest, $session): void {
            session_regenerate_id(true);
            assert_same(false, $otherRequest->lock('s:' . $session['id'], 0.05), 'still locked after the renewal');
            $_SESSION['renewed'] = true;
        });
        assert_true($otherRequest->lock('s:' . $session['id'], 0.05), 'free once the request closed the session');
    },
    'garbage collection removes the lock files of payloads that are gone, but never a held lock' => function (): void {
        $dir = temp_dir();
        $store = new FileDataStore($dir);
        assert_true($store->lock('a:held', 0.1), 'locked');
        $idle = new FileDataStore($dir);
        assert_true($idle->lock('a:idle', 0.1), 'locked');
        $idle->unlock('a:idle');
        foreach (glob("$dir/sk_lock_*") ?: [] as $file) { touch($file, time() - 7200); }
        $store->gc(time());
        assert_same(1, count(glob("$dir/sk_lock_*") ?: []), 'only the held lock file is left');
        assert_same(false, $idle->lock('a:held', 0.05), 'the held lock still excludes others');
        $store->unlock('a:held');
        assert_true($idle->lock('a:held', 0.05), 'and is free once released');
    },
    'a DataStore that cannot lock is refused unless lost updates are accepted explicitly' => function (): void {
        assert_throws(InvalidArgumentException::class, fn () => new SessionHandler(sk_client(), new UnlockedMemoryStore()), 'LockingDataStore');
        $store = new UnlockedMemoryStore();
        $sid = php_request(null, $store, function (): void { $_SESSION['n'] = 1; }, null, ['locking' => false]);
        php_request($sid, $store, function (): void { assert_same(1, $_SESSION['n']); }, null, ['locking' => false]);
    },
];
