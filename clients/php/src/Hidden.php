<?php
/**
 * Values an object needs but must never show (API keys, tokens, URL passwords): kept in a static
 * WeakMap keyed by the object, so var_export(), print_r(), var_dump(), `(array)` casts,
 * serialize() and json_encode() of the object cannot reach them, and they go with the object.
 *
 * Example:
 *     Hidden::set($this, ['apiKey' => $apiKey]);
 *     $apiKey = Hidden::get($this)['apiKey'];
 *
 * @internal
 */
declare(strict_types=1);

namespace Sessionkit;

final class Hidden
{
    private static ?\WeakMap $values = null;

    public static function set(object $owner, #[\SensitiveParameter] mixed $value): void
    {
        self::$values ??= new \WeakMap();
        self::$values[$owner] = $value;
    }

    public static function get(object $owner): mixed
    {
        return self::$values !== null && isset(self::$values[$owner]) ? self::$values[$owner] : null;
    }
}
