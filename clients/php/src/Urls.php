<?php
/**
 * The URLs the client talks to, as they may be shown: without `user:password@`, and with a
 * warning when credentials would travel over plain HTTP to another host.
 *
 * Example:
 *     $shown = Urls::redact('https://app:pw@sessions.example/');   // https://sessions.example/
 *     Urls::warnIfPlainHttp('http://sessions.example', 'the session service');   // E_USER_WARNING
 *
 * @internal
 */
declare(strict_types=1);

namespace Sessionkit;

final class Urls
{
    /** $url without its userinfo (`user:password@`). */
    public static function redact(#[\SensitiveParameter] string $url): string
    {
        return (string) preg_replace('#^([a-z][a-z0-9+.-]*://)[^/?\#@]*@#i', '$1', $url);
    }

    /** $text with the userinfo of $url (and $url's password on its own) taken out. */
    public static function scrub(string $text, #[\SensitiveParameter] string $url): string
    {
        $parts = parse_url($url);
        foreach ([$parts['pass'] ?? null, $parts['user'] ?? null] as $secret) {
            if (is_string($secret) && $secret !== '') {
                $text = str_replace([$secret, rawurldecode($secret)], '[redacted]', $text);
            }
        }
        return $text;
    }

    /**
     * Warns (E_USER_WARNING, once per process and origin) when $url is plain http:// to a host
     * that is not loopback: API keys and session tokens would cross the network readable.
     */
    public static function warnIfPlainHttp(#[\SensitiveParameter] string $url, string $what): void
    {
        static $warned = [];
        $parts = parse_url($url);
        if (!is_array($parts) || strtolower($parts['scheme'] ?? '') !== 'http') {
            return;
        }
        $host = strtolower(trim($parts['host'] ?? '', '[]'));
        if ($host === 'localhost' || str_ends_with($host, '.localhost') || $host === '::1'
            || (filter_var($host, FILTER_VALIDATE_IP, FILTER_FLAG_IPV4) !== false && str_starts_with($host, '127.'))) {
            return;
        }
        $origin = $host . ':' . ($parts['port'] ?? 80);
        if (isset($warned[$origin])) {
            return;
        }
        $warned[$origin] = true;
        trigger_error("sessionkit: $what is plain http:// to $origin, which is not loopback: tokens and API keys "
            . 'cross the network unencrypted; use https:// (or pass allowPlainHttp: true)', E_USER_WARNING);
    }
}
