<?php
/**
 * The service's public signing keys (`/.well-known/jwks.json`), cached: in memory for the
 * process, and in a small file so short-lived PHP workers (FPM) do not fetch on every request.
 * An unknown `kid` triggers one refetch (a key rotation reaches verifiers at once), at most once
 * per `minRefetchInterval` so a flood of made-up kids cannot turn into a flood of fetches. If a
 * refresh fails, the keys already held keep verifying; a kid nobody can find is refused. The file
 * is trusted only if this user owns it and nobody else may write it (it decides which keys verify).
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
     * @param string|null|false $cacheFile a file for the keys across processes (default: one in
     *   the temp directory, named by the URL's hash); false: memory only
     */
    public function __construct(
        private readonly string $url,
        private readonly int $ttl = 300,
        private readonly int $minRefetchInterval = 10,
        private readonly float $timeout = 5.0,
        string|null|false $cacheFile = null,
        ?\Closure $clock = null,
    ) {
        if (!preg_match('#^https?://#', $url)) {
            throw new \InvalidArgumentException('the JWKS URL must be http(s)');
        }
        if ($ttl < 1 || $minRefetchInterval < 0) {
            throw new \InvalidArgumentException('ttl must be >= 1 and minRefetchInterval >= 0 seconds');
        }
        $this->cacheFile = $cacheFile === false ? null : ($cacheFile ?? sys_get_temp_dir() . '/sessionkit-jwks-' . substr(hash('sha256', $url), 0, 16) . '.json');
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
        if ($this->keys === null || $now - $this->fetchedAt >= $this->ttl) {
            $this->loadFile($now);
        }
        if ($this->keys === null || $now - $this->fetchedAt >= $this->ttl) {
            $this->refresh($now, $this->keys === null);
        }
        if (!isset($this->keys[$kid]) && $now - $this->lastAttempt >= $this->minRefetchInterval) {
            $this->refresh($now, false);
        }
        return $this->keys[$kid] ?? null;
    }

    private function refresh(int $now, bool $mustSucceed): void
    {
        $this->lastAttempt = $now;
        try {
            $this->keys = $this->fetch();
            $this->fetchedAt = $now;
            $this->saveFile($now);
        } catch (SessionkitException $e) {
            if ($mustSucceed || $this->keys === null) {
                throw $e;
            }
            // keep verifying with the keys we hold; the next miss tries again
        }
    }

    /** @return array<string, array> */
    private function fetch(): array
    {
        $this->fetches++;
        $curl = curl_init($this->url);
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
            throw new ServiceUnavailable($raw === false ? "the JWKS could not be fetched: $error" : "the JWKS answered HTTP $status");
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
        if (!is_array($doc) || !is_int($doc['fetchedAt'] ?? null) || !is_array($doc['jwks'] ?? null) || $doc['fetchedAt'] > $now) {
            return;
        }
        $keys = self::parse((string) json_encode($doc['jwks']));
        if ($keys !== null && $doc['fetchedAt'] >= $this->fetchedAt) {
            $this->keys = $keys;
            $this->fetchedAt = $doc['fetchedAt'];
        }
    }

    private function saveFile(int $now): void
    {
        if ($this->cacheFile === null) {
            return;
        }
        $temp = $this->cacheFile . '.' . bin2hex(random_bytes(6)) . '.tmp';
        $body = json_encode(['fetchedAt' => $now, 'jwks' => ['keys' => array_values($this->keys ?? [])]], JSON_UNESCAPED_SLASHES);
        if (@file_put_contents($temp, (string) $body) === false) {
            return;
        }
        @chmod($temp, 0600);
        if (!@rename($temp, $this->cacheFile)) {
            @unlink($temp);
        }
    }
}
