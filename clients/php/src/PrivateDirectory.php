<?php
/**
 * A directory only this user can write, for files that decide what the client trusts (the
 * `$_SESSION` payloads PHP unserializes, the JWKS cache). ensure() creates it 0700 if missing,
 * resolves it once (a symlink re-pointed later changes nothing), and refuses one that another
 * user owns, that group or others can write, or that sits below a folder others can write
 * without the sticky bit (they could rename it away and put their own in its place).
 *
 * Example:
 *     $dir = Sessionkit\PrivateDirectory::ensure('/var/lib/myapp/sessions', 'session directory');
 *
 * @internal
 */
declare(strict_types=1);

namespace Sessionkit;

final class PrivateDirectory
{
    /** The real path of $directory, created 0700 when missing; RuntimeException when others could write there. */
    public static function ensure(string $directory, string $what): string
    {
        if (!is_dir($directory) && !@mkdir($directory, 0700, true) && !is_dir($directory)) {
            throw new \RuntimeException("the $what cannot be created: $directory");
        }
        $real = realpath($directory);
        if ($real === false) {
            throw new \RuntimeException("the $what cannot be resolved: $directory");
        }
        clearstatcache();
        $stat = stat($real);
        $owner = self::effectiveUid($real);
        if ($stat === false || ($owner !== null && $stat['uid'] !== $owner)) {
            throw new \RuntimeException("the $what $real belongs to another user: use a directory of your own (mode 0700)");
        }
        if (($stat['mode'] & 0022) !== 0) {
            throw new \RuntimeException(sprintf('the %s %s is writable by group or others (mode %o): chmod 0700 it', $what, $real, $stat['mode'] & 0777));
        }
        for ($parent = dirname($real); ; $parent = dirname($parent)) {
            $mode = (int) (@stat($parent)['mode'] ?? 0);
            if (($mode & 0022) !== 0 && ($mode & 01000) === 0) {
                throw new \RuntimeException("the $what $real is inside $parent, which others can write to: another user could replace it");
            }
            if ($parent === dirname($parent)) {
                break;
            }
        }
        if (!is_writable($real)) {
            throw new \RuntimeException("the $what is not writable: $real");
        }
        return $real;
    }

    /** This process's user id: posix_geteuid(), or without posix the owner of a file it creates there. */
    private static function effectiveUid(string $directory): ?int
    {
        if (function_exists('posix_geteuid')) {
            return posix_geteuid();
        }
        $probe = @tempnam($directory, 'sk_tmp_');
        if ($probe === false) {
            return null; // not writable: ensure() says so
        }
        $uid = @fileowner($probe);
        @unlink($probe);
        return $uid === false ? null : $uid;
    }
}
