<?php
/**
 * DataStore on files: one file per session in a private directory (0700), named by the SHA-256
 * of the key, written to a temporary file and renamed (a reader never sees half a payload; the
 * last writer wins, there is no per-request lock as in PHP's own files handler). The first line
 * holds the expiry, so gc() needs no other index.
 *
 * Example:
 *     $store = new Sessionkit\FileDataStore(sys_get_temp_dir() . '/myapp-sessions');
 */
declare(strict_types=1);

namespace Sessionkit;

final class FileDataStore implements DataStore
{
    private const PREFIX = 'sk_sess_';

    /** @param \Closure():int|null $clock Unix seconds (tests move it) */
    public function __construct(private readonly string $directory, private readonly ?\Closure $clock = null)
    {
        if (!is_dir($directory) && !@mkdir($directory, 0700, true) && !is_dir($directory)) {
            throw new \RuntimeException("the session directory cannot be created: $directory");
        }
        if (!is_writable($directory)) {
            throw new \RuntimeException("the session directory is not writable: $directory");
        }
    }

    public function read(string $key): ?string
    {
        $raw = @file_get_contents($this->path($key));
        if ($raw === false) {
            return null;
        }
        [$expiresAt, $payload] = self::split($raw);
        if ($expiresAt === null || $expiresAt <= $this->now()) {
            @unlink($this->path($key));
            return null;
        }
        return $payload;
    }

    public function write(string $key, string $payload, int $expiresAt): bool
    {
        $target = $this->path($key);
        $temp = $target . '.' . bin2hex(random_bytes(6)) . '.tmp';
        if (@file_put_contents($temp, $expiresAt . "\n" . $payload) === false) {
            return false;
        }
        @chmod($temp, 0600);
        if (!@rename($temp, $target)) {
            @unlink($temp);
            return false;
        }
        return true;
    }

    public function delete(string $key): void
    {
        @unlink($this->path($key));
    }

    public function gc(int $now): int
    {
        $deleted = 0;
        foreach (glob($this->directory . '/' . self::PREFIX . '*') ?: [] as $file) {
            $handle = @fopen($file, 'rb');
            if ($handle === false) {
                continue;
            }
            $first = fgets($handle, 32);
            fclose($handle);
            $expiresAt = $first !== false && ctype_digit(trim($first)) ? (int) trim($first) : 0;
            // Leftover temporary files of a crashed write go too, once they are an hour old.
            $stale = str_ends_with($file, '.tmp') && (int) @filemtime($file) < $now - 3600;
            if (($expiresAt <= $now && !str_ends_with($file, '.tmp')) || $stale) {
                $deleted += @unlink($file) ? 1 : 0;
            }
        }
        return $deleted;
    }

    private function path(string $key): string
    {
        return $this->directory . '/' . self::PREFIX . hash('sha256', $key);
    }

    private function now(): int
    {
        return $this->clock !== null ? ($this->clock)() : time();
    }

    /** @return array{0: ?int, 1: string} */
    private static function split(string $raw): array
    {
        $newline = strpos($raw, "\n");
        if ($newline === false || !ctype_digit(substr($raw, 0, $newline))) {
            return [null, ''];
        }
        return [(int) substr($raw, 0, $newline), substr($raw, $newline + 1)];
    }
}
