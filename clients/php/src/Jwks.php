<?php
/**
 * The service's public signing keys (`/.well-known/jwks.json`), cached: in memory for the
 * process, and in a small file so short-lived PHP workers (FPM) do not fetch on every request.
 * An unknown `kid` triggers one refetch (a key rotation reaches verifiers at once), at most once
 * per `minRefetchInterval` across all the processes sharing the file, so a flood of made-up kids
 * cannot turn into a flood of fetches: the time of the last attempt is kept in the file, and a
 * process fetches only while holding the file's lock (`<file>.lock`), after re-reading what
 * another process may have fetched meanwhile. If a refresh fails, the keys already held keep
 * verifying; a kid nobody can find is refused. The file is trusted only if this user owns it and
 * nobody else may write it (it decides which keys verify); by default it lives in a private
 * directory of this user under the temp folder (`sessionkit-<uid>`, 0700, checked).
 *
 * Example:
 *     $jwks = new Sessionkit\Jwks('http://127.0.0.1:8080/.well-known/jwks.json');
 *     $jwk = $jwks->key($kid);       // array or null
 */
declare(strict_types=1);

namespace Sessionkit;

final class Jwks
{
    /** @var array<string, array>|null */
    private ?array $keys = null;
    private int $fetchedAt = 0;
    private int $lastAttempt = PHP_INT_MIN;
    private int $fetches = 0;
    private readonly ?string $cacheFile;
    /** @var \Closure(): int */
    private readonly \Closure $clock;

    /**
     * @param string|null|false $cacheFile a file for the keys and the refetch limit across
     *   processes (default: `<temp>/sessionkit-<uid>/jwks-<hash of the URL>.json`); false:
     *   memory only (the limit then holds per process)
     */
    /** The URL as it may be shown: without `user:password@` (the real one is Hidden). */
    private readonly string $url;

    /**
     * @param bool $allowPlainHttp no warning for http:// to a host that is not loopback
     */
    public function __construct(
        #[\SensitiveParameter] string $url,
        private readonly int $ttl = 300,
        private readonly int $minRefetchInterval = 10,
        private readonly float $timeout = 5.0,
        string|null|false $cacheFile = null,
        ?\Closure $clock = null,
        bool $allowPlainHttp = false,
    ) {
        if (!preg_match('#^https?://#', $url)) {
            throw new \InvalidArgumentException('the JWKS URL must be http(s)');
        }
        if (!$allowPlainHttp) {
            Urls::warnIfPlainHttp($url, 'the JWKS URL');
        }
        $this->url = Urls::redact($url);
        Hidden::set($this, $url);
        if ($ttl < 1 || $minRefetchInterval < 0) {
            throw new \InvalidArgumentException('ttl must be >= 1 and minRefetchInterval >= 0 seconds');
        }
        $this->cacheFile = $cacheFile === false ? null : ($cacheFile ?? self::defaultCacheFile($url));
        $this->clock = $clock ?? static fn (): int => time();
    }

    /** The JWKS of a service base URL. */
    public static function forService(string $baseUrl, mixed ...$options): self
    {
        return new self(rtrim($baseUrl, '/') . '/.well-known/jwks.json', ...$options);
    }

    /** How many times the keys were fetched over HTTP (for tests and metrics). */
    public function fetches(): int
    {
        return $this->fetches;
    }

    /** The JWK with this kid, fetching (or refetching once) when needed; null if none. */
    public function key(string $kid): ?array
    {
        $now = ($this->clock)();
        if ($this->keys === null || $now - $this->fetchedAt >= $this->ttl || !isset($this->keys[$kid])) {
            $this->loadFile($now);
        }
        if ($this->needsFetch($now, $kid)) {
            $this->refresh($now, $kid);
        }
        return $this->keys[$kid] ?? null;
    }

    /** No keys at all; or stale keys or a missing kid, and no attempt (by any process) within minRefetchInterval. */
    private function needsFetch(int $now, string $kid): bool
    {
        if ($this->keys === null) {
            return true;
        }
        $stale = $now - $this->fetchedAt >= $this->ttl;
        return ($stale || !isset($this->keys[$kid])) && $now - $this->lastAttempt >= $this->minRefetchInterval;
    }

    /** One fetch, under the file's lock so processes take turns and see each other's attempts. */
    private function refresh(int $now, string $kid): void
    {
        $lock = $this->lock();
        try {
            if ($lock !== null) {
                $this->loadFile($now); // another process may have fetched while we waited
                if (!$this->needsFetch($now, $kid)) {
                    return;
                }
            } elseif ($this->cacheFile !== null && $this->keys !== null) {
                return; // another process has been fetching for longer than a fetch may take
            }
            $this->lastAttempt = $now;
            try {
                $this->keys = $this->fetch();
                $this->fetchedAt = $now;
            } catch (SessionkitException $e) {
                if ($this->keys === null) {
                    throw $e;
                }
                // keep verifying with the keys we hold; the next miss after the interval tries again
            } finally {
                $this->saveFile();
            }
        } finally {
            if ($lock !== null) {
                flock($lock, LOCK_UN);
                fclose($lock);
            }
        }
    }

