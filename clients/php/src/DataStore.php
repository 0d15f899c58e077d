<?php
/**
 * Where SessionHandler keeps the `$_SESSION` payloads. The service holds each session's identity,
 * lifetime and revocation; the payload (PHP's serialized `$_SESSION`) stays with the app, keyed by
 * the service's public session id (never by the token), with the expiry the service reported.
 * FileDataStore is the default; several web servers share a directory, or implement this
 * interface over Redis, PDO, APCu ...
 *
 * Example:
 *     $store = new Sessionkit\FileDataStore('/var/lib/myapp/sessions');
 *     $store->write('s:abc', 'a|i:1;', time() + 1800);
 */
declare(strict_types=1);

namespace Sessionkit;

interface DataStore
{
    /** The payload under $key, or null when absent or past its expiry. */
    public function read(string $key): ?string;

    /** Stores $payload until $expiresAt (Unix seconds); false when it could not be written. */
    public function write(string $key, string $payload, int $expiresAt): bool;

    public function delete(string $key): void;

    /** Deletes every entry past its expiry; the number deleted. */
    public function gc(int $now): int;
}
