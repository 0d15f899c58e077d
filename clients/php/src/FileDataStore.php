<?php
/**
 * DataStore on files: one file per session in a private directory (0700), named by the SHA-256
 * of the key, written to a temporary file and renamed (a reader never sees half a payload). The
 * first line holds the expiry, so gc() needs no other index. lock() takes an flock() on a lock
 * file beside the payload (`sk_lock_<hash>`), as PHP's own files handler locks the session
 * file: SessionHandler holds it from read to close, so concurrent requests of one session take
 * turns. Several web servers can share the directory when their file system honours flock().
 *
 * The directory decides whose `$_SESSION` PHP unserializes, so it must be this user's alone: it
 * is created 0700, and one that another user owns, that group or others can write, or that sits
 * below a folder others can write without the sticky bit is refused. Every file is created 0600
 * (tempnam(), i.e. mkstemp) before any data goes in. Keep it out of shared temporary folders.
 *
 * Example:
 *     $store = new Sessionkit\FileDataStore('/var/lib/myapp/sessions');
 */
declare(strict_types=1);

namespace Sessionkit;

final class FileDataStore implements LockingDataStore
{
    private const PREFIX = 'sk_sess_';
    private const LOCK_PREFIX = 'sk_lock_';
    private const TEMP_PREFIX = 'sk_tmp_';

    /** @var array<string, resource> the lock files this store holds, by key */
    private array $locks = [];

    private readonly string $directory;

    /** @param \Closure():int|null $clock Unix seconds (tests move it) */
    public function __construct(string $directory, private readonly ?\Closure $clock = null)
    {
        $this->directory = PrivateDirectory::ensure($directory, 'session directory');
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
        try {
            $temp = $this->privateTempFile();
        } catch (\RuntimeException) {
            return false;
        }
        $body = $expiresAt . "\n" . $payload;
        if (@file_put_contents($temp, $body) !== strlen($body) || !@rename($temp, $target)) {
            @unlink($temp);
            return false;
        }
        return true;
    }

    public function delete(string $key): void
    {
        @unlink($this->path($key));
    }

    public function lock(string $key, float $timeout): bool
    {
        if (isset($this->locks[$key])) {
            return true;
        }
        $path = $this->lockPath($key);
        $deadline = hrtime(true) + (int) (max(0.0, $timeout) * 1e9);
        $pause = 1000;
        for (;;) {
            $handle = $this->openLockFile($path);
            if (flock($handle, LOCK_EX | LOCK_NB)) {
                // gc() may have removed the file between our open and our lock: a lock on a
                // file no longer at $path excludes nobody, so take the one that is there now.
                if (self::isFileAt($handle, $path)) {
                    $this->locks[$key] = $handle;
                    return true;
                }
                flock($handle, LOCK_UN);
                fclose($handle);
                continue;
            }
            fclose($handle);
            if (hrtime(true) >= $deadline) {
                return false;
            }
            usleep($pause);
            $pause = min($pause * 2, 50_000);
        }
    }

    public function unlock(string $key): void
    {
        if (isset($this->locks[$key])) {
            flock($this->locks[$key], LOCK_UN);
            fclose($this->locks[$key]);
            unset($this->locks[$key]);
        }
    }

    public function gc(int $now): int
    {
        $this->gcLocks();
        $deleted = 0;
        foreach (glob($this->directory . '/' . self::PREFIX . '*') ?: [] as $file) {
            $handle = @fopen($file, 'rb');
            if ($handle === false) {
                continue;
            }
            $first = fgets($handle, 32);
            fclose($handle);
            $expiresAt = $first !== false && ctype_digit(trim($first)) ? (int) trim($first) : 0;
            // Leftover temporary files of a crashed write (of older versions) go too, once they are an hour old.
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

    private function lockPath(string $key): string
    {
        return $this->directory . '/' . self::LOCK_PREFIX . hash('sha256', $key);
    }

    /** @return resource the lock file, created 0600 (through a private temporary file and link()) if missing */
    private function openLockFile(string $path)
    {
        if (!file_exists($path)) {
            $temp = $this->privateTempFile();
            @link($temp, $path); // fails harmlessly when another process created it first
            @unlink($temp);
        }
        $handle = @fopen($path, 'rb');
        if ($handle === false) {
            throw new \RuntimeException('the session lock file cannot be opened in ' . $this->directory);
        }
        return $handle;
    }

    /** A new empty file in the directory, mode 0600 from its creation (tempnam uses mkstemp). */
    private function privateTempFile(): string
    {
        $temp = @tempnam($this->directory, self::TEMP_PREFIX);
        if ($temp === false || dirname($temp) !== $this->directory) {
            if ($temp !== false) {
                @unlink($temp);
            }
            throw new \RuntimeException('cannot create a file in the session directory ' . $this->directory);
        }
        return $temp;
    }

    /** @param resource $handle */
    private static function isFileAt($handle, string $path): bool
    {
        $held = fstat($handle);
        clearstatcache(true, $path);
        $there = @stat($path);
        return $held !== false && $there !== false && $held['ino'] === $there['ino'] && $held['dev'] === $there['dev'];
    }

    /** Removes lock files of payloads that are gone, an hour after their last use, while holding them. */
    private function gcLocks(): void
    {
        clearstatcache();
        foreach (glob($this->directory . '/' . self::TEMP_PREFIX . '*') ?: [] as $file) {
            if ((int) @filemtime($file) < time() - 3600) {
                @unlink($file); // a write that crashed between tempnam() and rename()
            }
        }
        foreach (glob($this->directory . '/' . self::LOCK_PREFIX . '*') ?: [] as $file) {
            $payload = $this->directory . '/' . self::PREFIX . substr(basename($file), strlen(self::LOCK_PREFIX));
            if (file_exists($payload) || (int) @filemtime($file) >= time() - 3600) {
                continue;
            }
            $handle = @fopen($file, 'rb');
            if ($handle === false) {
                continue;
            }
            if (flock($handle, LOCK_EX | LOCK_NB)) {
                @unlink($file);
                flock($handle, LOCK_UN);
            }
            fclose($handle);
        }
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