    /** @return resource|null the cache file's lock, waiting at most one fetch's time; null without a file cache or in time */
    private function lock()
    {
        if ($this->cacheFile === null) {
            return null;
        }
        $handle = @fopen($this->cacheFile . '.lock', 'c');
        if ($handle === false) {
            return null;
        }
        $deadline = hrtime(true) + (int) (($this->timeout + 1.0) * 1e9);
        while (!flock($handle, LOCK_EX | LOCK_NB)) {
            if (hrtime(true) >= $deadline) {
                fclose($handle);
                return null;
            }
            usleep(5_000);
        }
        return $handle;
    }

    private static function defaultCacheFile(string $url): string
    {
        $uid = function_exists('posix_geteuid') ? posix_geteuid() : getmyuid();
        try {
            $dir = PrivateDirectory::ensure(sys_get_temp_dir() . '/sessionkit-' . $uid, 'JWKS cache directory');
        } catch (\RuntimeException $e) {
            throw new \RuntimeException($e->getMessage() . ' (or pass Jwks cacheFile: a path of your own, or false)', 0, $e);
        }
        return $dir . '/jwks-' . substr(hash('sha256', $url), 0, 16) . '.json';
    }

    /** @return array<string, array> */
    private function fetch(): array
    {
        $this->fetches++;
        $url = (string) Hidden::get($this);
        $curl = curl_init($url);
        $ms = (int) ceil($this->timeout * 1000);
        curl_setopt_array($curl, [
            CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT_MS => $ms, CURLOPT_CONNECTTIMEOUT_MS => $ms,
            CURLOPT_NOSIGNAL => true, CURLOPT_FOLLOWLOCATION => false, CURLOPT_PROXY => '',
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS, CURLOPT_HTTPHEADER => ['Accept: application/json'],
        ]);
        $raw = curl_exec($curl);
        $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        $error = curl_error($curl);
        curl_close($curl);
        if ($raw === false || $status !== 200) {
            throw new ServiceUnavailable(Urls::scrub($raw === false ? "the JWKS could not be fetched: $error" : "the JWKS answered HTTP $status", $url));
        }
        $keys = self::parse((string) $raw);
        if ($keys === null) {
            throw new ServiceUnavailable('the JWKS is not a JSON key set');
        }
        return $keys;
    }

    /** @return array<string, array>|null keys by kid; keys without a kid are of no use here */
    private static function parse(string $raw): ?array
    {
        $doc = json_decode($raw, true);
        if (!is_array($doc) || !isset($doc['keys']) || !is_array($doc['keys'])) {
            return null;
        }
        $keys = [];
        foreach ($doc['keys'] as $jwk) {
            if (is_array($jwk) && isset($jwk['kid']) && is_string($jwk['kid']) && !isset($jwk['d'])) {
                $keys[$jwk['kid']] = $jwk;
            }
        }
        return $keys;
    }

    private function loadFile(int $now): void
    {
        if ($this->cacheFile === null) {
            return;
        }
        // The file decides which keys are trusted: only one this user owns and nobody else can write.
        clearstatcache(true, $this->cacheFile);
        $stat = @stat($this->cacheFile);
        if ($stat === false || ($stat['mode'] & 0022) !== 0 || (function_exists('posix_geteuid') && $stat['uid'] !== posix_geteuid())) {
            return;
        }
        $raw = @file_get_contents($this->cacheFile);
        $doc = $raw === false ? null : json_decode($raw, true);
        if (!is_array($doc)) {
            return;
        }
        // The last attempt of any process sharing the file: the refetch limit holds across them.
        $attempt = $doc['lastAttempt'] ?? null;
        if (is_int($attempt) && $attempt <= $now && $attempt > $this->lastAttempt) {
            $this->lastAttempt = $attempt;
        }
        if (!is_int($doc['fetchedAt'] ?? null) || !is_array($doc['jwks'] ?? null) || $doc['fetchedAt'] > $now) {
            return;
        }
        $keys = self::parse((string) json_encode($doc['jwks']));
        if ($keys !== null && ($this->keys === null || $doc['fetchedAt'] >= $this->fetchedAt)) {
            $this->keys = $keys;
            $this->fetchedAt = $doc['fetchedAt'];
        }
    }

    private function saveFile(): void
    {
        if ($this->cacheFile === null) {
            return;
        }
        $body = (string) json_encode([
            'fetchedAt' => $this->fetchedAt, 'lastAttempt' => $this->lastAttempt,
            'jwks' => $this->keys === null ? null : ['keys' => array_values($this->keys)],
        ], JSON_UNESCAPED_SLASHES);
        // tempnam() creates the file 0600 (mkstemp) before the keys go in.
        $temp = @tempnam(dirname($this->cacheFile), 'sk_tmp_');
        if ($temp === false || realpath(dirname($temp)) !== realpath(dirname($this->cacheFile))) {
            if ($temp !== false) {
                @unlink($temp);
            }
            return;
        }
        if (@file_put_contents($temp, $body) !== strlen($body) || !@rename($temp, $this->cacheFile)) {
            @unlink($temp);
        }
    }
}
